"""Serving an emulator for real: uvicorn in a thread (`running`) or in the foreground (`serve`)."""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import uvicorn

from inferencesh.local._emulator import Emulator
from inferencesh.local.core._streams import deliberate_cut

if TYPE_CHECKING:
    from inferencesh._async.client import AsyncInference
    from inferencesh._sync.client import Inference

__all__ = ["RunningServer", "running", "serve"]

_INCOMPLETE = "ASGI callable returned without completing response"


# A query parameter whose name says it grants access: upload URLs carry `token=`.
_SECRET_PARAM = re.compile(
    r"([?&][^=&#\s]*(?:token|key|secret|signature|password)[^=&#\s]*=)[^&#\s]*", re.IGNORECASE
)


def redact(text: str) -> str:
    """`text` with the values of secret-looking query parameters replaced by `[redacted]`."""
    return _SECRET_PARAM.sub(r"\1[redacted]", text)


class _CutFilter(logging.Filter):
    """Drops uvicorn's error log for a stream the emulator broke on purpose (fault injection)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (deliberate_cut.get() and record.getMessage().startswith(_INCOMPLETE))


class _RedactFilter(logging.Filter):
    """Keeps upload tokens (and any key or secret in a query) out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def _install_filters() -> None:
    """Our filters on uvicorn's loggers (once; after uvicorn configured its logging)."""
    for name, kind in (("uvicorn.error", _CutFilter), ("uvicorn.access", _RedactFilter)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


class _Server(uvicorn.Server):
    """A uvicorn server that says when it accepts connections and ends streams to stop.

    Open streams never end by themselves (heartbeats keep them alive), and uvicorn waits
    for every response before it exits: `on_shutdown` ends them first.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        on_ready: Callable[[], None],
        on_shutdown: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(config)
        self._on_ready = on_ready
        self._on_shutdown = on_shutdown

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self._on_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()
        await super().shutdown(sockets=sockets)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle off only on sockets that say they are TCP,
    # and with Nagle on every response pays a 40 ms delayed-ACK stall.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class RunningServer:
    """An emulator served on a real socket by `running()`."""

    def __init__(self, emulator: Emulator, base_url: str) -> None:
        self.emulator = emulator
        """The emulator behind the server (register apps, arm faults, inspect tasks)."""
        self.base_url = base_url
        """`http://127.0.0.1:<port>`: pass it as the client's `base_url`."""

    @property
    def api_key(self) -> str:
        """A key the server accepts."""
        return self.emulator.api_key or "sk-local-any"

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        return self.base_url + path

    def client(self, **kwargs: Any) -> Inference:
        """A sync client of this server: `inference(base_url=..., api_key=..., **kwargs)`.

        `kwargs` may override the key (say, a wrong one) and set any client option.
        """
        from inferencesh import inference

        kwargs.setdefault("api_key", self.api_key)
        return inference(base_url=self.base_url, **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncInference:
        """An async client of this server (`async_inference(...)`)."""
        from inferencesh import async_inference

        kwargs.setdefault("api_key", self.api_key)
        return async_inference(base_url=self.base_url, **kwargs)

    def __repr__(self) -> str:
        return f"RunningServer({self.base_url!r})"


@contextmanager
def running(
    emulator: Emulator | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    startup_timeout: float = 10.0,
) -> Generator[RunningServer]:
    """Serve `emulator` with uvicorn in a background thread while the block runs.

    The server accepts connections once the block is entered, and is stopped (open streams
    ended first) when it exits. An emulator created here (`emulator=None`) is closed too.

    Example:
        ```python
        with running(Emulator()) as server, server.client() as client:
            task = client.run("infsh/text-templating", {"template": "Hi {1}", "strings": ["x"]})
        ```

    Args:
        emulator: What to serve; a new `Emulator()` if None.
        host: Interface to listen on.
        port: Port to listen on; 0 picks a free one (see `server.base_url`).
        log_level: uvicorn's log level.
        startup_timeout: Seconds to wait for the server to start.

    Raises:
        RuntimeError: the server did not start.
    """
    emu = emulator if emulator is not None else Emulator()
    sock = _bind(host, port)
    ready = threading.Event()
    config = uvicorn.Config(
        emu.asgi_app(),
        log_level=log_level,
        log_config=None,  # leave the process's logging configuration alone
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = _Server(config, ready.set, emu.end_streams)
    _install_filters()

    def main() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            ready.set()  # wakes the starter if startup failed

    thread = threading.Thread(target=main, name=f"inferencesh-emulator-{_url(host, sock)}")
    thread.daemon = True
    thread.start()
    try:
        if not ready.wait(startup_timeout) or not server.started:
            raise RuntimeError(f"the emulator server did not start on {_url(host, sock)}")
        yield RunningServer(emu, _url(host, sock))
    finally:
        server.should_exit = True  # the server ends open streams first (end_streams)
        thread.join(timeout=10)
        sock.close()
        if emulator is None:
            emu.close()


def serve(
    host: str = "127.0.0.1",
    port: int = 8787,
    *,
    api_key: str | None = None,
    emulator: Emulator | None = None,
    log_level: str = "info",
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve an emulator in the foreground until Ctrl+C, then return. For `inferencesh serve`.

    Args:
        host: Interface to listen on.
        port: Port to listen on (0 picks a free one).
        api_key: The key clients must send; defaults to the emulator's (`sk-local-test`).
        emulator: What to serve; a new `Emulator()` if None.
        log_level: uvicorn's log level.
        announce: Called with the startup message (base URL and key) once listening;
            by default it is printed.
    """
    emu = emulator if emulator is not None else Emulator()
    if api_key is not None:
        emu.api_key = api_key
    sock = _bind(host, port)
    base_url = _url(host, sock)

    def ready() -> None:
        key = emu.api_key
        lines = [
            f"inference.sh emulator listening on {base_url}",
            f"  INFERENCE_BASE_URL={base_url}",
            f"  INFERENCE_API_KEY={key}" if key else "  (no API key required)",
        ]
        (announce or _print)("\n".join(lines))

    config = uvicorn.Config(
        emu.asgi_app(), log_level=log_level, lifespan="off", timeout_graceful_shutdown=2
    )
    _install_filters()
    try:
        _Server(config, ready, emu.end_streams).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl+C after shutting down gracefully; that is a normal exit
    finally:
        sock.close()
        emu.close()


def _print(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - the CLI's startup banner
