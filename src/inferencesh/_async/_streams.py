"""The async client's transport for NDJSON streams: a plain socket through anyio.

Why: a task stream sends one NDJSON line per HTTP chunk, and the HTTP stacks hand chunks over
one by one: httpx2's h11 at ≈ 6-7 µs each (on trio, and on asyncio without aiohttp), aiohttp
at ≈ 1 µs of Python each. Here every socket read (up to 64 KiB: all the chunks that have
arrived) is stripped of its framing in one pass by `Dechunker`, as the sync client's
`StdlibTransport` does, so the cost per line is mostly parsing its JSON (bench/RESULTS.md §2).
It runs on asyncio and trio alike.

Only NDJSON streams (`GET /tasks/{id}/stream`, `GET /chats/{id}/stream`: long-lived) use it,
and only when requests may skip httpx2's client (`_transport.bypass_client`: no client of the
caller's, no proxy in the environment). Each stream opens its own connection and closes it
when the stream is closed (a chat's stream never ends by itself: its connection could not be
kept anyway).
Requests, responses and errors are httpx2's; it records `retry.SENT` like the other transports.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import anyio
import anyio.abc
import httpx2

from inferencesh._protocol.ndjson import ChunkedEncodingError, Dechunker
from inferencesh._protocol.retry import SENT

__all__ = ["SocketStreamTransport"]

READ_SIZE = 65_536
MAX_HEAD = 65_536
"""The largest response head accepted."""
_NO_BODY = frozenset({204, 304})
NETWORK_ERRORS = (
    OSError,  # TimeoutError (a read timeout), resets, ssl.SSLError
    ChunkedEncodingError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
)
"""What reading or writing the socket raises for network and framing failures."""


class SocketStreamTransport(httpx2.AsyncBaseTransport):
    """httpx2's async transport API over one anyio socket per request (HTTP/1.1)."""

    def __init__(self) -> None:
        self._ssl_context: ssl.SSLContext | None = None  # made on first use: loading CAs is slow

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.extensions[SENT] = False
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx2.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        tls = url.scheme == "https"
        if tls and self._ssl_context is None:
            self._ssl_context = httpx2.create_ssl_context()
        host = url.raw_host.decode("ascii")
        try:
            with anyio.fail_after(timeouts.get("connect")):
                stream = await anyio.connect_tcp(
                    host,
                    url.port or (443 if tls else 80),
                    tls=tls,
                    ssl_context=self._ssl_context if tls else None,
                    tls_hostname=url.host if tls else None,
                )
        except TimeoutError as exc:
            raise httpx2.ConnectTimeout(str(exc) or "timed out connecting") from exc
        except (OSError, ssl.SSLError, anyio.BrokenResourceError) as exc:
            raise httpx2.ConnectError(str(exc) or type(exc).__name__) from exc
        reader = SocketReader(stream, timeouts.get("read"))
        try:
            request.extensions[SENT] = True  # from here on, bytes of the request may be out
            await stream.send(_head(request) + await request.aread())
            status, version, reason, headers = await reader.response_head()
            framing = body_framing(request.method, status, headers)
        except NETWORK_ERRORS as exc:
            await anyio.aclose_forcefully(stream)
            raise translate_error(exc) from exc
        except BaseException:
            await anyio.aclose_forcefully(stream)
            raise
        return httpx2.Response(
            status_code=status,
            headers=headers,
            stream=_ResponseStream(reader, framing),
            request=request,
            extensions={"http_version": version, "reason_phrase": reason},
        )


def _head(request: httpx2.Request) -> bytes:
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    has_connection = False
    for name, value in request.headers.raw:
        lowered = name.lower()
        if lowered == b"transfer-encoding":
            continue  # the body was read whole: it goes with a Content-Length
        has_connection = has_connection or lowered == b"connection"
        lines.append(name + b": " + value)
    if not has_connection:
        lines.append(b"Connection: close")  # one request per connection
    return b"\r\n".join(lines) + b"\r\n\r\n"


