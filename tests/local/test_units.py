"""Pieces of the emulator on their own: refs, registration, the store, topics, PNGs, clock."""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.to_thread
import httpx2
import pytest
from pydantic import BaseModel

from inferencesh.local import AppContext, Emulator, RegisteredApp
from inferencesh.local.apps._png import encode_png
from inferencesh.local.apps._registry import parse_ref
from inferencesh.local.core._ids import Clock
from inferencesh.local.core._streams import StreamItem, Subscription, Topic
from inferencesh.local.tasks._state import TaskStore
from inferencesh.models.task import TaskStatus
from tests.local._support import lines_of, run


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("infsh/echo", ("infsh/echo", None, None)),
        ("infsh/echo@latest", ("infsh/echo", None, None)),
        ("infsh/echo@v3", ("infsh/echo", "v3", None)),
        ("infsh/echo@v3:stream", ("infsh/echo", "v3", "stream")),
        ("infsh/echo:stream", ("infsh/echo", None, "stream")),
        ("app/infsh/echo@v3", ("infsh/echo", "v3", None)),
        (" infsh/echo ", ("infsh/echo", None, None)),
    ],
)
def test_parse_ref(ref: str, parsed: tuple[str, str | None, str | None]) -> None:
    assert parse_ref(ref) == parsed


@pytest.mark.parametrize("ref", ["echo", "a/b/c", "/echo", "infsh/", "", "app/a/b/c"])
def test_parse_ref_refuses_other_shapes(ref: str) -> None:
    with pytest.raises(ValueError, match="namespace/name"):
        parse_ref(ref)


class In(BaseModel):
    x: int


def _echo(ctx: AppContext, input: Any) -> Any:
    return input


def _one_arg(input: Any) -> Any:
    return input


def test_registration_checks_signatures() -> None:
    emu = Emulator(builtins=False)
    with pytest.raises(TypeError, match=r"must take \(ctx, input\)"):
        emu.register("me/a", _one_arg)

    class NoMethods:
        def _private(self, ctx: AppContext, input: In) -> None: ...

    with pytest.raises(TypeError, match="no public methods"):
        emu.register("me/b", NoMethods)
    with pytest.raises(ValueError, match="namespace/name"):
        emu.register("bad", _echo)
    with pytest.raises(TypeError, match="function or a class"):
        emu.register("me/c", 42)  # pyright: ignore[reportArgumentType]
    assert "me/a" not in emu.apps


def test_functions_and_input_models_come_from_the_code() -> None:
    class Multi:
        def setup(self, ctx: AppContext) -> None: ...

        def run(self, ctx: AppContext, input: In) -> Any: ...

        async def other(self, ctx: AppContext, input: dict[str, int]) -> Any: ...

    app = RegisteredApp("me/multi", Multi)
    assert sorted(app.functions) == ["other", "run"]
    assert app.needs_setup and not app.setup_is_async
    assert app.functions["other"].is_async and not app.functions["run"].is_async
    run_validator = app.functions["run"].validator
    assert run_validator is not None and run_validator.validate_python({"x": "3"}) == In(x=3)
    explicit = RegisteredApp("me/explicit", _echo, input=In)
    assert explicit.functions["run"].validator is not None
    assert not explicit.needs_setup
    assert explicit.app_id == RegisteredApp("me/explicit", Multi).app_id


def test_an_unresolvable_annotation_asks_for_an_explicit_model() -> None:
    namespace: dict[str, Any] = {"AppContext": AppContext}
    # An annotation naming something that does not exist where the function is defined.
    exec("def fn(ctx: AppContext, input: NotDefinedAnywhere) -> None: ...", namespace)
    with pytest.raises(TypeError, match="input=Model"):
        RegisteredApp("me/x", namespace["fn"])


def test_replacing_secrets_or_integrations_takes_effect() -> None:
    emu = Emulator()
    emu.secrets = {"A": "1"}
    emu.integrations = {"google"}
    assert emu.task_service.secrets == {"A": "1"}
    assert emu.task_service.integrations == {"google"}


def test_emulator_options_are_checked() -> None:
    with pytest.raises(ValueError, match="heartbeat_interval"):
        Emulator(heartbeat_interval=0)
    with pytest.raises(ValueError, match="stream_format"):
        Emulator(stream_format="partial")  # pyright: ignore[reportArgumentType]
    with pytest.raises(ValueError, match="wait_for_stream"):
        RegisteredApp("me/x", _echo, wait_for_stream=-1)


