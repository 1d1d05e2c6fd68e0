"""A server that stops answering holds no caller longer than the caller's options allow.

Over real sockets, through the fault proxy, on the sync client, asyncio and trio. Budgets are
checked by counting the requests the proxy saw (no timing assertions): a stalled stream costs
exactly one open per reconnect, and `wait_timeout` ends every wait, however large the other
budgets are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from inferencesh import (
    StreamError,
    TaskTimeoutError,
    async_inference,
    inference,
)
from inferencesh._config import ClientOptions
from tests.conftest import Gates, Twin
from tests.faultproxy import FaultProxy, LateHeaders, Stall

pytestmark = pytest.mark.anyio

MakeTwin = Callable[..., Twin]


@pytest.fixture
async def via_proxy(flavour: str, server: Any, fault_proxy: FaultProxy) -> Any:
    """Make twins that talk to the emulator through the fault proxy."""
    made: list[Twin] = []

    def make(**options: Any) -> Twin:
        factory = inference if flavour == "sync" else async_inference
        made.append(Twin(factory(api_key=server.api_key, base_url=fault_proxy.url, **options)))
        return made[-1]

    yield make
    for twin in made:
        await twin.close()


@pytest.fixture
def running_task(server: Any, gates: Gates) -> Any:
    """A task that runs until the test ends, created without the proxy."""
    gate = gates.new()
    with server.client() as client:
        task = client.run("test/gate", {"gate": gate}, wait=False)
    yield task
    gates.open(gate)


@pytest.mark.parametrize("fault", [Stall(), Stall(after_lines=1)], ids=["silent", "after-a-line"])
async def test_a_stalled_stream_costs_one_open_per_reconnect(
    via_proxy: MakeTwin, fault_proxy: FaultProxy, running_task: Any, fault: Stall
) -> None:
    # max_retries=2 must not multiply the reconnect budget: a stream open is tried once.
    twin = via_proxy(stream_idle_timeout=0.1, max_reconnects=1, max_retries=2)
    stream_path = f"/tasks/{running_task.id}/stream"
    fault_proxy.arm("GET", stream_path, fault, times=None)
    # (wait_timeout only turns a broken budget into a clear failure instead of a hang.)
    with pytest.raises(StreamError, match="2 times in a row"):
        await twin("tasks.wait", running_task.id, wait_timeout=30)
    opens = fault_proxy.count("GET", stream_path)
    if fault.after_lines is None:
        assert opens == 2  # 1 + max_reconnects, not (1 + max_retries) x 2
    else:
        # The first snapshot is a new update (progress) if it arrives before the idle
        # timeout; every later one repeats it and is not. So 2 opens, or 3 on a slow machine.
        assert opens in (2, 3)


async def test_wait_timeout_ends_a_wait_on_a_stalled_stream(
    via_proxy: MakeTwin, fault_proxy: FaultProxy, running_task: Any
) -> None:
    # Idle timeout and reconnects would allow minutes; the caller allows a fraction of a second.
    twin = via_proxy(stream_idle_timeout=60, max_reconnects=10)
    stream_path = f"/tasks/{running_task.id}/stream"
    fault_proxy.arm("GET", stream_path, Stall(), times=None)
    with pytest.raises(TaskTimeoutError, match=f"task {running_task.id} did not finish") as info:
        await twin("tasks.wait", running_task.id, wait_timeout=0.3)
    assert info.value.task_id == running_task.id
    assert fault_proxy.count("GET", stream_path) == 1


async def test_wait_timeout_ends_retries_of_a_stalled_request(
    via_proxy: MakeTwin, fault_proxy: FaultProxy, running_task: Any
) -> None:
    # Polling: each status read times out after 0.1 s and would be retried 20 times with
    # backoff (minutes); the deadline ends it with the caller's error, not APITimeoutError.
    twin = via_proxy(timeout=0.1, max_retries=20, stream_mode="poll", poll_interval=0.01)
    status_path = f"/tasks/{running_task.id}/status"
    fault_proxy.arm("GET", status_path, Stall(), times=None)
    with pytest.raises(TaskTimeoutError) as info:
        await twin("tasks.wait", running_task.id, wait_timeout=0.5)
    assert info.value.task_id == running_task.id
    assert 1 <= fault_proxy.count("GET", status_path) < 21


async def test_wait_timeout_ends_a_run_whose_answer_never_comes(
    via_proxy: MakeTwin, fault_proxy: FaultProxy
) -> None:
    twin = via_proxy(timeout=60)
    fault_proxy.arm("POST", "/apps/run", LateHeaders(), times=None)
    with pytest.raises(TaskTimeoutError, match="no task id is known") as info:
        await twin("run", "infsh/echo", {"text": "x"}, wait_timeout=0.3)
    assert info.value.task_id is None
    assert fault_proxy.count("POST", "/apps/run") == 1  # never sent twice


async def test_wait_timeout_also_bounds_a_streamed_run(
    via_proxy: MakeTwin, fault_proxy: FaultProxy, gates: Gates
) -> None:
    twin = via_proxy(stream_idle_timeout=60)
    gate = gates.new()
    fault_proxy.arm("GET", "/tasks/", Stall(after_lines=1), times=None)
    try:
        stream = await twin("run", "test/gate", {"gate": gate}, stream=True, wait_timeout=0.3)
        with pytest.raises(TaskTimeoutError) as info:
            await _drain(twin, stream)
        assert info.value.task_id is not None
    finally:
        gates.open(gate)


async def _drain(twin: Twin, stream: Any) -> None:
    if twin.is_async:
        async with stream:
            async for _ in stream:
                pass
    else:
        await twin.run_sync(lambda: [None for _ in stream])


def test_the_documented_default_worst_case_matches_the_defaults() -> None:
    from pathlib import Path

    opts = ClientOptions(api_key="k")
    stream_worst = (1 + opts.max_reconnects) * opts.stream_idle_timeout
    read_worst = (1 + opts.max_retries) * (opts.timeout.read or 0)
    assert (opts.stream_idle_timeout, opts.max_reconnects, opts.max_retries) == (45.0, 3, 2)
    assert (stream_worst, read_worst, opts.timeout.connect) == (180.0, 180.0, 10.0)
    docs = (Path(__file__).parents[2] / "docs" / "client.md").read_text()
    assert "4 × 45 s = 180 s" in docs and "3 × 60 s = 180 s" in docs