def body_framing(method: str, status: int, headers: list[tuple[bytes, bytes]]) -> str | int:
    """How the body ends: "chunked", after a length, or at "close"."""
    if method == "HEAD" or status in _NO_BODY:
        return 0
    length: int | None = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"transfer-encoding" and value.strip().lower().endswith(b"chunked"):
            return "chunked"
        if lowered == b"content-length":
            try:
                length = int(value)
            except ValueError:
                raise httpx2.RemoteProtocolError(f"bad Content-Length {value[:40]!r}") from None
    return "close" if length is None else length


class SocketReader:
    """Reads from the socket, each read bounded by the read timeout."""

    __slots__ = ("_stream", "buffer", "timeout")

    def __init__(self, stream: anyio.abc.ByteStream, timeout: float | None) -> None:
        self._stream = stream
        self.timeout = timeout
        """Seconds each read may wait (None: no limit); a kept-alive connection's next
        request sets its own."""
        self.buffer = b""

    async def read(self) -> bytes:
        """What has arrived (at least one byte), or b"" at the end of the stream."""
        if self.buffer:
            data, self.buffer = self.buffer, b""
            return data
        try:
            with anyio.fail_after(self.timeout):
                return await self._stream.receive(READ_SIZE)
        except anyio.EndOfStream:
            return b""

    async def response_head(self) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        """The next final response head (1xx heads are skipped): status, version, reason."""
        while True:
            data = b""
            while (end := data.find(b"\r\n\r\n")) < 0:
                if len(data) > MAX_HEAD:
                    raise httpx2.RemoteProtocolError("response head too large")
                more = await self.read()
                if not more:
                    raise httpx2.RemoteProtocolError("server disconnected without a response")
                data += more
            self.buffer = data[end + 4 :]
            status_line, *lines = data[:end].split(b"\r\n")
            parts = status_line.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                raise httpx2.RemoteProtocolError(f"bad status line {status_line[:60]!r}")
            status = int(parts[1])
            if 100 <= status < 200:
                continue
            headers: list[tuple[bytes, bytes]] = []
            for line in lines:
                name, sep, value = line.partition(b":")
                if not sep or not name or name != name.strip():
                    raise httpx2.RemoteProtocolError(f"bad header line {line[:60]!r}")
                headers.append((name, value.strip()))
            return status, parts[0], parts[2] if len(parts) > 2 else b"", headers

    async def aclose(self) -> None:
        await anyio.aclose_forcefully(self._stream)


class _ResponseStream(httpx2.AsyncByteStream):
    def __init__(self, reader: SocketReader, framing: str | int) -> None:
        self._reader = reader
        self._framing = framing

    async def __aiter__(self) -> AsyncIterator[bytes]:
        read = self._reader.read
        try:
            if self._framing == "chunked":
                dechunker = Dechunker()
                while not dechunker.done:
                    data = await read()
                    if not data:
                        raise httpx2.RemoteProtocolError("peer closed the stream mid-body")
                    if payload := dechunker.feed(data):
                        yield payload
            elif isinstance(self._framing, int):
                left = self._framing
                while left > 0:
                    data = await read()
                    if not data:
                        raise httpx2.RemoteProtocolError("peer closed the stream mid-body")
                    data = data[:left]
                    left -= len(data)
                    yield data
            else:
                while data := await read():
                    yield data
        except NETWORK_ERRORS as exc:
            raise translate_error(exc) from exc

    async def aclose(self) -> None:
        await self._reader.aclose()


def translate_error(exc: Exception) -> Exception:
    """The httpx2 exception for a failure after the connection was made."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return httpx2.ReadTimeout(message)
    # A broken chunk or a reset mid-body is the server dropping the stream, as h11 reports it.
    if isinstance(exc, ChunkedEncodingError | ConnectionResetError | anyio.BrokenResourceError):
        return httpx2.RemoteProtocolError(message)
    return httpx2.ReadError(message)
