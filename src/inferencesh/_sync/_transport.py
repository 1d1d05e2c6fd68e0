"""The sync client's transport for task streams: the standard library's `http.client`.

Why: measured on our machines (see bench/RESULTS.md), httpx2's h11 parser costs ≈ 6-7 µs per
HTTP chunk, and a task stream sends one NDJSON line per chunk, so the sync client read streams
at half the official SDK's rate (requests, which reads through `http.client`); now ≈ 1.1x.
`http.client` decodes chunked bodies with C-level `readline`, and `HTTPResponse.read1()`
returns as soon as one chunk is there, so every line still reaches the caller the moment it
arrives. Behind httpx2's transport API the client keeps one API: requests, responses,
timeouts and errors are httpx2's (errors translated like the async client's aiohttp transport).

Only task streams (`GET /tasks/{id}/stream`, long-lived) use it; every other request goes
through the client's pooled `httpx2.Client`. Each stream opens its own connection and closes
it when the stream is closed: a stream lasts as long as its task, so a connect per stream
costs little, and nothing idles in a second pool.

Streams use the pooled `httpx2.Client` instead when the caller passed `http_client=` (their
client, with its transport, proxies, certificates and hooks, must see every request), when
proxies are configured in the environment (httpx2 honours them, `http.client` would silently
bypass them), or for a URL scheme other than http/https: what users configured keeps
applying to every request. The first two are decided when the client is made, when httpx2
reads proxies too. In the same cases the pool's requests go through httpx2's client; otherwise
they skip it (`send_direct`): auth flows, redirects, cookies and hooks serve no API call.

Every request of the client's pool goes through `RecordingTransport` (httpx2's own transport),
and `StdlibTransport` records the same: whether any byte of the request may have been written
(`retry.SENT`), so a run is retried only after failures that provably happened before it left.
"""

from __future__ import annotations

import http.client
import io
import ssl
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx2

from inferencesh._protocol.ndjson import ChunkedEncodingError, Dechunker
from inferencesh._protocol.retry import SENT

__all__ = [
    "RecordingTransport",
    "StdlibTransport",
    "bypass_client",
    "default_transport",
    "pool_limits",
    "send_direct",
    "translate_error",
]

MAX_CONNECTIONS = 100
MAX_KEEPALIVE = 20

READ_SIZE = 65_536
"""Most bytes one read returns: a chunk larger than this arrives in pieces."""
_ERRORS = (OSError, http.client.HTTPException)
"""What `http.client` raises for network and protocol failures (TimeoutError is an OSError)."""


def send_direct(
    transport: httpx2.BaseTransport, request: httpx2.Request, *, stream: bool
) -> httpx2.Response:
    """Send one request straight through `transport`, as `httpx2.Client.send` would.

    The SDK's own pool skips httpx2's client layer (auth flows, redirects, cookies, event
    hooks), which an API call with a bearer key does not use. Errors carry the request, as
    the client's do. Without `stream`, the body is read and the response closed.
    """
    try:
        response = transport.handle_request(request)
    except httpx2.TransportError as exc:
        exc.request = request
        raise
    response.request = request
    if not stream:
        try:
            response.read()  # errors get the request from httpx2 here
        finally:
            response.close()
    return response


def default_transport(*, max_connections: int = MAX_CONNECTIONS) -> httpx2.BaseTransport:
    """The transport of a new `Inference`'s pool when the caller gives no client."""
    return RecordingTransport(httpx2.HTTPTransport(limits=pool_limits(max_connections)))


def pool_limits(max_connections: int = MAX_CONNECTIONS) -> httpx2.Limits:
    """The pool's size: `max_connections`, of which at most 20 are kept idle."""
    return httpx2.Limits(
        max_connections=max_connections,
        max_keepalive_connections=min(max_connections, MAX_KEEPALIVE),
    )


class RecordingTransport(httpx2.BaseTransport):
    """httpx2's own transport, recording whether each request may have been sent (`SENT`).

    httpcore2 reports each step through the request's documented `trace` extension: only
    `connection.*` steps (connecting, TLS, connect retries) come before the first byte of the
    request; any other step means it may be on the wire.
    """

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        extensions = request.extensions
        extensions[SENT] = False
        outer = extensions.get("trace")

        def trace(event: str, info: dict[str, Any]) -> None:
            if not event.startswith("connection."):
                extensions[SENT] = True
            if outer is not None:
                outer(event, info)

        extensions["trace"] = trace
        try:
            return self._inner.handle_request(request)
        finally:
            if outer is None:
                extensions.pop("trace", None)
            else:
                extensions["trace"] = outer

    def close(self) -> None:
        self._inner.close()


def bypass_client(client: httpx2.Client | None) -> bool:
    """Whether requests may skip httpx2's client for our transports (`send_direct`).

    Not for a caller's own client (its transport, proxies, hooks must see every request), nor
    when the environment configures a proxy: httpx2's client routes through it, a transport
    called directly (and `http.client`) would silently go around it.
    """
    # "no" alone lists hosts to reach directly; it configures no proxy.
    return client is None and not (urllib.request.getproxies().keys() - {"no"})


