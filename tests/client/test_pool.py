"""The async client's own connection pool (`_pool.PooledTransport`) over real sockets.

It carries every request of the async client on trio (and on asyncio without aiohttp): keep-alive
when, and only when, an exchange ended cleanly; stale connections never reused; the limit on
open connections; streamed request bodies. Against a raw HTTP/1.1 server on a thread that counts
connections, asyncio and trio.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing
from typing import Any

import anyio
import httpx2
import pytest

from inferencesh._async._pool import PooledTransport
from inferencesh._protocol.retry import SENT

pytestmark = pytest.mark.anyio

Responder = Callable[["Exchange"], bytes]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Exchange:
    """One request as the server read it."""

    def __init__(self, conn_no: int, method: str, path: str, headers: dict[str, str], body: bytes):
        self.conn_no = conn_no
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body


def ok(body: bytes = b"hello", *, extra_headers: bytes = b"", tail: bytes = b"") -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n" % (len(body), extra_headers)
    return head + body + tail


class RawServer:
    """HTTP/1.1 on a thread: each request answered with `respond(exchange)`'s raw bytes.

    Keeps a connection open for its next request unless the answer says `Connection: close`
    (or `close_idle()` is called). Counts connections, and the most open at once.
    """

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.exchanges: list[Exchange] = []
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.gate: threading.Event | None = None
        self._cond = threading.Condition()
        self._idle: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        except OSError:
            pass
        self._listener.close()

    def wait_requests(self, n: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.exchanges) >= n, 10)

    def wait_idle(self, n: int) -> None:
        """Until `n` connections wait for their next request."""
        with self._cond:
            assert self._cond.wait_for(lambda: len(self._idle) >= n, 10)

    def wait_closed(self) -> None:
        """Until no connection is open on the server's side."""
        with self._cond:
            assert self._cond.wait_for(lambda: self.open == 0, 10)

    def close_idle(self) -> None:
        """Close the connections waiting for a next request (as a keep-alive timeout does)."""
        with self._cond:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.shutdown(socket.SHUT_RDWR)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._cond:
                self.connections += 1
                self.open += 1
                self.most_open = max(self.most_open, self.open)
                number = self.connections
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        reader = conn.makefile("rb")
        try:
            while True:
                with self._cond:
                    self._idle.append(conn)
                    self._cond.notify_all()
                line = reader.readline()
                with self._cond:
                    if conn in self._idle:
                        self._idle.remove(conn)
                if not line:
                    return
                method, path, _ = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = self._body(reader, headers)
                exchange = Exchange(number, method, path, headers, body)
                with self._cond:
                    self.exchanges.append(exchange)
                    self._cond.notify_all()
                if self.gate is not None:
                    self.gate.wait(10)
                answer = self.respond(exchange)
                if not answer:
                    return  # no answer at all: the connection just closes
                conn.sendall(answer)
                if b"connection: close" in answer.lower().split(b"\r\n\r\n")[0]:
                    return
        except OSError:
            return
        finally:
            with self._cond:
                self.open -= 1
                self._cond.notify_all()
            conn.close()

    @staticmethod
    def _body(reader: Any, headers: dict[str, str]) -> bytes:
        if "content-length" in headers:
            return bytes(reader.read(int(headers["content-length"])))
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int(reader.readline().split(b";")[0], 16):
                body += reader.read(size)
                reader.readline()
            reader.readline()
            return body
        return b""


@pytest.fixture
def raw() -> Iterator[Callable[[Responder], RawServer]]:
    servers: list[RawServer] = []

    def make(respond: Responder) -> RawServer:
        servers.append(RawServer(respond))
        return servers[-1]

    yield make
    for server in servers:
        if server.gate is not None:
            server.gate.set()
        server.close()


async def send(
    pool: PooledTransport, method: str, url: str, content: Any = None, **kwargs: Any
) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=pool) as http:
        response = await http.request(method, url, content=content, **kwargs)
    return response


