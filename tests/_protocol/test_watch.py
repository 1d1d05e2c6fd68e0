import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from inferencesh._config import ClientOptions
from inferencesh._protocol import follow as w
from inferencesh._protocol.deadline import Deadline
from inferencesh._protocol.tasks import run_deadline
from inferencesh._protocol.watch import TaskWatch, merge_logs
from inferencesh.errors import (
    APIResponseValidationError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    StreamError,
    TaskTimeoutError,
)
from inferencesh.models.task import TaskStatus

FIXTURES = Path(__file__).parents[1] / "fixtures" / "protocol"
OPTS = ClientOptions(api_key="k", base_url="http://api.test", max_reconnects=2)


def lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


def task(status: int, **extra: Any) -> dict[str, Any]:
    return {"id": "t1", "status": status, "updated_at": f"2026-01-01T00:00:{status:02d}Z", **extra}


def statuses(updates: list[Any]) -> list[TaskStatus]:
    return [u.status for u in updates]


def test_fixture_stream_yields_each_status_once_and_ends_on_terminal() -> None:
    watch = TaskWatch(OPTS, "tsk_9f2c7a41", mode="stream")
    first, action = watch.start()
    assert first == [] and isinstance(action, w.OpenStream)
    assert action.request.request.url.path == "/tasks/tsk_9f2c7a41/stream"
    assert action.request.request.headers["accept"] == "application/x-ndjson"
    updates = watch.on_lines(lines("task-stream.ndjson"))
    assert statuses(updates) == [2, 4, 7, 10]
    assert updates[1].fields == ("status", "updated_at", "events", "engine_id", "worker_id")
    assert watch.finished and updates[-1].task.output == {"text": "Hello World!"}
    assert isinstance(watch.on_stream_end(), w.Finished)


def test_llm_deltas_accumulate_and_terminal_output_wins() -> None:
    watch = TaskWatch(OPTS, "tsk_9f2c7a41", mode="stream")
    watch.start()
    updates = watch.on_lines(lines("task-stream-llm.ndjson"))
    outputs = [u.output for u in updates if u.delta is not None]
    assert [o["response"] for o in outputs] == [
        "Hello",
        "Hello there, nice",
        "Hello there, nice to meet you!",
        "Hello there, nice to meet you!",
    ]
    assert outputs[-1]["usage"]["total_tokens"] == 19
    assert updates[-1].status == TaskStatus.COMPLETED
    assert updates[-1].output["response"] == "Hello there, nice to meet you!"


def test_terminal_without_output_keeps_the_accumulated_deltas() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    updates = watch.on_lines(
        [
            task(7),
            {"event": "delta", "data": {"delta": {"response": "ab"}, "seq": 1}},
            task(10, output=None),
        ]
    )
    assert updates[-1].output == {"response": "ab"}


def test_reconnect_drops_the_repeated_snapshot_and_replayed_deltas() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    before = watch.on_lines(
        [task(7), {"event": "delta", "data": {"delta": {"response": "a"}, "seq": 1}}]
    )
    action = watch.on_stream_error(httpx2.RemoteProtocolError("cut"))
    assert isinstance(action, w.Sleep) and isinstance(action.then, w.OpenStream)
    after = watch.on_lines(
        [
            {**task(7), "output": {"response": "a"}},  # the snapshot: nothing new
            {"event": "delta", "data": {"delta": {"response": "a"}, "seq": 1}},  # replayed
            {"event": "delta", "data": {"delta": {"response": "b"}, "seq": 2}},
            task(10, output={"response": "ab"}),
        ]
    )
    assert len(before) == 2
    assert [u.output for u in after] == [{"response": "ab"}, {"response": "ab"}]
    assert statuses(after) == [7, 10]


def test_a_changed_snapshot_after_reconnect_is_emitted() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    watch.on_lines([task(2)])
    watch.on_stream_error(httpx2.ReadError("x"))
    assert statuses(watch.on_lines([task(7)])) == [7]


def test_run_response_is_the_first_update_and_an_equal_snapshot_is_skipped() -> None:
    created = {**task(1), "status_text": "received"}
    watch = TaskWatch(OPTS, "t1", mode="stream", initial=created)
    first, action = watch.start()
    assert statuses(first) == [1] and isinstance(action, w.OpenStream)
    assert watch.on_lines([task(1)]) == []
    assert statuses(watch.on_lines([task(2)])) == [2]


def test_initial_terminal_task_needs_no_request() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream", initial=task(10, output=1))
    first, action = watch.start()
    assert statuses(first) == [10] and isinstance(action, w.Finished)


