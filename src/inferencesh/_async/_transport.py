"""The async client's transport: aiohttp on asyncio when installed, our own pool elsewhere.

Why: measured on our machines (see bench/RESULTS.md), httpx2's connection pool drops from
~1,400 to ~450 requests/s between 100 and 1,000 requests in flight, and its h11-based
streaming parses NDJSON lines 2-3x slower than aiohttp's. aiohttp behind httpx2's transport
API keeps one client API (requests, responses, errors and timeouts are httpx2's) while the
bytes move through aiohttp. aiohttp runs only on asyncio, so on trio (or without the
`aiohttp` extra) the client uses its own keep-alive pool on anyio sockets (`_pool`), which
costs the same per request however many connections are open. Pass `http_client=` to choose.

Both record on each request whether any byte of it may have been written (`retry.SENT`), so a
run is retried only after failures that provably happened before it left.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import urllib.request
from collections.abc import AsyncIterator, MutableMapping
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

import httpx2

from inferencesh._async._pool import PooledTransport
from inferencesh._protocol.retry import SENT

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "AiohttpTransport",
    "AutoTransport",
    "bypass_client",
    "default_transport",
    "pool_limits",
    "send_direct",
]

MAX_CONNECTIONS = 100
LARGE_BODY = 1024 * 1024
"""Request bodies larger than this go to aiohttp as a file-like object (written in chunks)."""
INLINE_BODY = 256 * 1024
"""Bodies up to this size with a Content-Length are read before the response is returned:
one read instead of httpx2's stream layers, and the connection is free again at once."""


def default_transport(*, max_connections: int = MAX_CONNECTIONS) -> httpx2.AsyncBaseTransport:
    """The transport a new `AsyncInference` uses when the caller gives no client."""
    return AutoTransport(max_connections=max_connections)


def pool_limits(max_connections: int = MAX_CONNECTIONS) -> httpx2.Limits:
    """The pool's size: `max_connections`, all kept alive (bursts of calls reuse them)."""
    return httpx2.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)


def bypass_client(client: httpx2.AsyncClient | None) -> bool:
    """Whether requests may skip httpx2's client for our transport (`send_direct`).

    Not for a caller's own client (its transport, proxies, hooks must see every request), nor
    when the environment configures a proxy: httpx2's client routes through it, a transport
    called directly would silently go around it.
    """
    # "no" alone lists hosts to reach directly; it configures no proxy.
    return client is None and not (urllib.request.getproxies().keys() - {"no"})


async def send_direct(
    transport: httpx2.AsyncBaseTransport, request: httpx2.Request, *, stream: bool
) -> httpx2.Response:
    """Send one request straight through `transport`, as `httpx2.AsyncClient.send` would.

    The SDK's own pool skips httpx2's client layer (auth flows, redirects, cookies, event
    hooks), which an API call with a bearer key does not use and which cost ≈ 20 µs a request
    (bench/RESULTS.md §3). Errors carry the request, as the client's do. Without `stream`,
    the body is read and the response closed.
    """
    try:
        response = await transport.handle_async_request(request)
    except httpx2.TransportError as exc:
        exc.request = request
        raise
    response.request = request
    if not stream:
        try:
            await response.aread()  # errors get the request from httpx2 here
        finally:
            await response.aclose()
    return response


def aiohttp_available() -> bool:
    """Whether the `aiohttp` extra is installed."""
    return importlib.util.find_spec("aiohttp") is not None


def on_asyncio() -> bool:
    """Whether the running event loop is asyncio's (anyio also runs on trio)."""
    # Looked up in sys.modules, not imported: when asyncio was never imported, no asyncio
    # loop can be running, and the SDK's code stays free of asyncio-only imports.
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def running_loop() -> object | None:
    """The running event loop (asyncio's loop object, or trio's run token); None outside one."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            pass
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            return trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass
    return None


class AutoTransport(httpx2.AsyncBaseTransport):
    """Chooses aiohttp or httpx2's transport on first use, by event loop and extras."""

    def __init__(self, *, max_connections: int = MAX_CONNECTIONS) -> None:
        self._max_connections = max_connections
        self._inner: httpx2.AsyncBaseTransport | None = None

    @property
    def backend(self) -> str | None:
        """`"aiohttp"` or `"sockets"` (`_pool`) once a request was sent; None before."""
        if self._inner is None:
            return None
        return "aiohttp" if isinstance(self._inner, AiohttpTransport) else "sockets"

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._inner is None:
            n = self._max_connections
            if on_asyncio() and aiohttp_available():
                self._inner = AiohttpTransport(max_connections=n)
            else:
                self._inner = PooledTransport(max_connections=n)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


