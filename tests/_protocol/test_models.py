import json
from pathlib import Path

import pytest

from inferencesh._protocol.deltas import merge_delta
from inferencesh.models import CursorPage, Task, TaskStatus

FIXTURES = Path(__file__).parents[1] / "fixtures" / "protocol"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (7, TaskStatus.RUNNING),
        (13, TaskStatus.REJECTED),
        (99, TaskStatus.UNKNOWN),
        (-1, TaskStatus.UNKNOWN),
        ("running", TaskStatus.RUNNING),
        ("RUNNING", TaskStatus.RUNNING),
        (" Completed ", TaskStatus.COMPLETED),
        ("setting_up", TaskStatus.SETTING_UP),
        ("rejected", TaskStatus.REJECTED),
        ("canceled", TaskStatus.CANCELLED),
        ("10", TaskStatus.COMPLETED),
        ("nonsense", TaskStatus.UNKNOWN),
        (None, TaskStatus.UNKNOWN),
        (True, TaskStatus.UNKNOWN),
        (7.0, TaskStatus.UNKNOWN),
    ],
)
def test_status_parses_like_the_official_clients(raw: object, expected: TaskStatus) -> None:
    assert TaskStatus.parse(raw) is expected


def test_every_protocol_status_exists_and_terminal_ones_are_marked() -> None:
    assert [s.value for s in TaskStatus] == list(range(14))
    assert {s for s in TaskStatus if s.is_terminal} == {
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
        TaskStatus.REJECTED,
    }


@pytest.mark.parametrize(
    "name", ["task-queued", "task-running", "task-completed", "task-failed", "task-cancelled"]
)
def test_fixture_tasks_parse_and_keep_unknown_fields(name: str) -> None:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    task = Task.model_validate(data)
    assert task.id == data["id"] and int(task.status) == data["status"]
    assert (
        task.model_extra is not None
        and task.model_extra["worker_id" if "worker_id" in data else "user_id"]
    )
    dumped = task.model_dump(mode="json", exclude_unset=True)
    assert dumped["rating"] == data["rating"]


def test_string_statuses_and_nulls_in_tasks() -> None:
    task = Task.model_validate({"id": "t", "status": "failed", "events": None, "logs": None})
    assert task.status == TaskStatus.FAILED and task.events == [] and task.logs == []


def test_cursor_page_of_fixture() -> None:
    data = json.loads((FIXTURES / "cursor-list-response.json").read_text())["data"]
    page = CursorPage[Task].model_validate(data)
    assert page.has_next and page.next_cursor and page.items[0].output == {"text": "Hello World!"}
    assert CursorPage[Task].model_validate({"items": None}).items == []


def test_delta_merge_rules() -> None:
    out = merge_delta(None, {"response": "He", "reasoning": "r1"})
    out = merge_delta(out, {"response": "llo", "reasoning": "r2", "usage": {"total_tokens": 3}})
    out = merge_delta(out, {"usage": {"total_tokens": 5}})
    assert out == {"response": "Hello", "reasoning": "r1r2", "usage": {"total_tokens": 5}}


def test_tool_call_deltas_merge_by_index() -> None:
    out = merge_delta(
        None,
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get", "arguments": '{"a"'},
                }
            ]
        },
    )
    out = merge_delta(
        out,
        {
            "tool_calls": [
                {"index": 0, "function": {"arguments": ": 1}"}},
                {"index": 1, "id": "c2", "function": {"name": "put", "arguments": "{}"}},
            ]
        },
    )
    assert out["tool_calls"] == [
        {
            "index": 0,
            "id": "c1",
            "type": "function",
            "function": {"name": "get", "arguments": '{"a": 1}'},
        },
        {"index": 1, "id": "c2", "function": {"name": "put", "arguments": "{}"}},
    ]


def test_merge_does_not_mutate_its_input() -> None:
    first = merge_delta(
        None, {"response": "a", "tool_calls": [{"index": 0, "function": {"arguments": "x"}}]}
    )
    snapshot = json.dumps(first)
    merge_delta(
        first, {"response": "b", "tool_calls": [{"index": 0, "function": {"arguments": "y"}}]}
    )
    assert json.dumps(first) == snapshot


def test_tool_call_parts_that_are_not_objects_are_skipped_and_gaps_are_filled() -> None:
    out = merge_delta(
        {"tool_calls": "not a list"},  # a non-list is no calls at all
        {"tool_calls": ["junk", {"index": 2, "id": "c3"}]},
    )
    assert out["tool_calls"] == [{"index": 0}, {"index": 1}, {"index": 2, "id": "c3"}]


def test_a_tool_call_part_without_an_index_is_a_new_call() -> None:
    out = merge_delta(None, {"tool_calls": [{"id": "c1"}, {"index": "0", "id": "c2"}]})
    assert out["tool_calls"] == [{"index": 0, "id": "c1"}, {"index": "0", "id": "c2"}]


def test_a_negative_tool_call_index_neither_raises_nor_rewrites_earlier_calls() -> None:
    # A malformed delta must not crash the stream with an IndexError, nor rename call 0.
    assert merge_delta(None, {"tool_calls": [{"index": -1, "id": "c1"}]})["tool_calls"]
    out = merge_delta(
        {"tool_calls": [{"index": 0, "id": "c0"}]}, {"tool_calls": [{"index": -1, "id": "x"}]}
    )
    assert out["tool_calls"][0] == {"index": 0, "id": "c0"}


def test_non_text_values_replace_and_text_after_them_starts_afresh() -> None:
    out = merge_delta({"response": "abc"}, {"response": None, "tool_calls": None})
    assert out == {"response": None, "tool_calls": None}
    assert merge_delta(out, {"response": "d"})["response"] == "d"
    calls = merge_delta(
        {"tool_calls": [{"index": 0, "function": {"arguments": "x"}}]},
        {"tool_calls": [{"index": 0, "function": "opaque"}]},
    )
    assert calls["tool_calls"] == [{"index": 0, "function": "opaque"}]