def test_stream_that_ends_early_is_reconciled_with_a_fetch() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    watch.on_lines([task(7)])
    action = watch.on_stream_end()
    assert isinstance(action, w.Fetch) and action.request.request.url.path == "/tasks/t1"
    updates, action = watch.on_fetched(task(10, output="done"))
    assert statuses(updates) == [10] and isinstance(action, w.Finished)


def test_fetch_showing_the_task_still_running_reconnects() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    watch.on_lines([task(7)])
    watch.on_stream_end()
    updates, action = watch.on_fetched(task(7))
    assert updates == []  # same state as already emitted
    assert isinstance(action, w.Sleep) and isinstance(action.then, w.OpenStream)


def test_reconnects_in_a_row_without_progress_are_bounded() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    watch.on_stream_error(httpx2.ConnectError("x"))
    watch.on_stream_error(httpx2.ConnectError("x"))
    with pytest.raises(StreamError, match="3 times in a row"):
        watch.on_stream_error(httpx2.ConnectError("x"))


def test_progress_resets_the_reconnect_budget() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    for status in (2, 3, 4, 7, 9):
        watch.on_lines([task(status)])
        assert isinstance(watch.on_stream_error(httpx2.ReadError("x")), w.Sleep)


def test_heartbeats_and_unknown_events_are_not_updates_nor_progress() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    assert watch.on_lines([{"type": "heartbeat"}, {"event": "other", "x": 1}]) == []


def test_partial_updates_merge_into_the_accumulated_task() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    watch.on_lines([task(7, session_id="s1", output=None)])
    (update,) = watch.on_lines(
        [{"data": {"status": 10, "output": 5}, "fields": ["status", "output"]}]
    )
    assert (
        update.data["session_id"] == "s1"
        and update.output == 5
        and update.fields == ("status", "output")
    )


def test_earlier_updates_do_not_change_when_later_lines_arrive() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    (first,) = watch.on_lines([task(7, progress=0.1)])
    watch.on_lines([task(7, progress=0.9)])
    assert first.progress == pytest.approx(0.1)


def test_poll_mode_fetches_only_on_change() -> None:
    opts = ClientOptions(api_key="k", base_url="http://api.test", poll_interval=0.5)
    watch = TaskWatch(opts, "t1", mode="poll", initial=task(1))
    first, action = watch.start()
    assert statuses(first) == [1] and isinstance(action, w.PollStatus)
    assert action.request.request.url.path == "/tasks/t1/status"
    same = watch.on_status({"id": "t1", "status": 1, "updated_at": task(1)["updated_at"]})
    assert isinstance(same, w.Sleep) and same.seconds == 0.5 and isinstance(same.then, w.PollStatus)
    changed = watch.on_status({"id": "t1", "status": 7, "updated_at": "later"})
    assert isinstance(changed, w.Fetch)
    updates, action = watch.on_fetched(task(7))
    assert statuses(updates) == [7] and isinstance(action, w.Sleep)
    updates, action = watch.on_fetched(task(11, error="boom"))
    assert statuses(updates) == [11] and isinstance(action, w.Finished)


def deadline(seconds: float, now: list[float]) -> Deadline:
    made = run_deadline(seconds)
    assert made is not None
    return Deadline(seconds, on_expiry=made.on_expiry, clock=lambda: now[0])


def test_deadline_caps_sleeps_and_raises_when_passed() -> None:
    now = [100.0]
    watch = TaskWatch(OPTS, "t1", mode="poll", deadline=deadline(2.0, now))
    watch.start()
    action = watch.on_status({"status": 0})
    assert isinstance(action, w.Sleep) and action.seconds <= 2.0
    now[0] += 1.5
    assert watch.remaining() == pytest.approx(0.5)
    now[0] += 1.0
    with pytest.raises(TaskTimeoutError, match="did not finish within 2 s"):
        watch.check_deadline()


def test_status_strings_are_understood() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    updates = watch.on_lines(
        [{"id": "t1", "status": "running"}, {"id": "t1", "status": "COMPLETED"}]
    )
    assert statuses(updates) == [7, 10] and watch.finished


def test_lines_after_the_terminal_one_are_ignored() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    updates = watch.on_lines([task(10, output=1), task(7), task(11, error="late")])
    assert statuses(updates) == [10]
    assert watch.last is not None and watch.last.status == TaskStatus.COMPLETED
    assert watch.on_lines([task(11)]) == []


def test_fields_that_are_not_a_list_are_not_reported() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    (update,) = watch.on_lines([{"data": {"status": 7}, "fields": "status"}])
    assert update.fields is None and update.status == TaskStatus.RUNNING


def test_a_stream_breaking_after_the_end_changes_nothing() -> None:
    now = [0.0]
    watch = TaskWatch(OPTS, "t1", mode="stream", deadline=deadline(1.0, now))
    watch.start()
    watch.on_lines([task(10)])
    now[0] = 5.0  # past the deadline, and beyond the reconnect budget: neither matters now
    for _ in range(5):
        assert isinstance(watch.on_stream_error(httpx2.ReadError("x")), w.Finished)


