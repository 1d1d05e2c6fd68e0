"""A misbehaving network between a client and a real server, for tests.

`FaultProxy` listens on a free local port and relays HTTP/1.1 to an upstream server (the
emulator of the `server` fixture) over plain sockets, one thread per connection. Requests pass
through untouched until a test arms a fault for them: the next request (or the next `times`)
whose method and path prefix match then misbehaves in one of these ways.

| fault | the server saw the request? | what the client sees |
|---|---|---|
| `LateHeaders(seconds)` | yes, and answered | nothing until `seconds` passed (None: never) |
| `ResetAfterRequest()` | yes, and answered | a connection reset instead of the response |
| `Stall()` / `Stall(forward=False)` | yes / no | an open connection that never answers |
| `Stall(after_lines=n)` | yes | the head and `n` body lines, then silence |
| `ReplaceBody(GARBAGE/TRUNCATED/HTML/EMPTY)` | yes | that body with `status` (200) |
| `ResetMidBody(after_bytes)` | yes | the head and part of the body, then a reset |
| `CutStream(after_lines)` | yes | the head and `after_lines` lines, then EOF |

"The server answered" means the proxy waited for the response head before misbehaving, so
whatever the request does (create a task, ...) has happened. A held connection (late headers,
stall) ends when the client hangs up or the proxy closes: nothing waits on a clock.

```python
from tests.faultproxy import FaultProxy, LateHeaders, ReplaceBody, HTML

with FaultProxy(server.base_url) as proxy:          # or the `fault_proxy` fixture
    client = inference(api_key=server.api_key, base_url=proxy.url, timeout=0.5)
    late = proxy.arm("POST", "/apps/run", LateHeaders(), times=None)  # every run, until disarmed
    proxy.arm("GET", "/tasks/", ReplaceBody(HTML, status=502))        # the next GET only
    ...                                             # the call times out, typed
    late.wait_fired()                               # blocks until it happened (Event, no sleep)
    assert proxy.count("POST", "/apps/run") == 1    # requests seen, faulted or not
```

From async tests wait in a thread: `await anyio.to_thread.run_sync(late.wait_fired)`.
`refuse_connections()` / `accept_connections()` make the port refuse connections (bound, not
listening) and accept them again, for "the connection was never made". It also serves as a
plain HTTP proxy (`HTTP_PROXY=proxy.url`): absolute-form targets go upstream in origin-form.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "EMPTY",
    "GARBAGE",
    "HTML",
    "TRUNCATED",
    "Armed",
    "CutStream",
    "Fault",
    "FaultProxy",
    "LateHeaders",
    "ReplaceBody",
    "ResetAfterRequest",
    "ResetMidBody",
    "Stall",
]

GARBAGE = b"\x00\xff\xfe not JSON at all \x01"
TRUNCATED = b'{"success": true, "data": {"id": "t'
HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
EMPTY = b""


@dataclass(frozen=True)
class LateHeaders:
    """Forward the request, then hold the response `seconds` (None: until the client hangs up)."""

    seconds: float | None = None


@dataclass(frozen=True)
class ResetAfterRequest:
    """Forward the request, wait for the server's answer, then reset the client's connection."""


@dataclass(frozen=True)
class Stall:
    """Keep the connection open and stop answering (after the head and `after_lines` lines)."""

    forward: bool = True
    after_lines: int | None = None


@dataclass(frozen=True)
class ReplaceBody:
    """Answer with `body` and `status` instead of the server's response."""

    body: bytes
    status: int = 200
    content_type: str | None = None  # default: text/html for HTML, else application/json


@dataclass(frozen=True)
class ResetMidBody:
    """Send the head and `after_bytes` body bytes (None: half the first piece), then reset."""

    after_bytes: int | None = None


@dataclass(frozen=True)
class CutStream:
    """Relay the head and the first `after_lines` body lines, then close the connection."""

    after_lines: int


Fault = LateHeaders | ResetAfterRequest | Stall | ReplaceBody | ResetMidBody | CutStream


class Armed:
    """One armed fault: how often it matched, and events to wait on."""

    def __init__(
        self, proxy: FaultProxy, method: str | None, path: str, fault: Fault, times: int | None
    ) -> None:
        self._proxy = proxy
        self.method = method.upper() if method else None
        self.path = path
        self.fault = fault
        self.remaining = times
        self.seen = 0
        """Requests this fault took (they reached the proxy)."""
        self.fired = 0
        """Requests on which the misbehaviour began (after the server answered, if forwarded)."""

    def matches(self, method: str, path: str) -> bool:
        live = self.remaining is None or self.remaining > 0
        return live and (self.method in (None, method)) and path.startswith(self.path)

    def wait_seen(self, n: int = 1, timeout: float = 10.0) -> None:
        """Block until `n` requests reached this fault; TimeoutError otherwise."""
        self._proxy.wait_for(lambda: self.seen >= n, timeout)

    def wait_fired(self, n: int = 1, timeout: float = 10.0) -> None:
        """Block until the fault acted on `n` requests; TimeoutError otherwise."""
        self._proxy.wait_for(lambda: self.fired >= n, timeout)

    def disarm(self) -> None:
        """Let further matching requests through untouched."""
        with self._proxy._cond:
            self.remaining = 0