def test_the_store_ignores_changes_after_the_end() -> None:
    store = TaskStore(clock=Clock())
    record = store.create({"input": {"a": 1}})
    task_id = record.dto["id"]
    assert store.progress(task_id, 7, None)
    assert store.snapshot(task_id)["progress"] == 1.0  # type: ignore[index]
    assert store.progress(task_id, -1, "back")
    assert store.snapshot(task_id)["progress"] == 0.0  # type: ignore[index]
    assert store.transition(task_id, TaskStatus.COMPLETED, output={"ok": True})
    before = store.snapshot(task_id)
    assert not store.transition(task_id, TaskStatus.FAILED, error="late")
    assert not store.log(task_id, "late")
    assert not store.progress(task_id, 0.5, None)
    assert not store.delta(task_id, {"response": "late"})
    assert store.request_cancel(task_id) == "ended"
    assert store.snapshot(task_id) == before
    assert store.request_cancel("tsk_missing") == "missing"
    assert not store.transition("tsk_missing", TaskStatus.RUNNING)
    with pytest.raises(TimeoutError):
        store.wait(task_id, lambda t: False, timeout=0)


@pytest.mark.anyio
@pytest.mark.parametrize("where", ["another thread", "the loop's thread"])
async def test_until_wakes_on_the_tasks_change_without_a_thread(where: str) -> None:
    store = TaskStore(clock=Clock())
    task_id = store.create({}).dto["id"]
    other = store.create({}).dto["id"]
    got: list[dict[str, Any] | None] = []

    def finish() -> None:
        store.transition(other, TaskStatus.RUNNING)  # another task's change: not this one's
        store.transition(task_id, TaskStatus.COMPLETED, output={"ok": True})

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def wait() -> None:
                got.append(await store.until(task_id, lambda t: t["status"] == 10))

            tg.start_soon(wait)
            await anyio.wait_all_tasks_blocked()
            assert got == []  # nothing yet: it waits
            if where == "another thread":
                await anyio.to_thread.run_sync(finish)
            else:
                finish()
    assert got[0] is not None and got[0]["output"] == {"ok": True}
    # Already there: at once.
    assert (await store.until(task_id, lambda t: t["status"] == 10)) == got[0]


@pytest.mark.anyio
async def test_until_a_deleted_task_is_none_and_a_cancelled_wait_is_forgotten() -> None:
    store = TaskStore(clock=Clock())
    task_id = store.create({}).dto["id"]
    with anyio.move_on_after(0.01) as scope:
        await store.until(task_id, lambda t: False)
    assert scope.cancelled_caught
    store.transition(task_id, TaskStatus.RUNNING)  # wakes nobody, fails nothing
    got: list[dict[str, Any] | None] = []
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def wait() -> None:
                got.append(await store.until(task_id, lambda t: False))

            tg.start_soon(wait)
            await anyio.wait_all_tasks_blocked()
            await anyio.to_thread.run_sync(store.delete, task_id)
    assert got == [None]


def test_snapshots_do_not_change_afterwards() -> None:
    store = TaskStore(clock=Clock())
    task_id = store.create({}).dto["id"]
    snapshot = store.snapshot(task_id)
    assert snapshot is not None
    store.log(task_id, "later")
    store.transition(task_id, TaskStatus.QUEUED)
    assert snapshot["logs"] == [] and [e["status"] for e in snapshot["events"]] == [1]


@pytest.mark.anyio
async def test_topics_end_streams_now_or_for_good() -> None:
    topic = Topic()
    first = topic.subscribe()
    topic.publish(StreamItem(b"1"))
    assert [i.line for i in await first.next_batch(1)] == [b"1"]
    assert await first.next_batch(0) == []
    topic.end_streams()
    assert (await first.next_batch(1))[0].final
    later = topic.subscribe()
    assert topic.subscriber_count == 1 and topic.wait_for_subscribers(1, timeout=0)
    topic.close()
    assert (await later.next_batch(1))[0].final
    closed = topic.subscribe()
    assert (await closed.next_batch(1))[0].final
    assert topic.subscriber_count == 0


