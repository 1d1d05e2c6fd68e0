"""The async client's own HTTP/1.1 connection pool on anyio sockets (trio; asyncio without aiohttp).

Why: httpx2's pool (httpcore2) checks every connection it holds each time it assigns a request
(has its keep-alive expired, has the server closed it: a poll of each idle socket), so its cost
a request grows with the connections open: with 100 chats in flight that bookkeeping was most
of the trio client's CPU a turn (bench/RESULTS.md §6). Here an idle connection is found in one
lookup by origin (the most recently used first), and only the one taken is checked.

Requests, responses and errors are httpx2's, and it records `retry.SENT` as the other
transports do: false until a byte of the request may have been written, so a run is retried
only after a failure that provably happened before it left.

Keep-alive, conservatively: a connection goes back to the pool only when its response was read
to its exact end (not a byte more), neither side said `Connection: close`, and it spoke
HTTP/1.1. An idle one is dropped after `keepalive_expiry` (shorter than servers' own: uvicorn
closes after 5 s) and, when taken, if its socket is readable (the server closed it, or sent
something unasked). At most `max_connections` are open (idle ones included); a request that
needs one more closes the longest idle one, or waits for one to close.
"""

from __future__ import annotations

import select
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.abc
import httpx2

from inferencesh._async._wire import (
    NETWORK_ERRORS,
    SocketReader,
    body_framing,
    says_close,
    send_request,
    translate_error,
)
from inferencesh._protocol.ndjson import Dechunker
from inferencesh._protocol.retry import SENT

__all__ = ["PooledTransport"]

KEEPALIVE_EXPIRY = 4.0
_Origin = tuple[str, str, int]


class _Connection:
    __slots__ = ("idle_since", "origin", "reader", "stream")

    def __init__(self, stream: anyio.abc.ByteStream, origin: _Origin) -> None:
        self.stream = stream
        self.origin = origin
        self.reader = SocketReader(stream, None)
        self.idle_since = 0.0

    def readable(self) -> bool:
        """Whether the socket has something to read (while idle: the server closed it)."""
        sock: Any = self.stream.extra(anyio.abc.SocketAttribute.raw_socket, None)
        fd: int = sock.fileno() if sock is not None else -1
        if fd < 0:
            return True
        if hasattr(select, "poll"):  # select() fails on descriptors past FD_SETSIZE
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(ready)


