"""HTTP/1.1 on an anyio byte stream: what the async client's own transports share.

Writing a request (`send_request`), reading a response head (`SocketReader`), deciding how its
body ends (`body_framing`), and the httpx2 error for what the socket raised
(`translate_error`). `_pool.PooledTransport` builds on them.
"""

from __future__ import annotations

import anyio
import anyio.abc
import httpx2

from inferencesh._protocol.ndjson import ChunkedEncodingError

__all__ = [
    "MAX_HEAD",
    "NETWORK_ERRORS",
    "READ_SIZE",
    "SocketReader",
    "body_framing",
    "says_close",
    "send_request",
    "translate_error",
]

READ_SIZE = 65_536
MAX_HEAD = 65_536
"""The largest response (or request) head accepted."""
_NO_BODY = frozenset({204, 304})
NETWORK_ERRORS = (
    OSError,  # TimeoutError (a read timeout), resets, ssl.SSLError
    ChunkedEncodingError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
)
"""What reading or writing the socket raises for network and framing failures."""


async def send_request(
    stream: anyio.abc.ByteStream, request: httpx2.Request, *, close: bool = False
) -> None:
    """Write the request: a body known whole goes with the head, a streamed one after it.

    `close` asks the server to close the connection after its answer (`Connection: close`),
    unless the request names its own `Connection`.
    """
    try:
        body: bytes | None = request.content
    except httpx2.RequestNotRead:
        body = None
    headers = request.headers
    chunked = body is None and "content-length" not in headers
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    for name, value in headers.raw:
        if name.lower() == b"transfer-encoding":
            continue  # set below, from how the body is sent
        lines.append(name + b": " + value)
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
    if close and "connection" not in headers:
        lines.append(b"Connection: close")
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    if len(head) > MAX_HEAD:
        raise httpx2.LocalProtocolError("request head too large")
    if body is not None:
        await stream.send(head + body)
        return
    await stream.send(head)
    assert isinstance(request.stream, httpx2.AsyncByteStream)
    chunks = aiter(request.stream)
    try:
        async for chunk in chunks:
            if chunk:
                await stream.send(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
    finally:
        # Left early (the write failed): the caller's generator is closed now, not by the GC.
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
    if chunked:
        await stream.send(b"0\r\n\r\n")


def says_close(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the headers end the connection after this exchange (`Connection: close`)."""
    return any(
        name.lower() == b"connection" and b"close" in value.lower() for name, value in headers
    )


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


def translate_error(exc: Exception) -> Exception:
    """The httpx2 exception for a failure after the connection was made."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return httpx2.ReadTimeout(message)
    # A broken chunk or a reset mid-body is the server dropping the stream, as h11 reports it.
    if isinstance(exc, ChunkedEncodingError | ConnectionResetError | anyio.BrokenResourceError):
        return httpx2.RemoteProtocolError(message)
    return httpx2.ReadError(message)