async def test_exchanges_that_end_cleanly_share_one_connection(raw: Any) -> None:
    server = raw(lambda ex: ok(b"%s %s %s" % (ex.method.encode(), ex.path.encode(), ex.body)))
    pool = PooledTransport()
    http = httpx2.AsyncClient(transport=pool)
    answers = [
        (await http.get(f"{server.url}/a")).content,
        (await http.post(f"{server.url}/b", content=b"payload")).content,
        (await http.get(f"{server.url}/c")).content,
    ]
    await http.aclose()
    assert answers == [b"GET /a ", b"POST /b payload", b"GET /c "]
    assert server.connections == 1


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(ok(extra_headers=b"Connection: close\r\n"), id="server-says-close"),
        pytest.param(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello", id="http-1.0"),
        pytest.param(ok(tail=b"HTTP/1.1 200 OK\r\n"), id="bytes-after-the-body"),
    ],
)
async def test_a_connection_that_did_not_end_cleanly_is_not_reused(raw: Any, answer: bytes) -> None:
    server = raw(lambda ex: answer)
    http = httpx2.AsyncClient(transport=PooledTransport())
    for _ in range(2):
        assert (await http.get(f"{server.url}/x")).content == b"hello"
    await http.aclose()
    assert server.connections == 2


async def test_a_body_left_unread_closes_its_connection(raw: Any) -> None:
    server = raw(lambda ex: ok(b"x" * 100_000))
    http = httpx2.AsyncClient(transport=PooledTransport())
    async with http.stream("GET", f"{server.url}/big") as response:
        async with aclosing(response.aiter_raw()) as chunks:
            async for _ in chunks:
                break  # leave before the end
    assert (await http.get(f"{server.url}/next")).content == b"x" * 100_000
    await http.aclose()
    assert server.connections == 2


async def test_a_connection_the_server_closed_while_idle_is_not_reused(raw: Any) -> None:
    server = raw(lambda ex: ok(ex.body or b"hello"))
    http = httpx2.AsyncClient(transport=PooledTransport())
    assert (await http.get(f"{server.url}/first")).content == b"hello"
    server.wait_idle(1)
    server.close_idle()  # as a server's keep-alive timeout does
    await anyio.to_thread.run_sync(server.wait_closed)  # the socket is readable now (EOF)
    response = await http.post(f"{server.url}/run", content=b"once")
    await http.aclose()
    assert response.content == b"once"
    assert [ex.path for ex in server.exchanges].count("/run") == 1  # sent once, on a new one
    assert server.connections == 2


async def test_an_idle_connection_past_its_expiry_is_not_reused(raw: Any) -> None:
    server = raw(lambda ex: ok())
    http = httpx2.AsyncClient(transport=PooledTransport(keepalive_expiry=0.0))
    for _ in range(2):
        assert (await http.get(f"{server.url}/x")).content == b"hello"
    await http.aclose()
    assert server.connections == 2


async def test_no_more_than_max_connections_are_open(raw: Any) -> None:
    server = raw(lambda ex: ok(ex.path.encode()))
    server.gate = threading.Event()
    http = httpx2.AsyncClient(transport=PooledTransport(max_connections=2))
    results: list[bytes] = []

    async def get(i: int) -> None:
        results.append((await http.get(f"{server.url}/{i}")).content)

    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(get, i)
        await anyio.to_thread.run_sync(server.wait_requests, 2)
        assert server.open == 2 and len(server.exchanges) == 2  # three wait for a connection
        server.gate.set()
    await http.aclose()
    assert sorted(results) == [b"/0", b"/1", b"/2", b"/3", b"/4"]
    assert server.most_open == 2 and server.connections == 2


async def test_at_the_limit_an_idle_connection_elsewhere_makes_room(raw: Any) -> None:
    first, second = raw(lambda ex: ok()), raw(lambda ex: ok())
    http = httpx2.AsyncClient(transport=PooledTransport(max_connections=1))
    assert (await http.get(f"{first.url}/x")).content == b"hello"  # idle now, holding the slot
    with anyio.fail_after(10):
        assert (await http.get(f"{second.url}/x")).content == b"hello"
    await http.aclose()