def test_a_stream_that_keeps_ending_early_is_given_up() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    watch.on_lines([task(7)])
    for _ in range(2):
        assert isinstance(watch.on_stream_end(), w.Fetch)
        _, action = watch.on_fetched(task(7))
        assert isinstance(action, w.Sleep) and isinstance(action.then, w.OpenStream)
    assert isinstance(watch.on_stream_end(), w.Fetch)
    with pytest.raises(StreamError, match="kept ending before the task did \\(3 times\\)"):
        watch.on_fetched(task(7))


def test_malformed_deltas_are_not_updates() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    watch.on_lines([task(7)])
    assert (
        watch.on_lines(
            [
                {"event": "delta", "data": "not an object"},
                {"event": "delta", "data": {"seq": 1, "delta": "not an object"}},
                {"event": "delta", "data": {"seq": 2}},
            ]
        )
        == []
    )
    (update,) = watch.on_lines([{"event": "delta", "data": {"seq": 3, "delta": {"response": "a"}}}])
    assert update.output == {"response": "a"}


def test_deltas_without_a_seq_are_never_dropped() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    updates = watch.on_lines(
        [
            {"event": "delta", "data": {"delta": {"response": "a"}}},
            {"event": "delta", "data": {"delta": {"response": "a"}}},
            {"event": "delta", "data": {"seq": 1, "delta": {"response": "b"}}},
            {"event": "delta", "data": {"delta": {"response": "c"}}},
        ]
    )
    assert [u.output["response"] for u in updates] == ["a", "aa", "aab", "aabc"]


# -- logs merge by id ------------------------------------------------------------------------


def log(n: int, content: str | None = None) -> dict[str, Any]:
    return {"id": f"log{n}", "task_id": "t1", "content": content or f"line {n}"}


def test_log_slices_and_full_lists_give_the_same_complete_logs() -> None:
    full = TaskWatch(OPTS, "t1", mode="stream")
    full.start()
    sliced = TaskWatch(OPTS, "t1", mode="stream")
    sliced.start()
    for n in range(1, 5):
        full.on_lines([task(7, logs=[log(i) for i in range(1, n + 1)])])
        # What the emulator now sends: id, status, updated_at and only the new entries.
        sliced.on_lines([{"id": "t1", "status": 7, "updated_at": f"u{n}", "logs": [log(n)]}])
    assert full.last is not None and sliced.last is not None
    assert full.last.data["logs"] == sliced.last.data["logs"] == [log(i) for i in range(1, 5)]
    # The terminal line is the whole task again: nothing is duplicated.
    (end,) = sliced.on_lines([task(10, output=1, logs=[log(i) for i in range(1, 5)])])
    assert end.data["logs"] == [log(i) for i in range(1, 5)]
    assert end.task.logs[3].content == "line 4"


def test_log_slices_inside_partial_updates_merge_too() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream", initial=task(1, logs=[log(1)]))
    watch.start()
    (update,) = watch.on_lines([{"data": {"logs": [log(2)]}, "fields": ["logs"]}])
    assert [e["id"] for e in update.data["logs"]] == ["log1", "log2"]
    assert update.fields == ("logs",)


def test_earlier_updates_keep_the_logs_they_had() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    (first,) = watch.on_lines([task(7, logs=[log(1)])])
    (second,) = watch.on_lines([{"id": "t1", "status": 7, "updated_at": "x", "logs": [log(2)]}])
    assert len(first.data["logs"]) == 1 and len(second.data["logs"]) == 2


def test_merge_logs_appends_unseen_entries_and_replaces_seen_ones_in_place() -> None:
    known = [log(1), log(2)]
    merged = merge_logs(known, [log(2, "line 2, grown"), log(3)])
    assert merged == [log(1), log(2, "line 2, grown"), log(3)]
    assert known == [log(1), log(2)]  # not modified
    assert merge_logs(None, [log(1)]) == [log(1)] and merge_logs([], [log(1)]) == [log(1)]
    # Entries without ids cannot be matched: the list is the whole list.
    assert merge_logs(known, [{"content": "a"}]) == [{"content": "a"}]
    assert merge_logs(["odd", log(1)], [log(2)]) == ["odd", log(1), log(2)]
    assert merge_logs([{"content": "no id"}], [log(1)]) == [{"content": "no id"}, log(1)]


def test_a_fetched_task_merges_its_logs() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    watch.on_lines([task(7, logs=[log(1), log(2)])])
    updates, _ = watch.on_fetched(task(10, output=1, logs=[log(1), log(2), log(3)]))
    assert [e["id"] for e in updates[0].data["logs"]] == ["log1", "log2", "log3"]


