"""More of the task client: stream results, status, streams, Retry-After: sync, asyncio, trio."""

from __future__ import annotations

import functools
from typing import Any

import anyio.to_thread
import httpx2
import pytest

from inferencesh import (
    AsyncTaskStream,
    InternalServerError,
    RateLimitError,
    StreamError,
    Task,
    TaskFailedError,
    TaskStatus,
    TaskStream,
    TaskTimeoutError,
    async_inference,
    inference,
)
from tests.conftest import Gates, Twin

pytestmark = [pytest.mark.anyio, pytest.mark.server]


async def result(twin: Twin, stream: TaskStream | AsyncTaskStream) -> Task:
    if isinstance(stream, AsyncTaskStream):
        return await stream.result()
    return await anyio.to_thread.run_sync(stream.result)


async def test_a_stream_result_is_the_completed_task(twin: Twin) -> None:
    stream = await twin("run", "infsh/slow", {"steps": 2}, stream=True)
    task = await result(twin, stream)
    assert task.status == TaskStatus.COMPLETED and task.output is not None


async def test_a_stream_result_after_some_updates_were_read(twin: Twin) -> None:
    stream = await twin("run", "infsh/slow", {"steps": 2}, stream=True)
    if twin.is_async:
        first = await anext(aiter(stream))
    else:
        first = await twin.run_sync(next, iter(stream))
    assert not first.is_terminal
    assert (await result(twin, stream)).id == first.id


async def test_a_stream_result_of_a_failed_task_raises(twin: Twin) -> None:
    stream = await twin("run", "infsh/fail", {"message": "nope"}, stream=True)
    with pytest.raises(TaskFailedError, match="nope") as info:
        await result(twin, stream)
    assert info.value.task.status == TaskStatus.FAILED


async def test_a_closed_stream_has_no_result(twin: Twin, gates: Gates) -> None:
    gate = gates.new()
    stream = await twin("run", "test/gate", {"gate": gate}, stream=True)
    if twin.is_async:
        await stream.aclose()
    else:
        await twin.run_sync(stream.close)
    try:
        with pytest.raises(StreamError, match="closed before the task ended"):
            await result(twin, stream)
    finally:
        gates.open(gate)


async def test_status_is_the_slim_status(twin: Twin, gates: Gates) -> None:
    gate = gates.new()
    created = await twin("run", "test/gate", {"gate": gate}, wait=False)
    running = await twin("tasks.status", created.id)
    assert running.id == created.id and not running.status.is_terminal
    gates.open(gate)
    await twin("tasks.wait", created.id)
    done = await twin("tasks.status", created.id)
    assert done.status == TaskStatus.COMPLETED and done.updated_at is not None


@pytest.mark.parametrize("mode", ["stream", "poll"])
async def test_tasks_stream_follows_a_task_to_its_end(
    make_twin: Any, gates: Gates, mode: str
) -> None:
    twin = make_twin(poll_interval=0.02)
    gate = gates.new()
    created = await twin("run", "test/gate", {"gate": gate, "output": 3}, wait=False)
    stream = twin.client.tasks.stream(created.id, mode=mode)
    gates.open(gate)
    if twin.is_async:
        async with stream:
            updates = [u async for u in stream]
    else:
        updates = await twin.run_sync(lambda: list(stream))
    assert updates[-1].status == TaskStatus.COMPLETED
    assert updates[-1].output == {"value": 3}
    assert not any(u.is_terminal for u in updates[:-1])


async def test_a_read_is_retried_after_a_transport_error(flavour: str) -> None:
    calls: list[str] = []

    def flaky(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            raise httpx2.ReadError("reset by peer", request=request)
        return httpx2.Response(200, json={"id": "t1", "status": 10}, request=request)

    transport = httpx2.MockTransport(flaky)
    if flavour == "sync":
        with inference(
            "sk-x", base_url="http://api.test", http_client=httpx2.Client(transport=transport)
        ) as client:
            # The backoff sleep (at most 0.5 s) blocks: run off the event loop.
            status = await anyio.to_thread.run_sync(functools.partial(client.tasks.status, "t1"))
    else:
        async with async_inference(
            "sk-x", base_url="http://api.test", http_client=httpx2.AsyncClient(transport=transport)
        ) as client:
            status = await client.tasks.status("t1")
    assert status.status == TaskStatus.COMPLETED
    assert calls == ["/tasks/t1/status"] * 2


async def test_retry_after_within_the_cap_is_honoured(twin: Twin, server: Any) -> None:
    task = await twin("run", "infsh/echo", {"text": "x"})
    server.emulator.faults.fail_next(2, status=429, retry_after=0.01, path="/tasks/*")
    assert (await twin("tasks.get", task.id)).id == task.id
    assert server.emulator.faults.take_failure("GET", f"/tasks/{task.id}") is None  # both used


async def test_retry_after_beyond_the_cap_is_raised_at_once(make_twin: Any, server: Any) -> None:
    twin = make_twin(max_retry_after=0.5)
    server.emulator.faults.fail_next(2, status=429, retry_after=120, path="/tasks/list")
    with pytest.raises(RateLimitError) as info:
        await twin("tasks.list")
    assert info.value.retry_after == 120.0 and info.value.status_code == 429
    assert "retry after 120 s" in str(info.value)
    # Raised on the first answer: the second armed failure is still there.
    assert server.emulator.faults.take_failure("POST", "/tasks/list") is not None


async def test_retry_after_past_the_deadline_is_raised_at_once(
    twin: Twin, server: Any, gates: Gates
) -> None:
    gate = gates.new()
    created = await twin("run", "test/gate", {"gate": gate}, wait=False)
    try:
        server.emulator.faults.fail_next(2, status=503, retry_after=30, path="/tasks/*/stream")
        with pytest.raises(TaskTimeoutError) as info:
            await twin("tasks.wait", created.id, wait_timeout=5)
        # The server asked for 30 s, the caller allowed 5: the answer comes now, not in 5 s.
        cause = info.value.__cause__
        assert isinstance(cause, InternalServerError) and cause.retry_after == 30.0
        assert server.emulator.faults.take_failure("GET", f"/tasks/{created.id}/stream")
    finally:
        gates.open(gate)


async def test_logs_sent_as_new_entries_only_arrive_complete_and_in_order(twin: Twin) -> None:
    # The emulator's stream carries each log append as just the new entry; the client merges
    # by id, so every update holds every entry so far, in order, each once.
    updates = await twin.collect("run", "infsh/slow", {"steps": 6, "interval": 0.1}, stream=True)
    final = updates[-1].task
    wanted = [f"step {i}/6" for i in range(1, 7)]
    assert [log.content for log in final.logs] == wanted
    fetched = await twin("tasks.get", final.id)
    assert [log.id for log in final.logs] == [log.id for log in fetched.logs]
    for update in updates:
        contents = [entry["content"] for entry in update.data.get("logs") or []]
        assert contents == wanted[: len(contents)]
    # The last update before the terminal one came from appends: it already holds all six.
    assert len(updates[-2].data["logs"]) == 6
