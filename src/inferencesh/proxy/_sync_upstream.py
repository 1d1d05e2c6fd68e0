"""The WSGI proxy's upstream client: `http.client` with a small thread-safe pool.

httpx2's sync client costs several times more per request and per streamed chunk, which
a proxy pays on every call; `http.client` (what the sync client streams with too) is given
the checked host and port directly, so no URL parser stands between the allow-list and the
connection. It follows no redirects, keeps no cookies, reads no proxy variables or `.netrc`,
and leaves bodies as they came.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from collections.abc import Iterator

from inferencesh.proxy._core import Outgoing, ProxyCore, logger

__all__ = ["SyncUpstream", "SyncResponse"]

_CHUNK = 64 * 1024
_IDLE_PER_ORIGIN = 128


class SyncResponse:
    """An upstream answer; iterate for the body, close to release the connection."""

    def __init__(
        self, upstream: SyncUpstream, key: tuple[str, str, int], conn: http.client.HTTPConnection
    ) -> None:
        self._upstream = upstream
        self._key = key
        self._conn: http.client.HTTPConnection | None = conn
        self._response = conn.getresponse()
        self.status = self._response.status
        self.headers: list[tuple[str, str]] = [
            (k.lower(), v) for k, v in self._response.getheaders()
        ]

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            chunk = self._response.read1(_CHUNK)
            if not chunk and self._response.length:
                # read1 ends quietly when the upstream closes before its Content-Length.
                raise http.client.IncompleteRead(b"", self._response.length)
        except (OSError, http.client.HTTPException) as exc:
            # Raising makes the server drop the connection: a cut stream must not look whole.
            logger.warning("proxy: upstream stream broke off (%s)", type(exc).__name__)
            self._discard()
            raise
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        """Release the connection: pooled again if the body was read to its end."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        response = self._response
        if not response.isclosed() and not response.chunked and response.length == 0:
            # Read in pieces to exactly its `Content-Length`, a body is not marked finished
            # (`read1` stops short of the check that would): this read does it, for no bytes.
            response.read()
        if response.isclosed() and not response.will_close:
            self._upstream.give_back(self._key, conn)
        else:
            response.close()
            conn.close()

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        self._response.close()
        if conn is not None:
            conn.close()


class SyncUpstream:
    """Pooled `http.client` connections, shared by the server's threads."""

    def __init__(self, core: ProxyCore) -> None:
        self._core = core
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._ssl: ssl.SSLContext | None = None

    def _connect(self, key: tuple[str, str, int]) -> http.client.HTTPConnection:
        scheme, host, port = key
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                conn = idle.pop()
                if not _dropped(conn):
                    return conn
                conn.close()
            if scheme == "https" and self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        timeout = self._core.connect_timeout
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def give_back(self, key: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < _IDLE_PER_ORIGIN:
                idle.append(conn)
                return
        conn.close()

    def send(self, outgoing: Outgoing) -> SyncResponse:
        """Send and read the head of the answer.

        Sent once: a call that may have arrived is never repeated, and pooled connections
        the server closed are left out beforehand.

        Raises:
            ProxyRefused: 502/504, no answer came.
        """
        origin = outgoing.origin
        key = (origin.scheme, origin.bare_host, origin.port)
        conn = self._connect(key)
        try:
            if conn.sock is None:
                conn.connect()
            sock: socket.socket = conn.sock  # pyright: ignore[reportAssignmentType] - connected
            sock.settimeout(self._core.timeout)
            conn.putrequest(outgoing.method, outgoing.path, skip_accept_encoding=True)
            for name, value in outgoing.headers:
                conn.putheader(name, value)
            body = None if outgoing.method == "GET" else outgoing.content
            if body is not None:
                conn.putheader("content-length", str(len(body)))
            conn.endheaders(body)
            return SyncResponse(self, key, conn)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            timeout = isinstance(exc, TimeoutError | socket.timeout)
            connect = isinstance(exc, ConnectionRefusedError | socket.gaierror | ssl.SSLError)
            raise self._core.upstream_failed(exc, timeout=timeout, connect=connect) from exc

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection was closed by the server.

    It then reads as EOF (or as bytes nobody asked for); such a connection is never sent a
    request.
    """
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