# -- stream errors, responses and deadlines ---------------------------------------------------


def status_error(cls: type[Any], status: int, headers: dict[str, str] | None = None) -> Any:
    request = httpx2.Request("GET", "http://api.test/tasks/t1/stream")
    response = httpx2.Response(status, headers=headers, request=request)
    retry_after = float(headers["retry-after"]) if headers else None
    return cls("x", response=response, retry_after=retry_after)


def test_a_stream_open_is_tried_once_and_bounded_by_the_deadline() -> None:
    now = [0.0]
    limit = deadline(5.0, now)
    watch = TaskWatch(OPTS, "t1", mode="stream", deadline=limit)
    _, action = watch.start()
    assert isinstance(action, w.OpenStream)
    assert action.request.max_retries == 0  # reconnecting is the follower's job
    assert action.request.deadline is limit
    fetch = watch.on_stream_end()
    assert isinstance(fetch, w.Fetch) and fetch.request.max_retries == OPTS.max_retries


def test_an_error_answer_that_retrying_cannot_mend_is_raised() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    gone = status_error(NotFoundError, 404)
    with pytest.raises(NotFoundError) as info:
        watch.on_stream_error(gone)
    assert info.value is gone


def test_a_refused_stream_is_reconnected_after_its_retry_after() -> None:
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    action = watch.on_stream_error(status_error(InternalServerError, 503))
    assert isinstance(action, w.Sleep) and isinstance(action.then, w.OpenStream)
    action = watch.on_stream_error(status_error(RateLimitError, 429, {"retry-after": "7"}))
    assert isinstance(action, w.Sleep) and action.seconds == 7.0
    too_long = status_error(RateLimitError, 429, {"retry-after": "61"})
    with pytest.raises(RateLimitError) as info:
        watch.on_stream_error(too_long)
    assert info.value.retry_after == 61.0


def test_a_stream_error_after_the_deadline_is_a_task_timeout_from_it() -> None:
    now = [0.0]
    watch = TaskWatch(OPTS, "t1", mode="stream", deadline=deadline(1.0, now))
    watch.start()
    now[0] = 2.0
    cause = httpx2.ReadTimeout("stalled")
    with pytest.raises(TaskTimeoutError, match="task t1 did not finish within 1 s") as info:
        watch.on_stream_error(cause)
    assert info.value.task_id == "t1" and info.value.__cause__ is cause


def test_the_deadline_names_the_task_once_it_is_followed() -> None:
    now = [0.0]
    limit = deadline(3.0, now)
    before = limit.on_expiry()
    assert isinstance(before, TaskTimeoutError) and before.task_id is None
    assert "no task id is known" in str(before)
    TaskWatch(OPTS, "t9", mode="stream", deadline=limit)
    after = limit.on_expiry()
    assert isinstance(after, TaskTimeoutError) and after.task_id == "t9"


def test_a_task_that_does_not_fit_is_reported_with_its_response() -> None:
    request = httpx2.Request("GET", "http://api.test/tasks/t1/stream")
    response = httpx2.Response(200, request=request)
    watch = TaskWatch(OPTS, "t1", mode="stream")
    watch.start()
    watch.on_response(response)
    (update,) = watch.on_lines([task(10, created_at="not a date")])
    with pytest.raises(APIResponseValidationError, match="cannot read") as info:
        update.task  # noqa: B018
    assert info.value.response is response


def test_a_reconnect_that_could_not_happen_in_time_is_a_task_timeout_now() -> None:
    now = [0.0]
    watch = TaskWatch(OPTS, "t1", mode="stream", deadline=deadline(0.1, now))
    watch.start()
    watch.check_deadline()  # time is left: nothing raised
    cause = httpx2.ReadError("reset")
    with pytest.raises(TaskTimeoutError) as info:
        watch.on_stream_error(cause)  # the backoff (0.19 s or more) passes the deadline
    assert info.value.__cause__ is cause


def test_no_wait_timeout_is_no_deadline() -> None:
    assert run_deadline(None) is None


def test_a_status_answer_without_a_status_is_the_servers_fault() -> None:
    watch = TaskWatch(OPTS, "t1", mode="poll", initial=task(1))
    watch.start()
    with pytest.raises(ValueError, match="no status in the answer"):
        watch.on_status({"id": "t1"})
    response = httpx2.Response(200, request=httpx2.Request("GET", "http://api.test/x"))
    watch.on_response(response)
    for bad in ({"status": {"a": 1}}, {"status": True}, {"status": None}):
        with pytest.raises(APIResponseValidationError) as info:
            watch.on_status(bad)
        assert info.value.response is response
