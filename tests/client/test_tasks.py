"""The task client against the emulator on a real socket: sync, asyncio and trio."""

from __future__ import annotations

from typing import Any

import pytest

from inferencesh import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RequirementsNotMetError,
    Task,
    TaskCancelledError,
    TaskFailedError,
    TaskStatus,
    TaskTimeoutError,
    TaskUpdate,
)
from inferencesh.errors import BadRequestError, InternalServerError, UnprocessableEntityError
from tests.conftest import Gates, Twin

pytestmark = [pytest.mark.anyio, pytest.mark.server]

TEMPLATE = {"template": "Hello {1}!", "strings": ["World"]}


def assert_ordered(updates: list[TaskUpdate]) -> None:
    """Statuses never go backwards, nothing is repeated, exactly one terminal at the end."""
    assert updates, "no updates"
    assert updates[-1].is_terminal
    assert not any(u.is_terminal for u in updates[:-1])
    seen = [u.status for u in updates]
    assert seen == sorted(seen), seen
    for a, b in zip(updates, updates[1:], strict=False):
        assert a.data != b.data, "an update was repeated"


async def test_run_and_wait_returns_the_completed_task(twin: Twin) -> None:
    task = await twin("run", "infsh/text-templating@53bk0yzk", TEMPLATE)
    assert isinstance(task, Task)
    assert task.status == TaskStatus.COMPLETED
    assert task.output == {"text": "Hello World!"}
    assert task.id and task.created_at is not None


async def test_run_accepts_one_dict_like_the_js_sdk(twin: Twin) -> None:
    task = await twin("run", {"app": "infsh/text-templating", "input": TEMPLATE})
    assert task.output == {"text": "Hello World!"}


async def test_fire_and_forget_then_pick_up_later(twin: Twin) -> None:
    created = await twin("run", "infsh/echo", {"text": "later"}, wait=False)
    assert isinstance(created, Task) and not created.is_terminal
    done = await twin("tasks.wait", created.id)
    assert done.id == created.id and done.status == TaskStatus.COMPLETED
    fetched = await twin("tasks.get", created.id)
    assert fetched.output == done.output


async def test_streamed_run_yields_ordered_updates_ending_terminal(twin: Twin) -> None:
    updates = await twin.collect("run", "infsh/slow", {"steps": 3}, stream=True)
    assert_ordered(updates)
    assert updates[0].status <= TaskStatus.QUEUED  # the run response comes first
    assert TaskStatus.RUNNING in {u.status for u in updates}
    progress = [u.progress for u in updates if u.progress is not None]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)


async def test_on_update_sees_every_update(twin: Twin) -> None:
    seen: list[TaskUpdate] = []
    task = await twin("run", "infsh/slow", {"steps": 2}, on_update=seen.append)
    assert_ordered(seen)
    assert seen[-1].task.id == task.id


async def test_poll_mode_reaches_the_same_end(twin: Twin) -> None:
    updates = await twin.collect("run", "infsh/slow", {"steps": 2}, stream=True, mode="poll")
    assert_ordered(updates)
    assert updates[-1].output == (await twin("tasks.get", updates[-1].id)).output


async def test_poll_mode_as_a_client_option(make_twin: Any) -> None:
    twin = make_twin(stream_mode="poll", poll_interval=0.02)
    task = await twin("run", "infsh/text-templating", TEMPLATE)
    assert task.output == {"text": "Hello World!"}


async def test_llm_deltas_arrive_as_updates(twin: Twin) -> None:
    updates = await twin.collect("run", "infsh/llm-echo", {"text": "one two three"}, stream=True)
    deltas = [u for u in updates if u.delta is not None]
    assert len(deltas) >= 2
    texts = [u.output["response"] for u in deltas]
    assert texts == sorted(texts, key=len)
    assert updates[-1].output["response"] == texts[-1]


async def test_failing_app_raises_task_failed_with_the_task(twin: Twin) -> None:
    with pytest.raises(TaskFailedError) as info:
        await twin("run", "infsh/fail", {"message": "kaboom"})
    assert info.value.task.status == TaskStatus.FAILED
    assert "kaboom" in (info.value.task.error or "") and "kaboom" in str(info.value)


async def test_cancel_a_running_task(twin: Twin, gates: Gates) -> None:
    gate = gates.new()
    created = await twin("run", "test/gate", {"gate": gate}, wait=False)
    await twin("tasks.cancel", created.id)
    with pytest.raises(TaskCancelledError) as info:
        await twin("tasks.wait", created.id)
    assert info.value.task.status == TaskStatus.CANCELLED
    gates.open(gate)


