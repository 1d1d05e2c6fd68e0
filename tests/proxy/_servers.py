"""Real servers for the proxy's tests: ASGI apps under uvicorn and WSGI apps under wsgiref (in
threads), gunicorn (a subprocess), a canary that counts every connection it gets, and an
upstream that records what reached it."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import uvicorn

REPO = Path(__file__).resolve().parents[2]


def _bind(host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.set_inheritable(True)
    return sock


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with contextlib.closing(_bind()) as sock:
        return int(sock.getsockname()[1])


class _Uvicorn(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self._ready.set()


@contextlib.contextmanager
def serve_asgi(app: Any, *, lifespan: str = "on") -> Iterator[str]:
    """Serve `app` with uvicorn in a thread; yields `http://127.0.0.1:<port>`."""
    sock = _bind()
    ready = threading.Event()
    config = uvicorn.Config(
        app, log_level="warning", log_config=None, lifespan=lifespan, access_log=False
    )
    server = _Uvicorn(config, ready)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not ready.wait(10) or not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextlib.contextmanager
def serve_wsgi(app: Callable[..., Any]) -> Iterator[str]:
    """Serve `app` with the standard library's wsgiref server, one thread per request."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@contextlib.contextmanager
def serve_gunicorn(app: str, env: Mapping[str, str], *options: str) -> Iterator[str]:
    """Serve the WSGI app `module:name` with gunicorn (threaded workers) in a subprocess.

    The listening socket is bound here and handed over, so the URL is known before gunicorn
    starts and connections wait in the backlog until it accepts them.
    """
    sock = _bind()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted ones
    sock.listen(128)
    fd = sock.fileno()
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"fd://{fd}",
        "--worker-class",
        "gthread",
        "--threads",
        "8",
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--graceful-timeout",
        "2",
        *options,
        app,
    ]
    proc = subprocess.Popen(
        argv, cwd=REPO, env={**os.environ, **env}, pass_fds=(fd,), stdin=subprocess.DEVNULL
    )
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        sock.close()


class _CanaryHandler(socketserver.BaseRequestHandler):
    server: _CanaryServer

    def handle(self) -> None:
        with self.server.owner.lock:
            self.server.owner.hits += 1
        with contextlib.suppress(OSError):
            self.request.settimeout(2)
            self.request.recv(65536)
            self.request.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\ncanary")


class _CanaryServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: Canary


class _CanaryServer6(_CanaryServer):
    address_family = socket.AF_INET6


class Canary:
    """Listens on 127.0.0.1 (and ::1 on the same port when it can) and counts connections.

    Any connection at all means a request the proxy should have refused got out.
    """

    def __init__(self) -> None:
        self.hits = 0
        self.lock = threading.Lock()
        self._servers: list[_CanaryServer] = []
        first = _CanaryServer(("127.0.0.1", 0), _CanaryHandler)
        self.port = int(first.server_address[1])
        self._servers.append(first)
        with contextlib.suppress(OSError):
            self._servers.append(_CanaryServer6(("::1", self.port), _CanaryHandler))
        for server in self._servers:
            server.owner = self
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            ).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()


class _KeepAliveHandler(socketserver.BaseRequestHandler):
    server: _KeepAliveServer

    def handle(self) -> None:
        owner = self.server.owner
        with owner.lock:
            owner.connections += 1
        buffer = b""
        with contextlib.suppress(OSError):
            self.request.settimeout(5)
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = self.request.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                path = head.split(b" ", 2)[1]
                body = b'{"ok":true}'
                if path.startswith(b"/short"):  # promises more than it sends, then closes
                    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\n"
                    self.request.sendall(head + b"content-length: 100\r\n\r\n" + body)
                    return
                if path.startswith(b"/chunked"):
                    framed = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
                    extra = b"transfer-encoding: chunked\r\n"
                else:
                    framed, extra = body, b"content-length: %d\r\n" % len(body)
                self.request.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + extra
                    + b"\r\n"
                    + framed
                )


class _KeepAliveServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: KeepAlive


class KeepAlive:
    """An HTTP/1.1 upstream that keeps connections open and counts them.

    `GET /chunked...` answers with a chunked body, `GET /short...` with fewer bytes than its
    `Content-Length` (then closes), anything else with a `Content-Length` body.
    """

    def __init__(self) -> None:
        self.connections = 0
        self.lock = threading.Lock()
        self._server = _KeepAliveServer(("127.0.0.1", 0), _KeepAliveHandler)
        self._server.owner = self
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Seen:
    """One request as the recording upstream received it."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def names(self) -> set[str]:
        return {k for k, _ in self.headers}


@dataclass
class Upstream:
    """An ASGI app standing in for the API: records requests; answers by path.

    - `/redirect/<status>?to=<url>`: that redirect.
    - `/status/<code>`: a problem+json error with that status.
    - `/forever`: NDJSON heartbeats every 20 ms until the caller leaves (then `left` is set).
    - anything else: 200 with the request as JSON, plus headers that must not pass the
      proxy (cookies, HSTS, CORS, a hop-by-hop header named in `Connection`).
    """

    seen: list[Seen] = field(default_factory=list[Seen])
    left: threading.Event = field(default_factory=threading.Event)

    def clear(self) -> None:
        self.seen.clear()
        self.left.clear()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["raw_path"].decode() + (
            "?" + scope["query_string"].decode() if scope["query_string"] else ""
        )
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        self.seen.append(Seen(scope["method"], path, headers, body))
        if path.startswith("/redirect/"):
            status = int(path.split("/")[2].split("?")[0])
            to = path.split("to=", 1)[1]
            await _answer(send, status, b"", [(b"location", to.encode())])
        elif path.startswith("/status/"):
            status = int(path.split("/")[2])
            problem = {"type": "about:blank", "title": "Nope", "status": status, "detail": "no"}
            await _answer(
                send,
                status,
                json.dumps(problem).encode(),
                [(b"content-type", b"application/problem+json")],
            )
        elif path.startswith("/forever"):
            await self._forever(receive, send)
        else:
            await _answer(
                send,
                200,
                json.dumps(
                    {"method": scope["method"], "path": path, "body": body.decode("latin-1")}
                ).encode(),
                [
                    (b"content-type", b"application/json"),
                    (b"set-cookie", b"upstream=1; Path=/"),
                    (b"strict-transport-security", b"max-age=63072000"),
                    (b"access-control-allow-origin", b"*"),
                    (b"x-request-id", b"req-123"),
                    (b"x-hop", b"drop me"),
                    (b"connection", b"x-hop"),
                ],
            )

    async def _forever(self, receive: Any, send: Any) -> None:
        import anyio

        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/x-ndjson")],
            }
        )
        async with anyio.create_task_group() as group:

            async def beat() -> None:
                while True:
                    await send(
                        {
                            "type": "http.response.body",
                            "body": b'{"type":"heartbeat"}\n',
                            "more_body": True,
                        }
                    )
                    await anyio.sleep(0.02)

            group.start_soon(beat)
            while (await receive())["type"] != "http.disconnect":
                pass
            self.left.set()
            group.cancel_scope.cancel()


async def _answer(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
