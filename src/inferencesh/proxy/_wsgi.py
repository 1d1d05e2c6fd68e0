"""The proxy as a WSGI app (gunicorn, Flask, Django), and the handler its helpers share."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import anyio
import httpx2

from inferencesh.proxy._core import ProxyCore, logger
from inferencesh.proxy._request import ProxyRefused, ProxyRequest

__all__ = ["Reply", "WsgiProxy"]

_CHUNK = 64 * 1024
StartResponse = Callable[..., Any]


class _Body:
    """The upstream body as a WSGI iterable.

    Servers call `close()` when the response ends or the browser goes away; it closes the
    upstream response.
    """

    def __init__(self, response: httpx2.Response) -> None:
        self._response = response
        self._chunks = response.iter_raw()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except httpx2.TransportError as exc:
            # Raising makes the server drop the connection: a cut stream must not look whole.
            logger.warning("proxy: upstream stream broke off (%s)", type(exc).__name__)
            self.close()
            raise

    def close(self) -> None:
        self._response.close()


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer: status, headers and a body iterable (close it when done)."""

    status: int
    headers: list[tuple[str, str]]
    body: Iterable[bytes]

    @property
    def status_line(self) -> str:
        """`"200 OK"`, as WSGI's `start_response` takes it."""
        try:
            return f"{self.status} {HTTPStatus(self.status).phrase}"
        except ValueError:
            return f"{self.status} Unknown"


class WsgiProxy:
    """A WSGI app that forwards the JS SDK's proxied calls with the server's API key.

    Made by `wsgi_proxy()`. It answers at whatever path it is mounted on; upstream
    connections are pooled in one thread-safe `httpx2.Client`, closed by `close()`.
    """

    def __init__(self, core: ProxyCore) -> None:
        self._core = core
        self._client: httpx2.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx2.Client:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = httpx2.Client(**self._core.client_options())
                client = self._client
        return client

    def close(self) -> None:
        """Close the pooled upstream connections (a later call opens new ones)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        reply = self.handle(
            environ["REQUEST_METHOD"],
            _environ_headers(environ),
            environ.get("QUERY_STRING", ""),
            client=environ.get("REMOTE_ADDR"),
            native=environ,
            read=_environ_reader(environ),
        )
        start_response(reply.status_line, reply.headers)
        return reply.body

    def handle(
        self,
        method: str,
        headers: list[tuple[str, str]],
        query_string: str,
        *,
        client: str | None,
        native: Any,
        read: Callable[[int], bytes],
    ) -> Reply:
        """Forward one call; what frameworks' views use (`read(n)` reads the body)."""
        try:
            request = self._prepare(method, headers, query_string, client, native, read)
        except ProxyRefused as refusal:
            return _refused(refusal, method)
        try:
            response = self._http().send(request, stream=True)
        except httpx2.TransportError as exc:
            return _refused(self._core.transport_error(exc), method)
        try:
            answer = self._core.answer(response.status_code, _decoded(response.headers.raw))
        except ProxyRefused as refusal:
            response.close()
            return _refused(refusal, method)
        return Reply(response.status_code, answer, _Body(response))

    def _prepare(
        self,
        method: str,
        headers: list[tuple[str, str]],
        query_string: str,
        client: str | None,
        native: Any,
        read: Callable[[int], bytes],
    ) -> httpx2.Request:
        core = self._core
        pending = core.inspect(method, headers, query_string, client=client, native=native)
        if core.authorize is not None:
            core.forbid(_call(core.authorize, pending.request))
        if callable(core.api_key):
            key = _call(core.api_key, pending.request) or core.env_key()
        else:
            key = core.fixed_key()
        key = core.check_key(key)
        body = _read_body(read, pending.content_length, core)
        return core.upstream(pending, key, body)


def _call(fn: Callable[[ProxyRequest], Any], request: ProxyRequest) -> Any:
    """Call a hook; an async one runs to completion on a short-lived event loop."""
    result = fn(request)
    if inspect.isawaitable(result):
        awaitable = result

        async def wait() -> Any:
            return await awaitable

        result = anyio.run(wait)
    return result


def _read_body(read: Callable[[int], bytes], length: int | None, core: ProxyCore) -> bytes:
    chunks: list[bytes] = []
    size = 0
    remaining = length
    while remaining is None or remaining > 0:
        chunk = read(_CHUNK if remaining is None else min(_CHUNK, remaining))
        if not chunk:
            break
        size += len(chunk)
        core.check_body(size)
        chunks.append(chunk)
        if remaining is not None:
            remaining -= len(chunk)
    return b"".join(chunks)


def _environ_headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").lower(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append((key.replace("_", "-").lower(), value))
    return headers


def _environ_reader(environ: Mapping[str, Any]) -> Callable[[int], bytes]:
    stream = environ["wsgi.input"]
    if environ.get("CONTENT_LENGTH") or environ.get("wsgi.input_terminated"):
        return stream.read
    if environ.get("HTTP_TRANSFER_ENCODING"):
        # PEP 3333: with no length and no end marker the body cannot be read safely, and
        # forwarding it empty would change the call.
        def refuse(size: int) -> bytes:
            raise ProxyRefused(411, "This server needs a Content-Length for request bodies")

        return refuse
    return lambda size: b""


def _refused(refusal: ProxyRefused, method: str) -> Reply:
    logger.debug("proxy: %s refused with %d: %s", method, refusal.status, refusal.message)
    return Reply(refusal.status, refusal.response_headers(), [refusal.body()])


def _decoded(raw: Any) -> list[tuple[str, str]]:
    return [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in raw]