class _Reader:
    """Buffered reads from a socket; `None` or `b""` at end of stream."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def until(self, sep: bytes) -> bytes | None:
        while (i := self.buf.find(sep)) < 0:
            if not self._fill():
                return None
        data, self.buf = bytes(self.buf[: i + len(sep)]), self.buf[i + len(sep) :]
        return data

    def exact(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            if not self._fill():
                return None
        data, self.buf = bytes(self.buf[:n]), self.buf[n:]
        return data

    def some(self) -> bytes:
        if not self.buf:
            self._fill()
        data, self.buf = bytes(self.buf), bytearray()
        return data


@dataclass
class _Head:
    raw: bytes
    first: list[str]  # the start line's words
    headers: dict[str, str]  # lower-cased names; the last value wins

    def framing(self, *, request: bool = False, no_body: bool = False) -> str | int:
        """How the body ends: "chunked", after a length, or at "close" (responses only)."""
        if no_body:
            return 0
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return "chunked"
        if "content-length" in self.headers:
            return int(self.headers["content-length"])
        return 0 if request else "close"

    @property
    def closes(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


def _read_head(reader: _Reader) -> _Head | None:
    raw = reader.until(b"\r\n\r\n")
    if raw is None:
        return None
    lines = raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return _Head(raw, lines[0].split(" ", 2), headers)


def _pieces(reader: _Reader, framing: str | int) -> Iterator[bytes]:
    """The body's data (chunked bodies decoded), piece by piece as it arrives."""
    if framing == "chunked":
        while (size_line := reader.until(b"\r\n")) is not None:
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                while reader.until(b"\r\n") not in (None, b"\r\n"):  # trailers
                    pass
                return
            data = reader.exact(size + 2)
            if data is None:
                return
            yield data[:-2]
        return
    left = framing if isinstance(framing, int) else -1
    while left != 0:
        data = reader.some()
        if not data:
            return
        if left > 0:
            data, left = data[:left], left - min(left, len(data))
        yield data