class StdlibTransport(httpx2.BaseTransport):
    """httpx2's sync transport API over `http.client`, one connection per request."""

    def __init__(self) -> None:
        self._ssl_context: ssl.SSLContext | None = None  # made on first use: loading CAs is slow

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        request.extensions[SENT] = False
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        host, port = url.raw_host.decode("ascii"), url.port
        conn: http.client.HTTPConnection
        if url.scheme == "https":
            if self._ssl_context is None:
                self._ssl_context = httpx2.create_ssl_context()
            conn = http.client.HTTPSConnection(
                host, port, timeout=timeouts.get("connect"), context=self._ssl_context
            )
        elif url.scheme == "http":
            conn = http.client.HTTPConnection(host, port, timeout=timeouts.get("connect"))
        else:
            raise httpx2.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        connecting = True
        try:
            conn.connect()
            connecting = False
            # After connecting, the read timeout is the longest silence allowed. It also
            # bounds sending, which never waits: a stream's GET fits the socket buffer.
            conn.sock.settimeout(timeouts.get("read"))
            request.extensions[SENT] = True  # from here on, bytes of the request may be out
            response = _exchange(conn, request)
        except BaseException as exc:
            conn.close()  # also the TCP socket that a failed TLS handshake leaves open
            if isinstance(exc, _ERRORS):
                raise translate_error(exc, connecting=connecting) from exc
            raise
        return httpx2.Response(
            status_code=response.status,
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.getheaders()],
            stream=_ResponseStream(conn, response),
            request=request,
            extensions={
                "http_version": b"HTTP/1.0" if response.version == 10 else b"HTTP/1.1",
                "reason_phrase": response.reason.encode("latin-1"),
            },
        )


def _exchange(
    conn: http.client.HTTPConnection, request: httpx2.Request
) -> http.client.HTTPResponse:
    """Send `request` on `conn` and read the response head."""
    body = request.read()
    # Host comes from the request's own headers (httpx2 sets it from the URL); a streamed
    # request body was read whole above, so it goes with a length instead of being chunked.
    target = request.url.raw_path.decode("ascii")
    conn.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
    has_length = False
    for name, value in request.headers.raw:
        lowered = name.lower()
        if lowered == b"transfer-encoding":
            continue
        has_length = has_length or lowered == b"content-length"
        conn.putheader(name, value)
    if body and not has_length:
        conn.putheader(b"Content-Length", str(len(body)).encode())
    conn.endheaders(body or None)
    return conn.getresponse()


class _ResponseStream(httpx2.SyncByteStream):
    def __init__(
        self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse
    ) -> None:
        self._conn = conn
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        response = self._response
        try:
            if response.chunked:
                yield from _dechunked(response.fp)
                return
            # read1 returns what one chunk (or one socket read) holds, without waiting for more.
            while chunk := response.read1(READ_SIZE):
                yield chunk
            if response.length:
                # read1 ends quietly when the server closes before its Content-Length: a cut
                # body must not pass for a whole one.
                raise httpx2.RemoteProtocolError(
                    f"the server closed the connection {response.length} bytes before the "
                    "end of the body"
                )
        except _ERRORS as exc:
            raise translate_error(exc, connecting=False) from exc
        except ChunkedEncodingError as exc:
            raise httpx2.RemoteProtocolError(str(exc)) from exc

    def close(self) -> None:
        # Both: the response holds the socket's file, the connection the socket itself.
        self._response.close()
        self._conn.close()


def _dechunked(fp: io.BufferedReader) -> Iterator[bytes]:
    """A chunked body's data, as soon as each socket read brings some.

    `http.client` hands over one chunk per call, at ≈ 1 µs of Python per chunk; a task stream
    sends one line per chunk. Reading the socket directly, one read returns every chunk that
    has arrived, and `Dechunker` strips their framing in one pass.
    """
    dechunker = Dechunker()
    read1 = fp.read1  # at most one socket read: what has arrived, or wait for something
    while not dechunker.done:
        data = read1(READ_SIZE)
        if not data:
            raise http.client.IncompleteRead(b"", None)  # the server closed mid-body
        if payload := dechunker.feed(data):
            yield payload


def translate_error(exc: OSError | http.client.HTTPException, *, connecting: bool) -> Exception:
    """The httpx2 exception the client knows how to handle, for `http.client`'s `exc`."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return httpx2.ConnectTimeout(message) if connecting else httpx2.ReadTimeout(message)
    if connecting and isinstance(exc, OSError):  # refused, DNS, TLS handshake
        return httpx2.ConnectError(message)
    # IncompleteRead, RemoteDisconnected, a bad status line or chunk size: the peer broke
    # the message, as h11 reports it; a reset mid-body is the server dropping the stream.
    if isinstance(exc, http.client.HTTPException | ConnectionResetError):
        return httpx2.RemoteProtocolError(message)
    return httpx2.ReadError(message)