async def test_a_streamed_request_body_is_sent_chunked(raw: Any) -> None:
    server = raw(
        lambda ex: ok(b"%d:%s" % (len(ex.body), ex.headers.get("transfer-encoding", "").encode()))
    )

    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one ", b"", b"two ", b"three"):
            yield part

    http = httpx2.AsyncClient(transport=PooledTransport())
    streamed = await http.post(f"{server.url}/up", content=parts())
    known = await http.put(f"{server.url}/up", content=b"x" * 70_000)
    await http.aclose()
    assert streamed.content == b"13:chunked" and known.content == b"70000:"
    assert server.exchanges[0].body == b"one two three"
    assert server.connections == 1


async def test_sent_is_recorded_only_once_bytes_may_have_left(raw: Any) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    pool = PooledTransport()
    refused = httpx2.Request("POST", f"http://127.0.0.1:{port}/run", content=b"{}")
    with pytest.raises(httpx2.ConnectError):
        await pool.handle_async_request(refused)
    assert refused.extensions[SENT] is False

    server = raw(lambda ex: b"")  # reads the request, closes without an answer
    dropped = httpx2.Request("POST", f"{server.url}/run", content=b"{}")
    with pytest.raises(httpx2.RemoteProtocolError):
        await pool.handle_async_request(dropped)
    assert dropped.extensions[SENT] is True
    await pool.aclose()


async def test_timeouts(raw: Any) -> None:
    server = raw(lambda ex: ok())
    server.gate = threading.Event()  # never answers until the test ends
    pool = PooledTransport()
    request = httpx2.Request(
        "GET",
        f"{server.url}/slow",
        extensions={"timeout": {"connect": 5, "read": 0.05, "write": 5}},
    )
    with pytest.raises(httpx2.ReadTimeout):
        await pool.handle_async_request(request)
    await pool.aclose()


async def test_other_schemes_are_unsupported() -> None:
    with pytest.raises(httpx2.UnsupportedProtocol):
        await PooledTransport().handle_async_request(httpx2.Request("GET", "ftp://example.com/x"))


async def test_an_answer_before_the_whole_body_is_the_answer_not_the_failed_write(
    anyio_backend: str,
) -> None:
    """A server may answer (a 413) before it read the body, and close: on trio that answer is
    returned. (On asyncio anyio closes the transport when a write fails, and what was not read
    yet goes with it: the write's error is raised, typed.)"""
    answered = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!"
            )
            answered.set()
            conn.shutdown(socket.SHUT_RDWR)
        listener.close()

    threading.Thread(target=serve, daemon=True).start()

    async def body() -> AsyncIterator[bytes]:
        yield b"x" * 1024
        await anyio.to_thread.run_sync(answered.wait, 10)  # the server has answered and closed
        for _ in range(4096):  # far more than any socket buffer takes: a write fails
            yield b"y" * 65536

    pool = PooledTransport()
    request = httpx2.Request("POST", f"{url}/apps/run", content=body())
    if anyio_backend == "asyncio":
        with pytest.raises(httpx2.TransportError):
            await pool.handle_async_request(request)
    else:
        response = await pool.handle_async_request(request)
        assert response.status_code == 413 and await response.aread() == b"too big!"
        await response.aclose()
    assert request.extensions[SENT] is True
    await pool.aclose()


async def test_waiting_for_a_busy_pool_is_bounded_by_the_pool_timeout(raw: Any) -> None:
    server = raw(lambda ex: ok())
    server.gate = threading.Event()  # the first request holds the only connection
    pool = PooledTransport(max_connections=1)
    timeout = {"connect": 5.0, "read": 10.0, "write": 5.0, "pool": 0.05}

    async def first() -> None:
        request = httpx2.Request("GET", f"{server.url}/slow", extensions={"timeout": timeout})
        response = await pool.handle_async_request(request)
        await response.aread()
        await response.aclose()

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        await anyio.to_thread.run_sync(server.wait_requests, 1)
        waiting = httpx2.Request("GET", f"{server.url}/next", extensions={"timeout": timeout})
        with pytest.raises(httpx2.PoolTimeout):
            await pool.handle_async_request(waiting)
        assert waiting.extensions[SENT] is False
        server.gate.set()
    await pool.aclose()
    assert server.connections == 1