async def test_cancel_of_a_finished_task_is_a_conflict_and_changes_nothing(twin: Twin) -> None:
    task = await twin("run", "infsh/echo", {"text": "x"})
    with pytest.raises(ConflictError):
        await twin("tasks.cancel", task.id)
    again = await twin("tasks.get", task.id)
    assert again.status == TaskStatus.COMPLETED and again.output == task.output


async def test_wait_timeout_raises_and_the_task_keeps_running(twin: Twin, gates: Gates) -> None:
    gate = gates.new()
    created = await twin("run", "test/gate", {"gate": gate, "output": 7}, wait=False)
    with pytest.raises(TaskTimeoutError) as info:
        await twin("tasks.wait", created.id, wait_timeout=0.2)
    assert info.value.task_id == created.id
    gates.open(gate)
    done = await twin("tasks.wait", created.id)
    assert done.output == {"value": 7}


async def test_leaving_a_stream_early_closes_it(twin: Twin, gates: Gates) -> None:
    gate = gates.new()
    stream = await twin("run", "test/gate", {"gate": gate}, stream=True)
    if twin.is_async:
        async with stream:
            first = await anext(aiter(stream))
    else:
        with stream:
            first = next(iter(stream))
    assert not first.is_terminal
    gates.open(gate)
    done = await twin("tasks.wait", first.id)
    assert done.status == TaskStatus.COMPLETED


async def test_logs_and_list(twin: Twin) -> None:
    task = await twin("run", "infsh/slow", {"steps": 2})
    logs = await twin("tasks.logs", task.id)
    assert logs.status == TaskStatus.COMPLETED and logs.logs
    page = await twin("tasks.list", limit=1)
    assert len(page.items) == 1 and page.has_next and page.next_cursor
    following = await twin("tasks.list", limit=1, cursor=page.next_cursor)
    assert following.items[0].id != page.items[0].id
    done = await twin("tasks.list", limit=100, status=TaskStatus.COMPLETED)
    assert all(t.status == TaskStatus.COMPLETED for t in done.items)


async def test_delete_then_get_is_not_found(twin: Twin) -> None:
    task = await twin("run", "infsh/echo", {"text": "bye"})
    await twin("tasks.delete", task.id)
    with pytest.raises(NotFoundError):
        await twin("tasks.get", task.id)


async def test_bad_inputs_get_typed_errors(twin: Twin, make_twin: Any) -> None:
    with pytest.raises(NotFoundError, match="no-such/app"):
        await twin("run", "no-such/app", {})
    with pytest.raises((UnprocessableEntityError, BadRequestError), match="strings"):
        await twin("run", "infsh/text-templating", {"template": "x", "strings": 5})
    with pytest.raises(NotFoundError):
        await twin("tasks.get", "tsk_does_not_exist")
    with pytest.raises(AuthenticationError) as info:
        await make_twin(api_key="sk-wrong")("tasks.list")
    assert "sk-wrong" not in str(info.value)


async def test_requirements_not_met_lists_what_is_missing(twin: Twin) -> None:
    with pytest.raises(RequirementsNotMetError) as info:
        await twin("run", "infsh/needs-secret", {})
    assert info.value.status_code == 412
    assert [e["key"] for e in info.value.errors] == ["OPENAI_API_KEY"]


async def test_a_cut_stream_reconnects_without_loss_or_repeats(twin: Twin, server: Any) -> None:
    server.emulator.faults.cut_stream_after(2, times=2)
    updates = await twin.collect("run", "infsh/slow", {"steps": 4}, stream=True)
    assert_ordered(updates)
    assert updates[-1].status == TaskStatus.COMPLETED


async def test_rate_limits_are_retried_honouring_retry_after(twin: Twin, server: Any) -> None:
    task = await twin("run", "infsh/echo", {"text": "x"})
    server.emulator.faults.fail_next(2, status=429, retry_after=0.01)
    assert (await twin("tasks.get", task.id)).id == task.id


async def test_a_refused_run_is_retried_and_starts_one_task(twin: Twin, server: Any) -> None:
    before = len(server.emulator.tasks())
    server.emulator.faults.fail_next(1, status=503, retry_after=0.01)
    task = await twin("run", "infsh/echo", {"text": "once"})
    assert task.status == TaskStatus.COMPLETED
    assert len(server.emulator.tasks()) == before + 1


async def test_a_run_is_not_retried_after_a_500(twin: Twin, server: Any) -> None:
    before = len(server.emulator.tasks())
    server.emulator.faults.fail_next(1, status=500)
    with pytest.raises(InternalServerError):
        await twin("run", "infsh/echo", {"text": "x"})
    assert len(server.emulator.tasks()) == before


async def test_retries_are_bounded(make_twin: Any, server: Any) -> None:
    twin = make_twin(max_retries=1)
    server.emulator.faults.fail_next(5, status=503, retry_after=0.01)
    with pytest.raises(InternalServerError):
        await twin("tasks.list")
