"""Memory bounds of the emulator: body size, retained tasks, subscriber queues, stream size."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from inferencesh.local import AppContext, Emulator, RunningServer
from tests.local._support import assert_problem

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024  # docs/emulator.md, "Limits"


def _ids(emu: Emulator) -> tuple[list[str], list[str]]:
    return [t["id"] for t in emu.tasks()], [f["id"] for f in emu.files(include_pending=True)]


def test_the_body_limit_has_a_documented_default() -> None:
    assert Emulator().max_body_size == DEFAULT_MAX_BODY_SIZE
    with pytest.raises(ValueError, match="max_body_size"):
        Emulator(max_body_size=0)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/apps/run", "/files", "/tasks/list"])
def test_a_body_over_the_limit_is_a_413_and_changes_nothing(
    http: httpx2.Client, local_emu: Emulator, path: str, chunked: bool
) -> None:
    local_emu.max_body_size = 1024
    body = b'{"app": "infsh/echo", "input": {"text": "' + b"x" * 4096 + b'"}}'

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    before = _ids(local_emu)
    response = http.post(path, content=pieces() if chunked else body)
    problem = assert_problem(response, 413, "payload_too_large")
    assert "1024 bytes" in problem["detail"] and "max_body_size" in problem["detail"]
    assert response.headers["connection"] == "close"  # the rest of the body was dropped
    assert _ids(local_emu) == before
    # The next request (a new connection) is served as usual.
    assert http.post("/tasks/list", json={}).status_code == 200


def test_a_body_at_the_limit_is_read(http: httpx2.Client, local_emu: Emulator) -> None:
    body = b'{"app": "infsh/echo", "input": {"text": "hi"}}'
    local_emu.max_body_size = len(body)
    response = http.post("/apps/run", content=body)
    assert response.status_code == 200, response.text
    local_emu.wait_for_task(response.json()["data"]["id"])


def test_uploads_have_their_own_limit(
    http: httpx2.Client, local_emu: Emulator, local_server: RunningServer
) -> None:
    local_emu.max_body_size = 1024
    created = http.post("/files", json={"files": [{"filename": "a.bin", "size": 4096}]})
    upload_url = created.json()["data"][0]["upload_url"]
    assert httpx2.put(upload_url, content=b"x" * 4096).status_code == 200


def _stream_bytes(http: httpx2.Client, emu: Emulator, lines: int) -> tuple[int, int, list[int]]:
    """Run `test/chatty` for `lines` log lines; (bytes streamed, lines, each line's size)."""
    created = http.post("/apps/run", json={"app": "test/chatty", "input": {"lines": lines}})
    assert created.status_code == 200, created.text
    task_id = created.json()["data"]["id"]
    sizes: list[int] = []
    with http.stream("GET", f"/tasks/{task_id}/stream") as response:
        for line in response.iter_lines():
            if line and line != '{"type":"heartbeat"}':  # their number depends on timing
                sizes.append(len(line.encode()) + 1)
    assert emu.task(task_id)["status"] == 10
    return sum(sizes), len(sizes), sizes


@pytest.fixture
def chatty(local_emu: Emulator) -> None:
    @local_emu.app("test/chatty", wait_for_stream=10)
    def chatty(ctx: AppContext, input: dict[str, int]) -> dict[str, int]:
        for i in range(input["lines"]):
            ctx.log(f"line {i:05d} " + "x" * 100)
        return {"lines": input["lines"]}


@pytest.mark.parametrize("stream_format", ["bare", "wrapped"])
@pytest.mark.usefixtures("chatty")
def test_stream_bytes_grow_linearly_with_log_lines(
    http: httpx2.Client, local_emu: Emulator, stream_format: str
) -> None:
    local_emu.stream_format = stream_format  # type: ignore[assignment]
    small, small_lines, _ = _stream_bytes(http, local_emu, 150)
    large, large_lines, sizes = _stream_bytes(http, local_emu, 1500)
    # One line per log line (give or take the `queued` update, which may come before the
    # stream opens or after).
    assert large_lines - small_lines in (1349, 1350, 1351)
    per_line = (large - small) / 1350
    # A log line is ~300 bytes on its own and ~300 more in the final full task: linear.
    # Re-sending the whole task per line (the old way) made it ~230 kB per line here.
    assert per_line < 1000, per_line
    # No update but the snapshot and the final full task grows with the task's history.
    assert max(sizes[1:-1]) < 1000, max(sizes[1:-1])


def test_the_oldest_finished_tasks_are_evicted_past_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inferencesh.local import running
    from inferencesh.local.tasks import _state
    from tests.local._support import new_gate, register_test_apps

    monkeypatch.setattr(_state, "EVICTED_IDS", 2)
    emu = Emulator(api_key=None, max_finished_tasks=3)
    assert Emulator().max_finished_tasks == 1000  # the documented default
    register_test_apps(emu)
    with running(emu) as server, httpx2.Client(base_url=server.base_url) as client:
        gate = new_gate()
        running_id = client.post(
            "/apps/run", json={"app": "test/gate", "input": {"gate": gate.name}}
        ).json()["data"]["id"]
        gate.wait_entered()
        done: list[str] = []
        for i in range(6):
            created = client.post("/apps/run", json={"app": "infsh/echo", "input": {"i": i}})
            done.append(emu.wait_for_task(created.json()["data"]["id"])["id"])
        # The three newest finished tasks are kept, and the one still running.
        kept = [t["id"] for t in emu.tasks()]
        assert kept == [running_id, *done[3:]]
        listed = client.post("/tasks/list", json={"limit": 100}).json()["data"]["items"]
        assert {t["id"] for t in listed} == set(kept)
        for path in ("", "/status", "/stream", "/logs"):
            problem = assert_problem(client.get(f"/tasks/{done[2]}{path}"), 404, "not_found")
            assert "evicted" in problem["detail"] and "max_finished_tasks" in problem["detail"]
        # Only the most recent evicted ids are remembered: older ones are plain "not found".
        old = assert_problem(client.get(f"/tasks/{done[0]}"), 404, "not_found")
        assert "evicted" not in old["detail"]
        gate.release.set()
        emu.wait_for_task(running_id)
        assert [t["id"] for t in emu.tasks()] == [running_id, *done[4:]]  # oldest first
        # Lowering the cap evicts at the next finish.
        emu.max_finished_tasks = 1
        created = client.post("/apps/run", json={"app": "infsh/echo", "input": {}})
        last = emu.wait_for_task(created.json()["data"]["id"])["id"]
        assert [t["id"] for t in emu.tasks()] == [last]
    emu.close()
    with pytest.raises(ValueError, match="max_finished_tasks"):
        Emulator(max_finished_tasks=0)


def test_a_subscriber_that_does_not_read_is_dropped_and_its_stream_broken_off() -> None:
    import socket
    from urllib.parse import urlsplit

    from inferencesh.local import running
    from tests.local._support import new_gate

    emu = Emulator(api_key=None, max_stream_buffer=64 * 1024)
    gate = new_gate()
    sent = [0]

    @emu.app("test/firehose", wait_for_stream=10)
    def firehose(ctx: AppContext, input: dict[str, str]) -> dict[str, int]:
        record = emu.task_store.get(ctx.task_id)
        assert record is not None
        # Log until the stream is dropped (64 MB at most, so a bug cannot run forever).
        while record.topic.subscriber_count and sent[0] < 64 * 1024 * 1024:
            ctx.log("x" * 4000)
            sent[0] += 4000
        gate.entered.set()
        assert gate.release.wait(30)
        return {"sent": sent[0]}

    with running(emu) as server:
        task_id = httpx2.post(
            server.url("/apps/run"), json={"app": "test/firehose", "input": {}}
        ).json()["data"]["id"]
        url = urlsplit(server.base_url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: small
        sock.connect((url.hostname, url.port))
        try:
            sock.sendall(f"GET /tasks/{task_id}/stream HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            gate.wait_entered()  # the app saw the stream's subscriber go away
            record = emu.task_store.get(task_id)
            assert record is not None and record.topic.subscriber_count == 0
            assert emu.task(task_id)["status"] == 7  # still running: the stream was dropped
            assert sent[0] < 64 * 1024 * 1024
            # Reading now gets what was in flight, then the connection ends without the
            # chunked body's last chunk: the client sees a broken stream, not a clean end.
            received = bytearray()
            while chunk := sock.recv(1 << 16):
                received += chunk
        finally:
            sock.close()
            gate.release.set()
        assert received.startswith(b"HTTP/1.1 200")
        assert not received.endswith(b"0\r\n\r\n")
        assert emu.wait_for_task(task_id)["status"] == 10
    emu.close()


@pytest.mark.anyio
async def test_a_line_larger_than_the_buffer_still_reaches_a_reader_that_keeps_up() -> None:
    from inferencesh.local.core._streams import StreamItem, Topic

    topic = Topic(max_buffered=10)
    sub = topic.subscribe()
    sub.push(StreamItem(b"x" * 100))  # an empty buffer takes any line
    assert [i.line for i in await sub.next_batch(0)] == [b"x" * 100]
    sub.push(StreamItem(b"y" * 6))
    sub.push(StreamItem(b"z" * 6))  # 12 bytes behind: dropped
    assert sub.dropped and topic.subscriber_count == 0
    [last] = await sub.next_batch(0)
    assert last.final and not last.line
    sub.push(StreamItem(b"later"))  # nothing more is kept
    assert len(await sub.next_batch(0)) == 1
