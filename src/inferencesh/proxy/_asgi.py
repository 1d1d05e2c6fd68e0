"""The proxy as an ASGI app: mount it in FastAPI or Starlette, or serve it alone."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

import anyio
import anyio.to_thread

from inferencesh.proxy._core import Outgoing, ProxyCore, logger
from inferencesh.proxy._request import ProxyRefused, ProxyRequest
from inferencesh.proxy._upstream import (
    AsyncUpstream,
    Backend,
    UpstreamBroke,
    UpstreamResponse,
    choose,
)

__all__ = ["AsgiProxy"]

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]


class _Gone(Exception):
    """The browser went away while its request body was still arriving."""


class AsgiProxy:
    """An ASGI app that forwards the JS SDK's proxied calls with the server's API key.

    Made by `asgi_proxy()`. It answers at whatever path it is mounted on; upstream
    connections are pooled (aiohttp on asyncio when installed, httpx2 otherwise), closed on
    the ASGI lifespan's shutdown or by `aclose()`. Use one instance per event loop.
    """

    def __init__(self, core: ProxyCore, *, upstream: Backend = "auto") -> None:
        """Serve `core`'s configuration.

        Args:
            core: The configuration (`asgi_proxy()` builds it).
            upstream: The upstream HTTP client: `"auto"` picks aiohttp on asyncio when it is
                installed, httpx2 otherwise (trio); or name one.
        """
        self._core = core
        self._backend: Backend = upstream
        self._upstream: AsyncUpstream | None = None

    def _client(self) -> AsyncUpstream:
        if self._upstream is None:
            self._upstream = choose(self._core, self._backend)
        return self._upstream

    async def aclose(self) -> None:
        """Close the pooled upstream connections (a later call opens new ones)."""
        upstream, self._upstream = self._upstream, None
        if upstream is not None:
            await upstream.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            raise RuntimeError(f"the inference.sh proxy serves HTTP only, not {kind!r}")
        try:
            outgoing = await self._prepare(scope, receive)
        except ProxyRefused as refusal:
            await _refuse(send, refusal, scope)
            return
        except _Gone:
            return
        try:
            response = await self._client().send(outgoing)
        except ProxyRefused as refusal:
            await _refuse(send, refusal, scope)
            return
        try:
            try:
                headers = self._core.answer(response.status, response.headers)
            except ProxyRefused as refusal:
                await _refuse(send, refusal, scope)
                return
            await _relay(response, headers, receive, send)
        finally:
            await response.aclose()

    async def _prepare(self, scope: Scope, receive: Receive) -> Outgoing:
        core = self._core
        client = scope.get("client")
        pending = core.inspect(
            scope["method"],
            _decoded(scope["headers"]),
            scope.get("query_string", b"").decode("latin-1"),
            client=client[0] if client else None,
            native=scope,
        )
        if core.authorize is not None:
            core.forbid(await _call(core.authorize, pending.request))
        if callable(core.api_key):
            key = await _call(core.api_key, pending.request) or core.env_key()
        else:
            key = core.fixed_key()
        key = core.check_key(key)
        body = await _read_body(receive, core)
        return core.upstream(pending, key, body)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _call(fn: Callable[[ProxyRequest], Any], request: ProxyRequest) -> Any:
    """Call a hook: async ones awaited, sync ones in a worker thread (they may block)."""
    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__):
        result = fn(request)
    else:
        result = await anyio.to_thread.run_sync(fn, request)
    if inspect.isawaitable(result):
        result = await result
    return result


async def _read_body(receive: Receive, core: ProxyCore) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        core.check_body(size)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _relay(
    response: UpstreamResponse, headers: list[tuple[str, str]], receive: Receive, send: Send
) -> None:
    """Stream the upstream body chunk by chunk until it ends or the browser leaves."""
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
    )
    if any(name == "content-length" for name, _ in headers):
        # A body of known length ends by itself: no need to watch for the browser leaving
        # (a task per call costs about a tenth of the proxy's time per request).
        await _pump(response, send)
        return
    async with anyio.create_task_group() as group:
        group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
        await _pump(response, send)
        group.cancel_scope.cancel()


async def _pump(response: UpstreamResponse, send: Send) -> None:
    try:
        async for chunk in response.chunks():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except UpstreamBroke as exc:
        # Ending the response normally would pass a cut stream off as complete; returning
        # unfinished makes the server drop the connection instead.
        logger.warning("proxy: upstream stream broke off (%s)", exc)
        return
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    # The request body has been read, so the next message is the browser leaving.
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


async def _refuse(send: Send, refusal: ProxyRefused, scope: Scope) -> None:
    logger.debug(
        "proxy: %s refused with %d: %s", scope.get("method"), refusal.status, refusal.message
    )
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [
                (k.encode("latin-1"), v.encode("latin-1")) for k, v in refusal.response_headers()
            ],
        }
    )
    await send({"type": "http.response.body", "body": refusal.body()})


def _decoded(raw: Any) -> list[tuple[str, str]]:
    return [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in raw]
