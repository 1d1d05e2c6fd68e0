"""The proxy as a WSGI app (gunicorn, Flask, Django), and the handler its helpers share."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import anyio

from inferencesh.proxy._core import Outgoing, ProxyCore, logger
from inferencesh.proxy._request import ProxyRefused, ProxyRequest
from inferencesh.proxy._sync_upstream import SyncUpstream

__all__ = ["Reply", "WsgiProxy"]

_CHUNK = 64 * 1024
StartResponse = Callable[..., Any]


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
    connections (`http.client`) are pooled across the server's threads, closed by `close()`.
    """

    def __init__(self, core: ProxyCore) -> None:
        self._core = core
        self._upstream = SyncUpstream(core)

    def close(self) -> None:
        """Close the pooled upstream connections (a later call opens new ones)."""
        self._upstream.close()

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
            outgoing = self._prepare(method, headers, query_string, client, native, read)
            response = self._upstream.send(outgoing)
        except ProxyRefused as refusal:
            return _refused(refusal, method)
        try:
            answer = self._core.answer(response.status, response.headers)
        except ProxyRefused as refusal:
            response.close()
            return _refused(refusal, method)
        # Servers call the body's close() when the response ends or the browser goes away.
        return Reply(response.status, answer, response)

    def _prepare(
        self,
        method: str,
        headers: list[tuple[str, str]],
        query_string: str,
        client: str | None,
        native: Any,
        read: Callable[[int], bytes],
    ) -> Outgoing:
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
