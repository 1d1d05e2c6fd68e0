"""The sync client's http.client transport for task streams, over a real socket."""

from __future__ import annotations

import gzip
import http.client
import os
import queue
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferencesh import TaskStatus, TaskUpdate, inference
from inferencesh._config import ClientOptions
from inferencesh._protocol.ndjson import ChunkedEncodingError, Dechunker
from inferencesh._protocol.watch import TaskWatch
from inferencesh._sync._http import HTTP
from inferencesh._sync._transport import StdlibTransport, translate_error
from inferencesh.errors import APIConnectionError, StreamError
from inferencesh.local import running
from inferencesh.local._server import RunningServer
from tests.conftest import Gates, make_emulator

pytestmark = pytest.mark.server

NDJSON = {"accept": "application/x-ndjson"}


@pytest.fixture(scope="module")
def quiet() -> Iterator[RunningServer]:
    """An emulator whose streams send nothing but updates: no heartbeats, no snapshots."""
    emu = make_emulator()
    emu.heartbeat_interval = 3600.0
    emu.snapshot_interval = None
    with running(emu) as srv:
        yield srv
    emu.close()


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[httpx2.Response]:
    """The responses `StdlibTransport` returned during the test."""
    responses: list[httpx2.Response] = []
    original = StdlibTransport.handle_request

    def spy(self: StdlibTransport, request: httpx2.Request) -> httpx2.Response:
        response = original(self, request)
        responses.append(response)
        return response

    monkeypatch.setattr(StdlibTransport, "handle_request", spy)
    return responses


@pytest.fixture
def sockets(monkeypatch: pytest.MonkeyPatch) -> list[socket.socket]:
    """The sockets http.client connected during the test."""
    made: list[socket.socket] = []
    original = http.client.HTTPConnection.connect

    def connect(self: http.client.HTTPConnection) -> None:
        original(self)
        made.append(self.sock)

    monkeypatch.setattr(http.client.HTTPConnection, "connect", connect)
    return made


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def blocked_task(srv: RunningServer, gates: Gates) -> tuple[str, str]:
    """A task whose app has started and waits on a gate: (task id, gate)."""
    gate = gates.new()
    with srv.client() as client:
        task_id = client.run("test/gate", {"gate": gate}, wait=False).id
    assert gates.wait_started(gate)
    return task_id, gate


def stream_request(srv: RunningServer, task_id: str, *, read: float = 10.0) -> httpx2.Request:
    return httpx2.Request(
        "GET",
        srv.url(f"/tasks/{task_id}/stream"),
        headers={**NDJSON, "authorization": f"Bearer {srv.api_key}"},
        extensions={"timeout": {"connect": 5.0, "read": read, "write": 5.0, "pool": 5.0}},
    )