async def _batch_woken_by(
    sub: Subscription, wake: Callable[[], Awaitable[object]]
) -> list[StreamItem]:
    """The batch `sub.next_batch(30)` returns when `wake()` runs once it waits.

    Within 5 s, well inside the wait's own 30: only a wake-up gets it back in time.
    """
    got: list[list[StreamItem]] = []
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def wait() -> None:
                got.append(await sub.next_batch(30))

            tg.start_soon(wait)
            await anyio.wait_all_tasks_blocked()  # it waits in next_batch now
            await wake()
    return got[0]


@pytest.mark.anyio
@pytest.mark.parametrize("where", ["another thread", "the loop's thread"])
async def test_a_waiting_subscriber_wakes_on_publish(where: str) -> None:
    topic = Topic()
    sub = topic.subscribe()

    async def publish() -> None:
        if where == "another thread":
            await anyio.to_thread.run_sync(topic.publish, StreamItem(b"x"))
        else:
            topic.publish(StreamItem(b"x"))

    assert [i.line for i in await _batch_woken_by(sub, publish)] == [b"x"]
    sub.close()
    assert topic.subscriber_count == 0


@pytest.mark.anyio
async def test_a_waiting_subscriber_wakes_when_closed_from_another_thread_or_times_out() -> None:
    topic = Topic()
    sub = topic.subscribe()
    assert await sub.next_batch(0.01) == []  # nothing came: an empty batch
    batch = await _batch_woken_by(sub, lambda: anyio.to_thread.run_sync(topic.close))
    assert batch[0].final and not batch[0].line


def test_png_encoder_checks_its_rows() -> None:
    png = encode_png(2, 1, [b"\xff\x00\x00\x00\xff\x00"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (2, 1)
    idat_len = struct.unpack(">I", png[33:37])[0]
    assert zlib.decompress(png[41 : 41 + idat_len]) == b"\x00\xff\x00\x00\x00\xff\x00"
    with pytest.raises(ValueError, match="bytes"):
        encode_png(2, 1, [b"\x00"])
    with pytest.raises(ValueError, match="rows"):
        encode_png(1, 2, [b"\x00\x00\x00"])


def test_the_clock_only_moves_forward() -> None:
    clock = Clock()
    readings = [clock.now() for _ in range(1000)]
    assert readings == sorted(readings) and len(set(readings)) == len(readings)
    before = clock.now()
    clock.advance(3600)
    assert (clock.now() - before).total_seconds() >= 3600
    assert clock.now_iso().endswith("Z")
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_an_app_waiting_for_a_stream_starts_when_one_opens(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    @local_emu.app("test/waits-long", wait_for_stream=30)
    def waits(ctx: AppContext, input: dict[str, Any]) -> Any:
        return {"ok": True}

    task = run(http, "test/waits-long", {})
    assert local_emu.task(task["id"])["status"] in (1, 2)
    with http.stream("GET", f"/tasks/{task['id']}/stream") as response:
        final = list(lines_of(response))[-1]
    assert final["status"] == 10

    @local_emu.app("test/waits-short", wait_for_stream=0.01)
    def short(ctx: AppContext, input: dict[str, Any]) -> Any:
        return {"ok": True}

    assert local_emu.wait_for_task(run(http, "test/waits-short", {})["id"])["status"] == 10


def test_an_emulator_bug_is_a_500_problem(
    http: httpx2.Client, local_emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(task_id: str) -> dict[str, Any]:
        raise RuntimeError("kaput")

    monkeypatch.setattr(local_emu.task_service, "status", broken)
    response = http.get("/tasks/anything/status")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/errors/internal_error")
    assert "RuntimeError" in response.json()["detail"] and "kaput" not in response.text


def test_wait_until_wakes_on_a_change_and_times_out_with_a_clear_message() -> None:
    emu = Emulator(builtins=False)
    emu.wait_until(lambda: emu.tasks() == [])  # true already: returns at once
    creator = threading.Thread(target=lambda: emu.task_store.create({"app": "me/x"}))
    creator.start()
    emu.wait_until(lambda: len(emu.tasks()) == 1)
    creator.join()

    def never() -> bool:
        return False

    with pytest.raises(TimeoutError, match="did not satisfy .*never within 0 s"):
        emu.wait_until(never, timeout=0)