_SENDING: ContextVar[MutableMapping[str, Any] | None] = ContextVar("_SENDING", default=None)
"""The extensions of the request the current task is sending through aiohttp."""


@cache
def _recording_connector() -> type[aiohttp.TCPConnector]:
    import aiohttp

    class RecordingConnector(aiohttp.TCPConnector):
        """Marks the request being sent (`_SENDING`) as `SENT` once it has a connection."""

        async def connect(
            self,
            req: aiohttp.ClientRequest,
            traces: list[aiohttp.tracing.Trace],
            timeout: aiohttp.ClientTimeout,
        ) -> aiohttp.connector.Connection:
            connection = await super().connect(req, traces, timeout)
            # Up to here nothing of the request was written; from here on it may have been.
            extensions = _SENDING.get()
            if extensions is not None:
                extensions[SENT] = True
            return connection

    return RecordingConnector


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """httpx2's async transport API over one shared `aiohttp.ClientSession`."""

    def __init__(self, *, max_connections: int = MAX_CONNECTIONS) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp

            connector = _recording_connector()(
                limit=self._max_connections, ssl=httpx2.create_ssl_context()
            )
            # Decompression is left to httpx2, which reads Content-Encoding itself.
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    def _timeout(self, timeouts: dict[str, float | None]) -> aiohttp.ClientTimeout:
        """httpx2's timeouts as aiohttp's (a few distinct ones per client: kept)."""
        key = (timeouts.get("pool"), timeouts.get("connect"), timeouts.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            import aiohttp

            if len(self._timeouts) >= 64:  # deadlines make new ones; keep the cache small
                self._timeouts.clear()
            pool, connect, read = key
            timeout = aiohttp.ClientTimeout(
                total=None, connect=pool, sock_connect=connect, sock_read=read
            )
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        session = self._get_session()
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        data: Any
        headers: Any = request.headers
        try:
            data = request.content or None
            if data is not None and len(data) > LARGE_BODY:
                # aiohttp writes bytes in one go (and warns past 1 MiB that it may hold up the
                # loop); a file-like body it writes in chunks.
                data = io.BytesIO(data)
        except httpx2.RequestNotRead:  # a streamed body, which aiohttp frames itself
            data = _body(request)
            headers = [(k, v) for k, v in headers.multi_items() if k != "transfer-encoding"]
        extensions = request.extensions
        extensions[SENT] = False
        token = _SENDING.set(extensions)
        try:
            response = await session.request(
                request.method,
                str(request.url),
                headers=headers,
                data=data,
                allow_redirects=False,
                compress=None,
                timeout=self._timeout(timeouts),
            ).__aenter__()
        except Exception as exc:
            translated = _translate(exc, connecting=not extensions[SENT])
            if translated is exc:
                raise
            raise translated from exc
        finally:
            _SENDING.reset(token)
        length = response.content_length
        if length is not None and length <= INLINE_BODY and request.method != "HEAD":
            try:
                body = await response.read()
            except Exception as exc:
                translated = _translate(exc, connecting=False)
                if translated is exc:
                    raise
                raise translated from exc
            finally:
                response.release()
            return httpx2.Response(
                status_code=response.status,
                headers=response.raw_headers,
                content=body,
                request=request,
                extensions={"http_version": b"HTTP/1.1"},
            )
        return httpx2.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _ResponseStream(httpx2.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        readany = self._response.content.readany  # all that has arrived, or wait for some
        try:
            while chunk := await readany():
                yield chunk
        except Exception as exc:
            translated = _translate(exc, connecting=False)
            if translated is exc:
                raise
            raise translated from exc

    async def aclose(self) -> None:
        self._response.release()
        self._response.close()


async def _body(request: httpx2.Request) -> AsyncIterator[bytes]:
    stream = request.stream
    assert isinstance(stream, httpx2.AsyncByteStream)
    async for chunk in stream:
        yield chunk


def _translate(exc: Exception, *, connecting: bool) -> Exception:
    """Aiohttp's exception as the httpx2 exception the client knows how to handle."""
    import aiohttp

    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx2.ConnectTimeout(message)
    if isinstance(exc, TimeoutError):  # aiohttp's socket read timeouts are TimeoutErrors too
        return httpx2.ConnectTimeout(message) if connecting else httpx2.ReadTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx2.ConnectError(message)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx2.RemoteProtocolError(message)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx2.UnsupportedProtocol(message)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return httpx2.ConnectError(message) if connecting else httpx2.ReadError(message)
    return exc