def in_thread(fn: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


# -- lines reach the caller as they arrive ---------------------------------------------


def test_a_line_reaches_the_caller_while_the_server_sends_nothing_more(
    quiet: RunningServer, gates: Gates, opened: list[httpx2.Response]
) -> None:
    # The app is blocked, so the stream sends its snapshot line and then stays silent (no
    # heartbeats): a transport that held a line back until more data came would never
    # deliver it, and the queue times out.
    task_id, gate = blocked_task(quiet, gates)
    seen: queue.Queue[TaskUpdate] = queue.Queue()
    with quiet.client() as client:

        def consume() -> None:
            with client.tasks.stream(task_id) as updates:
                for update in updates:
                    seen.put(update)

        thread = in_thread(consume)
        try:
            first = seen.get(timeout=10)
            assert first.status == TaskStatus.RUNNING and not first.is_terminal
            assert seen.empty()
        finally:
            gates.open(gate)
        thread.join(10)
        assert not thread.is_alive()
    rest = [seen.get_nowait() for _ in range(seen.qsize())]
    assert rest[-1].status == TaskStatus.COMPLETED
    assert [r.request.url.path for r in opened] == [f"/tasks/{task_id}/stream"]


def test_only_task_streams_go_through_the_transport(
    server: Any, opened: list[httpx2.Response]
) -> None:
    with server.client() as client:
        updates = list(client.run("infsh/slow", {"steps": 2}, stream=True))
        client.tasks.get(updates[-1].id)
    assert updates[-1].status == TaskStatus.COMPLETED
    assert [(r.request.method, r.request.url.path.rsplit("/", 1)[-1]) for r in opened] == [
        ("GET", "stream")
    ]


# -- errors, as the client's retry and reconnect logic expects them ----------------------


def test_connection_refused_is_a_connect_error() -> None:
    with httpx2.Client(transport=StdlibTransport()) as http:
        with pytest.raises(httpx2.ConnectError):
            http.get(f"http://127.0.0.1:{closed_port()}/tasks/t/stream")


def test_a_refused_stream_reaches_the_caller_as_a_connection_error() -> None:
    opts = ClientOptions(
        api_key="sk-x",
        base_url=f"http://127.0.0.1:{closed_port()}",
        max_retries=0,
        max_reconnects=0,
    )
    http = HTTP(opts, None)
    try:
        with pytest.raises(StreamError) as info:
            list(http.follow(TaskWatch(opts, "t1", mode="stream")))
    finally:
        http.close()
    cause = info.value.__cause__
    assert isinstance(cause, APIConnectionError)
    assert isinstance(cause.__cause__, httpx2.ConnectError)


def test_silence_longer_than_the_read_timeout_is_a_read_timeout(
    quiet: RunningServer, gates: Gates
) -> None:
    task_id, gate = blocked_task(quiet, gates)
    try:
        with httpx2.Client(transport=StdlibTransport()) as http:
            with closing(
                http.send(stream_request(quiet, task_id, read=0.2), stream=True)
            ) as response:
                chunks = response.iter_bytes()
                assert b'"status"' in next(chunks)
                with pytest.raises(httpx2.ReadTimeout):
                    next(chunks)
    finally:
        gates.open(gate)


def test_a_read_timeout_makes_the_client_reconnect(quiet: RunningServer, gates: Gates) -> None:
    task_id, gate = blocked_task(quiet, gates)
    opts = ClientOptions(
        api_key=quiet.api_key, base_url=quiet.base_url, stream_idle_timeout=0.2, max_reconnects=0
    )
    http = HTTP(opts, None)
    try:
        updates = http.follow(TaskWatch(opts, task_id, mode="stream"))
        assert next(updates).status == TaskStatus.RUNNING
        with pytest.raises(StreamError) as info:
            next(updates)
        assert isinstance(info.value.__cause__, httpx2.ReadTimeout)
    finally:
        http.close()
        gates.open(gate)


def test_a_stream_cut_mid_body_is_a_protocol_error(
    server: Any, gates: Gates, sockets: list[socket.socket]
) -> None:
    task_id, gate = blocked_task(server, gates)
    server.emulator.faults.cut_stream_after(1)
    try:
        with httpx2.Client(transport=StdlibTransport()) as http:
            with closing(http.send(stream_request(server, task_id), stream=True)) as response:
                with pytest.raises(httpx2.RemoteProtocolError):
                    for _ in response.iter_bytes():
                        pass
    finally:
        gates.open(gate)
    assert len(sockets) == 1 and sockets[0].fileno() == -1


def test_a_sized_body_cut_short_is_a_protocol_error() -> None:
    """A body with a `Content-Length` the server never reaches is not taken as whole."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\n"
            conn.sendall(head + b"content-length: 100\r\n\r\n" + b'{"a":1}\n')

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/tasks/t/stream"
    try:
        with httpx2.Client(transport=StdlibTransport()) as http:
            request = http.build_request("GET", url, headers=NDJSON)
            with closing(http.send(request, stream=True)) as response:
                received = b""
                with pytest.raises(httpx2.RemoteProtocolError, match="92 bytes before the end"):
                    for chunk in response.iter_bytes():
                        received += chunk
        assert received == b'{"a":1}\n'
    finally:
        thread.join(5)
        listener.close()


def test_cut_streams_reconnect_through_the_transport(
    server: Any, opened: list[httpx2.Response]
) -> None:
    server.emulator.faults.cut_stream_after(2, times=2)
    with server.client() as client:
        updates = list(client.run("infsh/slow", {"steps": 4}, stream=True))
    assert updates[-1].status == TaskStatus.COMPLETED
    statuses = [u.status for u in updates]
    assert statuses == sorted(statuses)
    assert len(opened) >= 3


def test_opening_a_stream_retries_a_503(server: Any, opened: list[httpx2.Response]) -> None:
    server.emulator.faults.fail_next(1, status=503, retry_after=0.01, path="/tasks/*/stream")
    with server.client() as client:
        updates = list(client.run("infsh/slow", {"steps": 2}, stream=True))
    assert updates[-1].status == TaskStatus.COMPLETED
    assert [r.status_code for r in opened][:2] == [503, 200]


@pytest.mark.parametrize(
    ("exc", "connecting", "expected"),
    [
        (ConnectionRefusedError(111, "refused"), True, httpx2.ConnectError),
        (socket.gaierror(-2, "Name or service not known"), True, httpx2.ConnectError),
        (ssl.SSLCertVerificationError("bad cert"), True, httpx2.ConnectError),
        (TimeoutError("timed out"), True, httpx2.ConnectTimeout),
        (TimeoutError("timed out"), False, httpx2.ReadTimeout),
        (http.client.IncompleteRead(b""), False, httpx2.RemoteProtocolError),
        (http.client.RemoteDisconnected("closed"), False, httpx2.RemoteProtocolError),
        (ConnectionResetError(104, "reset"), False, httpx2.RemoteProtocolError),
        (http.client.BadStatusLine("x"), False, httpx2.RemoteProtocolError),
        (OSError(9, "bad fd"), False, httpx2.ReadError),
    ],
)
def test_errors_translate_like_the_async_transport(
    exc: OSError | http.client.HTTPException, connecting: bool, expected: type[Exception]
) -> None:
    assert type(translate_error(exc, connecting=connecting)) is expected


def test_other_schemes_are_unsupported() -> None:
    with httpx2.Client(transport=StdlibTransport()) as http:
        with pytest.raises(httpx2.UnsupportedProtocol):
            http.get("ftp://127.0.0.1/x")


# -- closing ---------------------------------------------------------------------------


def test_leaving_a_stream_early_closes_its_socket_at_once(
    server: Any, gates: Gates, sockets: list[socket.socket]
) -> None:
    task_id, gate = blocked_task(server, gates)
    try:
        with server.client() as client:
            with client.tasks.stream(task_id) as updates:
                assert not next(updates).is_terminal
            # The server keeps the stream open (the app is blocked, heartbeats flow): only the
            # client closed it.
            assert len(sockets) == 1 and sockets[0].fileno() == -1
    finally:
        gates.open(gate)


def test_closing_the_client_closes_the_stream_client(quiet: RunningServer) -> None:
    client = quiet.client()
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        list(client.tasks.stream("tsk_any"))


# -- when the transport is not used ----------------------------------------------------


def test_the_callers_own_client_carries_streams_too(
    server: Any, opened: list[httpx2.Response]
) -> None:
    with httpx2.Client() as own, server.client(http_client=own) as client:
        updates = list(client.run("infsh/slow", {"steps": 2}, stream=True))
    assert updates[-1].status == TaskStatus.COMPLETED
    assert opened == []


def test_proxies_in_the_environment_keep_streams_on_httpx2(
    server: Any, opened: list[httpx2.Response], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An https proxy only: the emulator's http:// URL is reached directly either way.
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{closed_port()}")
    with server.client() as client:
        updates = list(client.run("infsh/slow", {"steps": 2}, stream=True))
    assert updates[-1].status == TaskStatus.COMPLETED
    assert opened == []


def test_no_proxy_alone_configures_no_proxy(
    server: Any, opened: list[httpx2.Response], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "example.com")
    with inference(server.api_key, base_url=server.base_url) as client:
        list(client.run("infsh/slow", {"steps": 2}, stream=True))
    assert len(opened) == 1


def test_a_compressed_stream_is_still_decoded() -> None:
    # Streams ask for identity encoding and read raw bytes; a server that compresses anyway
    # must still be understood.
    body = gzip.compress(b'{"id":"t1","status":7}\n{"id":"t1","status":10,"output":{"a":1}}\n')

    def handler(request: httpx2.Request) -> httpx2.Response:
        headers = {"content-type": "application/x-ndjson", "content-encoding": "gzip"}
        return httpx2.Response(200, headers=headers, content=body)

    own = httpx2.Client(transport=httpx2.MockTransport(handler))
    with own, inference("sk-x", base_url="http://api.test", http_client=own) as client:
        updates = list(client.tasks.stream("t1"))
    assert [u.status for u in updates] == [TaskStatus.RUNNING, TaskStatus.COMPLETED]
    assert updates[-1].output == {"a": 1}


def _chunked(parts: list[bytes], *, ext: bool, trailers: bool) -> bytes:
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(p), b";name=x" if ext else b"", p) for p in parts if p)
    return body + b"0\r\n" + (b"x-check: 1\r\n" if trailers else b"") + b"\r\n"


@given(
    parts=st.lists(st.binary(min_size=1, max_size=40), max_size=12),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=10),
    ext=st.booleans(),
    trailers=st.booleans(),
)
def test_dechunker_gives_the_same_data_for_any_split(
    parts: list[bytes], cuts: list[int], ext: bool, trailers: bool
) -> None:
    wire = _chunked(parts, ext=ext, trailers=trailers) + b"GET / HTTP/1.1\r\n"
    dechunker = Dechunker()
    out = b""
    bounds = sorted({0, len(wire), *(c for c in cuts if c < len(wire))})
    for start, stop in zip(bounds, bounds[1:], strict=False):
        if dechunker.done:
            break
        out += dechunker.feed(wire[start:stop])
    assert dechunker.done
    assert out == b"".join(parts)


@pytest.mark.parametrize("wire", [b"zz\r\n", b"-5\r\nabc\r\n", b"3\r\nabcX\r\n", b"1" * 5000])
def test_dechunker_refuses_broken_framing(wire: bytes) -> None:
    with pytest.raises(ChunkedEncodingError):
        Dechunker().feed(wire)
