"""Task streams over a real socket: snapshot first, live lines, heartbeats, deltas, the end."""

from __future__ import annotations

import json
from contextlib import ExitStack

import httpx2
import pytest

from inferencesh.local import Emulator
from inferencesh.local.tasks._state import StreamFormat
from tests.local._support import (
    TERMINAL,
    lines_of,
    merge,
    read_stream,
    run,
    run_gated,
    task_lines,
    updates,
)


def test_the_client_sees_lines_while_the_task_runs(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    gate, task = run_gated(http, logs=["first"], progress=0.25)
    with http.stream("GET", f"/tasks/{task['id']}/stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        assert response.headers["cache-control"] == "no-cache"
        lines = lines_of(response)
        snapshot = next(lines)
        # The whole task comes first, while the app still waits at its gate.
        assert snapshot["id"] == task["id"] and snapshot["status"] == 7
        assert [log["content"] for log in snapshot["logs"]] == ["first"]
        assert (snapshot["progress"], snapshot["progress_message"]) == (0.25, "at the gate")
        assert set(task) - {"status_text"} <= set(snapshot)
        heartbeats = 0
        for line in lines:
            assert line == {"type": "heartbeat"}, line
            heartbeats += 1
            if heartbeats == 2:
                break
        gate.release.set()
        rest = list(lines)
    final = rest[-1]
    assert final["status"] == 10 and final["output"] == {"released": True}
    assert all(line.get("type") == "heartbeat" or "id" in line for line in rest)


def test_each_change_is_one_line_and_the_stream_ends_after_the_terminal_one(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    gate, task = run_gated(http)
    with task_lines(http, task["id"]) as lines:
        assert next(lines)["status"] == 7
        gate.release.set()
        seen = updates(list(lines))
    assert [u["status"] for u in seen] == [10]
    assert seen[0] == local_emu.task(task["id"])


def test_a_stream_follows_every_status_log_and_progress_change(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    task = run(http, "infsh/slow", {"steps": 3, "interval": 0.01})
    seen = updates(read_stream(http, task["id"]))
    assert seen[-1]["status"] == 10
    assert [u["status"] for u in seen] == sorted(u["status"] for u in seen)
    # Progress only grows, and the final line has every log line.
    progress = [u["progress"] for u in seen if "progress" in u]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert [log["content"] for log in seen[-1]["logs"]] == ["step 1/3", "step 2/3", "step 3/3"]
    assert seen[-1] == local_emu.task(task["id"])
    # Merged as clients merge them (logs by id), the updates make up the whole task.
    assert merge(seen) == seen[-1]


@pytest.mark.parametrize("stream_format", ["bare", "wrapped"])
def test_updates_carry_only_what_changed_and_the_ends_carry_the_whole_task(
    http: httpx2.Client, local_emu: Emulator, stream_format: StreamFormat
) -> None:
    local_emu.stream_format = stream_format
    gate, task = run_gated(http, logs=["before"])
    with task_lines(http, task["id"]) as lines:
        snapshot = next(lines)
        assert snapshot == local_emu.task(task["id"])  # the whole task, bare
        gate.release.set()
        rest = [line for line in lines if line.get("type") != "heartbeat"]
    final = rest[-1]["data"] if stream_format == "wrapped" else rest[-1]
    assert final == local_emu.task(task["id"])  # the whole task: clients read it as the result
    assert [log["content"] for log in final["logs"]] == ["before"]
    for line in rest[:-1]:
        data = line["data"] if stream_format == "wrapped" else line
        assert {"id", "status", "updated_at"} <= set(data)
        assert "input" not in data and "created_at" not in data, data
        if stream_format == "wrapped":
            assert set(data) - {"id", "status"} == set(line["fields"]) - {"status"}


def test_a_log_line_carries_only_its_new_entry(http: httpx2.Client, local_emu: Emulator) -> None:
    task = run(http, "infsh/slow", {"steps": 3, "interval": 0.01})
    seen = updates(read_stream(http, task["id"]))
    local_emu.wait_for_task(task["id"])
    log_lines = [u for u in seen[1:-1] if "logs" in u]  # not the snapshot or the final task
    already = [log["content"] for log in seen[0]["logs"]]  # in the snapshot
    expected = [[f"step {i}/3"] for i in (1, 2, 3) if f"step {i}/3" not in already]
    assert [[log["content"] for log in u["logs"]] for u in log_lines] == expected
    assert log_lines or already == ["step 1/3", "step 2/3", "step 3/3"]
    assert all(set(u) == {"id", "status", "updated_at", "logs"} for u in log_lines), log_lines


def test_a_stream_of_an_ended_task_is_the_snapshot_alone(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    task = local_emu.wait_for_task(run(http, "infsh/echo", {"x": 1})["id"])
    assert read_stream(http, task["id"]) == [task]


def test_the_wrapped_form_names_the_changed_fields(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    local_emu.stream_format = "wrapped"
    gate, task = run_gated(http)
    with task_lines(http, task["id"]) as lines:
        snapshot = next(lines)
        assert snapshot["id"] == task["id"]  # the snapshot is a bare task
        gate.release.set()
        rest = [line for line in lines if line.get("type") != "heartbeat"]
    assert len(rest) == 1
    final = rest[0]
    assert set(final) == {"data", "fields"}
    assert final["data"]["status"] == 10 and final["data"]["output"] == {"released": True}
    assert final["data"]["id"] == task["id"]  # the full task, not a partial one
    assert final["fields"] == ["status", "updated_at", "events", "output"]


def test_llm_deltas_stream_before_the_terminal_update(http: httpx2.Client) -> None:
    task = run(http, "infsh/llm-echo", {"text": "Hello there, world!"})
    lines = read_stream(http, task["id"])
    deltas = [line for line in lines if line.get("event") == "delta"]
    assert [d["data"]["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    text = "".join(d["data"]["delta"].get("response", "") for d in deltas)
    assert text == "Hello there, world!"
    assert deltas[-1]["data"]["delta"]["usage"]["total_tokens"] > 0
    assert all(set(d) == {"event", "data"} and "status" not in d["data"] for d in deltas)
    final = updates(lines)[-1]
    assert final["status"] == 10 and lines.index(final) > lines.index(deltas[-1])
    assert final["output"] == {"response": text, "usage": deltas[-1]["data"]["delta"]["usage"]}


def test_the_snapshot_is_sent_again_after_a_quiet_spell(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    local_emu.snapshot_interval = 0.15
    gate, task = run_gated(http)
    with task_lines(http, task["id"]) as lines:
        first = next(lines)
        again = next(line for line in lines if line.get("type") != "heartbeat")
        gate.release.set()
        list(lines)
    assert again == first  # nothing changed: the same task, re-sent


def test_sse_framing_on_request(http: httpx2.Client, local_emu: Emulator) -> None:
    task = local_emu.wait_for_task(run(http, "infsh/echo", {"x": 1})["id"])
    response = http.get(f"/tasks/{task['id']}/stream", headers={"accept": "text/event-stream"})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text == f"data: {json.dumps(task, separators=(',', ':'))}\n\n"


def test_leaving_a_stream_unsubscribes(http: httpx2.Client, local_emu: Emulator) -> None:
    gate, task = run_gated(http)
    record = local_emu.task_store.get(task["id"])
    assert record is not None
    with task_lines(http, task["id"]) as lines:
        next(lines)
        assert record.topic.subscriber_count == 1
    # The server notices the disconnect at its next write at the latest (a heartbeat).
    assert record.topic.wait_for_subscribers(0, timeout=5)
    gate.release.set()
    assert local_emu.wait_for_task(task["id"])["status"] in TERMINAL


def test_concurrent_streams_see_the_same_lines(http: httpx2.Client, local_emu: Emulator) -> None:
    gate, task = run_gated(http, logs=["a"])
    with ExitStack() as stack:
        responses = [
            stack.enter_context(http.stream("GET", f"/tasks/{task['id']}/stream")) for _ in range(3)
        ]
        readers = [lines_of(r) for r in responses]
        firsts = [next(reader) for reader in readers]
        gate.release.set()
        finals = [updates(list(reader)) for reader in readers]
    assert all(f == firsts[0] for f in firsts)
    assert all(f == finals[0] for f in finals)
    assert finals[0][-1] == local_emu.task(task["id"])