class PooledTransport(httpx2.AsyncBaseTransport):
    """httpx2's async transport API over kept-alive anyio sockets; see the module docstring."""

    def __init__(
        self,
        *,
        max_connections: int = 100,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
        keep_alive: bool = True,
    ) -> None:
        """At most `max_connections` open; none kept after its exchange without `keep_alive`."""
        self._max = max(1, max_connections)
        self._expiry = keepalive_expiry
        self._keep_alive = keep_alive
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._open = 0
        self._waiters: deque[anyio.Event] = deque()
        """Requests waiting for a connection to come back or close, woken one at a time."""
        self._ssl_context: ssl.SSLContext | None = None  # made on first use: loading CAs is slow
        self._closed = False

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.extensions[SENT] = False
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx2.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        if self._closed:
            raise RuntimeError("the transport was closed")
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        origin = (url.scheme, url.raw_host.decode("ascii"), url.port or _default_port(url))
        try:
            conn = await self._obtain(origin, url, timeouts)
        except TimeoutError as exc:  # every connection stayed busy (nothing was sent)
            raise httpx2.PoolTimeout(str(exc) or "no connection came free in time") from exc
        conn.reader.timeout = timeouts.get("read")
        write_error: Exception | None = None
        try:
            request.extensions[SENT] = True  # from here on, bytes of the request may be out
            try:
                with anyio.fail_after(timeouts.get("write")):
                    await send_request(conn.stream, request, close=not self._keep_alive)
            except TimeoutError as exc:
                raise httpx2.WriteTimeout(str(exc) or "timed out sending the request") from exc
            except NETWORK_ERRORS as exc:
                # The server may have answered before it read the whole body (a 413, say) and
                # closed: that answer, if it came, is what the caller needs to hear.
                write_error = exc
            try:
                status, version, reason, headers = await conn.reader.response_head()
            except (*NETWORK_ERRORS, httpx2.RemoteProtocolError):
                if write_error is not None:
                    raise write_error from None
                raise
            framing = body_framing(request.method, status, headers)
        except BaseException as exc:
            await self.close_connection(conn)
            if isinstance(exc, NETWORK_ERRORS):
                raise translate_error(exc) from exc
            raise
        keep = (
            self._keep_alive
            and write_error is None
            and version == b"HTTP/1.1"
            and framing != "close"
            and not says_close(headers)
            and not says_close(request.headers.raw)
        )
        return httpx2.Response(
            status_code=status,
            headers=headers,
            stream=_Body(self, conn, framing, keep),
            request=request,
            extensions={"http_version": version, "reason_phrase": reason},
        )

    async def aclose(self) -> None:
        self._closed = True
        idle = [conn for conns in self._idle.values() for conn in conns]
        self._idle.clear()
        for conn in idle:
            await self.close_connection(conn)

    # -- connections ------------------------------------------------------------------------

    async def _obtain(
        self, origin: _Origin, url: httpx2.URL, timeouts: dict[str, float | None]
    ) -> _Connection:
        """An idle connection to `origin`, else a new one once the limit allows it.

        Waiting for one is bounded by the `pool` timeout (`TimeoutError`).
        """
        pool = timeouts.get("pool")
        until = None if pool is None else anyio.current_time() + pool
        while True:
            idle = self._idle.get(origin)
            while idle:
                conn = idle.pop()  # the most recently used: the likeliest to be alive
                if time.monotonic() - conn.idle_since < self._expiry and not conn.readable():
                    return conn
                await self.close_connection(conn)
            if self._open < self._max:
                return await self._connect(origin, url, timeouts.get("connect"))
            oldest = min(
                (conn for conns in self._idle.values() for conn in conns),
                key=lambda conn: conn.idle_since,
                default=None,
            )
            if oldest is not None:  # an idle connection elsewhere makes room
                self._idle[oldest.origin].remove(oldest)
                await self.close_connection(oldest)
                continue
            with anyio.fail_after(None if until is None else until - anyio.current_time()):
                await self._wait_for_change()

    async def _wait_for_change(self) -> None:
        event = anyio.Event()
        self._waiters.append(event)
        try:
            await event.wait()
        except BaseException:
            if event.is_set():
                self._wake()  # woken, but leaving: the next one gets the turn
            else:
                self._waiters.remove(event)
            raise

    def _wake(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()

    async def put_back(self, conn: _Connection) -> None:
        """A connection whose exchange ended cleanly waits for the next request."""
        if self._closed:
            await self.close_connection(conn)
            return
        conn.idle_since = time.monotonic()
        self._idle.setdefault(conn.origin, []).append(conn)
        self._wake()

    async def _connect(
        self, origin: _Origin, url: httpx2.URL, timeout: float | None
    ) -> _Connection:
        self._open += 1
        tls = origin[0] == "https"
        try:
            if tls and self._ssl_context is None:
                self._ssl_context = httpx2.create_ssl_context()
            with anyio.fail_after(timeout):
                stream = await anyio.connect_tcp(
                    origin[1],
                    origin[2],
                    tls=tls,
                    ssl_context=self._ssl_context if tls else None,
                    tls_hostname=url.host if tls else None,
                )
        except BaseException as exc:
            self._open -= 1
            self._wake()
            if isinstance(exc, TimeoutError):
                raise httpx2.ConnectTimeout(str(exc) or "timed out connecting") from exc
            if isinstance(exc, OSError | ssl.SSLError | anyio.BrokenResourceError):
                raise httpx2.ConnectError(str(exc) or type(exc).__name__) from exc
            raise
        return _Connection(stream, origin)

    async def close_connection(self, conn: _Connection) -> None:
        """Close a connection that is not kept (its place is free again at once)."""
        self._open -= 1
        self._wake()
        await anyio.aclose_forcefully(conn.stream)


class _Body(httpx2.AsyncByteStream):
    """A response body; the connection goes back to the pool once it was read to its end."""

    def __init__(self, pool: PooledTransport, conn: _Connection, framing: str | int, keep: bool):
        self._pool = pool
        self._conn: _Connection | None = conn
        self._framing = framing
        self._keep = keep
        self._ended = framing == 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None:
            raise httpx2.StreamClosed()
        read = conn.reader.read
        try:
            if self._framing == "chunked":
                dechunker = Dechunker()
                while not dechunker.done:
                    data = await read()
                    if not data:
                        raise httpx2.RemoteProtocolError("peer closed the stream mid-body")
                    if payload := dechunker.feed(data):
                        yield payload
                self._ended = not dechunker.rest
            elif isinstance(self._framing, int):
                left = self._framing
                extra = b""
                while left > 0:
                    data = await read()
                    if not data:
                        raise httpx2.RemoteProtocolError("peer closed the stream mid-body")
                    data, extra = data[:left], data[left:]
                    left -= len(data)
                    yield data
                self._ended = not extra
            else:
                while data := await read():
                    yield data
        except NETWORK_ERRORS as exc:
            raise translate_error(exc) from exc

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._keep and self._ended and not conn.reader.buffer:
            await self._pool.put_back(conn)
        else:
            await self._pool.close_connection(conn)


def _default_port(url: httpx2.URL) -> int:
    return 443 if url.scheme == "https" else 80