def _frame(data: bytes, framing: str | int) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data) if framing == "chunked" and data else data


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class FaultProxy:
    """An HTTP/1.1 relay to `upstream` that misbehaves on request; see the module docstring."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._cond = threading.Condition()
        self._armed: list[Armed] = []
        self._seen: list[tuple[str, str]] = []
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._acceptors: list[threading.Thread] = []
        self._closing = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._listener = self._bind(0)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        """The base URL clients use instead of the server's."""
        self.accept_connections()

    # -- the test's side --------------------------------------------------------------------

    def arm(self, method: str | None, path: str, fault: Fault, *, times: int | None = 1) -> Armed:
        """Make the next `times` requests (None: all) with `method` and a `path` prefix misbehave."""
        armed = Armed(self, method, path, fault, times)
        with self._cond:
            self._armed.append(armed)
        return armed

    def count(self, method: str | None = None, path: str = "") -> int:
        """How many requests with `method` (None: any) and a `path` prefix reached the proxy."""
        with self._cond:
            return sum(1 for m, p in self._seen if method in (None, m) and p.startswith(path))

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until `predicate()` is true (checked after each request); TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise TimeoutError("the fault proxy did not see what the test waited for")

    def wait_requests(
        self, n: int, method: str | None = None, path: str = "", timeout: float = 10.0
    ) -> None:
        """Block until `n` matching requests reached the proxy."""
        self.wait_for(lambda: self.count(method, path) >= n, timeout)

    def refuse_connections(self) -> None:
        """Keep the port but refuse new connections (bound, not listening)."""
        self._stop_accepting()
        self._listener.close()
        self._listener = self._bind(self.port)

    def accept_connections(self) -> None:
        """Listen (again) on the port."""
        self._listener.listen(64)
        thread = threading.Thread(target=self._accept_loop, args=(self._listener,), daemon=True)
        self._acceptors.append(thread)
        thread.start()

    def close(self) -> None:
        """Stop listening and end every connection."""
        self._closing.set()
        self._stop_accepting()
        with self._cond:  # no new connections now: end the open ones, which wakes held ones
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        for sock in [self._listener, self._wake_r, self._wake_w, *sockets]:
            sock.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the relay ----------------------------------------------------------------------------

    def _bind(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        return sock

    def _stop_accepting(self) -> None:
        for _ in self._acceptors:
            self._wake_w.send(b"x")
        for thread in self._acceptors:
            thread.join(timeout=5)
        self._acceptors.clear()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            ready, _, _ = select.select([listener, self._wake_r], [], [])
            if self._wake_r in ready:
                self._wake_r.recv(1)  # one poke stops one acceptor
                return
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                self._track(conn)
                thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
                self._threads.append(thread)
                thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._cond:
            self._sockets.add(sock)

    def _hold(self, client: socket.socket, seconds: float | None) -> bool:
        """Wait `seconds` (None: for ever); False if the client hung up or the proxy closed."""
        # A hang-up (or close(), which shuts the socket down) makes the socket readable.
        ready, _, _ = select.select([client], [], [], seconds)
        return not ready

    def _take(self, method: str, path: str) -> Armed | None:
        with self._cond:
            self._seen.append((method, path))
            armed = next((a for a in self._armed if a.matches(method, path)), None)
            if armed is not None:
                armed.seen += 1
                if armed.remaining is not None:
                    armed.remaining -= 1
            self._cond.notify_all()
        return armed

    def _fired(self, armed: Armed) -> None:
        with self._cond:
            armed.fired += 1
            self._cond.notify_all()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            reader = _Reader(client)
            up_reader: _Reader | None = None
            while not self._closing.is_set():
                head = _read_head(reader)
                if head is None:
                    return
                method, target = head.first[0], head.first[1]
                if target.startswith("http://"):  # used as an HTTP proxy: pass on origin-form
                    target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
                    head = _Head(
                        head.raw.replace(head.first[1].encode(), target.encode(), 1),
                        [method, target, *head.first[2:]],
                        head.headers,
                    )
                framing = head.framing(request=True)
                body = b"".join(_frame(piece, framing) for piece in _pieces(reader, framing))
                if framing == "chunked":
                    body += b"0\r\n\r\n"
                armed = self._take(method, target.split("?", 1)[0])
                fault = armed.fault if armed else None
                if isinstance(fault, Stall) and not fault.forward:
                    assert armed is not None
                    self._fired(armed)
                    self._hold(client, None)
                    return
                if upstream is None:
                    upstream = socket.create_connection(self._upstream)
                    self._track(upstream)
                    up_reader = _Reader(upstream)
                assert up_reader is not None
                upstream.sendall(head.raw + body)
                response = _read_head(up_reader)
                if response is None:
                    return
                status = int(response.first[1])
                framing = response.framing(no_body=method == "HEAD" or status in (204, 304))
                if armed is not None:
                    self._fired(armed)
                    if not self._misbehave(armed.fault, client, response, up_reader, framing):
                        return
                self._relay(client, response, _pieces(up_reader, framing), framing)
                if response.closes or head.closes or framing == "close":
                    return
        except (OSError, ValueError, IndexError):
            return  # a peer went away or spoke garbage: end this connection
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    with self._cond:
                        self._sockets.discard(sock)
                    sock.close()

    def _relay(
        self, client: socket.socket, response: _Head, pieces: Iterator[bytes], framing: str | int
    ) -> None:
        client.sendall(response.raw)
        for piece in pieces:
            client.sendall(_frame(piece, framing))
        if framing == "chunked":
            client.sendall(b"0\r\n\r\n")

    def _misbehave(
        self, fault: Fault, client: socket.socket, response: _Head, up: _Reader, framing: str | int
    ) -> bool:
        """Act out `fault`; True if the response should then be relayed as usual."""
        if isinstance(fault, LateHeaders):
            return self._hold(client, fault.seconds)
        if isinstance(fault, ResetAfterRequest):
            _reset(client)
        elif isinstance(fault, ReplaceBody):
            kind = fault.content_type or ("text/html" if fault.body == HTML else "application/json")
            client.sendall(
                b"HTTP/1.1 %d Replaced\r\ncontent-type: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s"
                % (fault.status, kind.encode(), len(fault.body), fault.body)
            )
        elif isinstance(fault, ResetMidBody):
            first = next(_pieces(up, framing), b"")
            keep = first[: fault.after_bytes if fault.after_bytes is not None else len(first) // 2]
            head = b"%x\r\n" % len(first) if framing == "chunked" else b""
            client.sendall(response.raw + head + keep)
            _reset(client)
        else:  # Stall with a forwarded request, or CutStream
            if fault.after_lines is not None:
                client.sendall(response.raw)
                self._send_lines(client, _pieces(up, framing), framing, fault.after_lines)
            if isinstance(fault, Stall):
                self._hold(client, None)
        return False

    def _send_lines(
        self, client: socket.socket, pieces: Iterator[bytes], framing: str | int, lines: int
    ) -> None:
        for piece in pieces if lines > 0 else ():
            for i, byte in enumerate(piece):
                if byte == 0x0A:
                    lines -= 1
                    if lines == 0:
                        client.sendall(_frame(piece[: i + 1], framing))
                        return
            client.sendall(_frame(piece, framing))
