"""The official JS SDK (`@inferencesh/sdk`, pinned) runs its task flows against the emulator.

Each test runs one flow of `js/flows.mjs` under node and asserts on the JSON it printed. When
the SDK and the emulator disagree, the emulator is what gets fixed (see docs/conformance.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance._clients import FlowRunner

pytestmark = pytest.mark.conformance

COMPLETED, FAILED, CANCELLED, RUNNING = 10, 11, 12, 7
TERMINAL = {COMPLETED, FAILED, CANCELLED}
HELLO = {"text": "Hello World!"}


def assert_progression(statuses: list[int], last: int) -> None:
    """Statuses only move forward and end with exactly one terminal status, `last`."""
    assert statuses, "no updates"
    assert statuses[-1] == last, statuses
    assert all(s not in TERMINAL for s in statuses[:-1]), statuses
    assert statuses == sorted(statuses), statuses


def test_run_and_wait(official_js: FlowRunner) -> None:
    result = official_js("run-and-wait")
    task = result["task"]
    assert task["status"] == COMPLETED
    assert result["parsedStatus"] == COMPLETED
    assert task["output"] == HELLO
    assert task["id"]
    # What the SDK's stripTask keeps must be on the wire (it copies them by name).
    assert {"id", "status", "output", "input", "created_at", "updated_at", "logs"} <= set(
        task["keys"]
    )


def test_wait_false_then_poll(official_js: FlowRunner) -> None:
    result = official_js("wait-false")
    created, task = result["created"], result["task"]
    assert created["id"] and created["id"] == task["id"]
    assert created["status"] not in {FAILED, CANCELLED}
    assert task["status"] == COMPLETED
    assert task["output"] == HELLO
    assert_progression(result["seen"], COMPLETED)


def test_stream_updates(official_js: FlowRunner) -> None:
    result = official_js("stream-updates")
    task, updates = result["task"], result["updates"]
    assert task["status"] == COMPLETED
    assert task["output"] == {"steps": 3}
    statuses = [u["status"] for u in updates]
    assert_progression(statuses, COMPLETED)
    assert RUNNING in statuses, statuses
    assert all(u["id"] == task["id"] for u in updates)
    assert updates[-1]["output"] == {"steps": 3}
    # Bare task lines only: every update went to onUpdate, none to onPartialUpdate.
    assert result["partial"] == []


def test_stream_updates_wrapped(official_js: FlowRunner, conformance_server_wrapped: Any) -> None:
    """`{"data": task, "fields": [...]}` lines go to `onPartialUpdate`, merged into the task.

    The snapshot sent on connect is a bare task (nothing "changed" in it), so `onUpdate` sees
    exactly that one line.
    """
    result = official_js.against(conformance_server_wrapped)("stream-updates")
    task, partial = result["task"], result["partial"]
    assert task["status"] == COMPLETED
    assert task["output"] == {"steps": 3}
    assert len(result["updates"]) == 1
    assert result["updates"][0]["status"] not in TERMINAL
    assert_progression([u["status"] for u in result["updates"] + partial], COMPLETED)
    assert all(isinstance(u["fields"], list) for u in partial)
    assert "status" in partial[-1]["fields"]
    assert partial[-1]["output"] == {"steps": 3}


def test_polling_mode(official_js: FlowRunner) -> None:
    result = official_js("polling")
    task, updates = result["task"], result["updates"]
    assert task["status"] == COMPLETED
    assert task["output"] == {"steps": 3}
    # onUpdate fires after each status change the poll saw, with the full task fetched.
    statuses = [u["status"] for u in updates]
    assert_progression(statuses, COMPLETED)
    assert len(set(statuses)) == len(statuses), statuses
    assert updates[-1]["output"] == {"steps": 3}


def test_cancel(official_js: FlowRunner) -> None:
    result = official_js("cancel")
    created, task = result["created"], result["task"]
    assert created["status"] not in TERMINAL
    assert task["id"] == created["id"]
    assert task["status"] == CANCELLED
    assert result["seen"][-1] == CANCELLED
    assert result["cancelResult"]["messages"] == []
    watched = result["watched"]
    assert watched["rejected"], watched
    assert watched["error"]["message"] == "task cancelled"


def test_cancel_while_streaming(official_js: FlowRunner) -> None:
    result = official_js("cancel-while-streaming")
    assert result["cancelled"]
    outcome = result["outcome"]
    assert outcome["rejected"], outcome
    assert outcome["error"]["name"] == "Error"
    assert outcome["error"]["message"] == "task cancelled"
    assert_progression(result["statuses"], CANCELLED)


def test_deltas(official_js: FlowRunner) -> None:
    result = official_js("deltas")
    task = result["task"]
    assert task["status"] == COMPLETED
    assert task["output"]["response"] == "Hello there, world!"
    deltas = result["deltas"]
    text = "".join(d["delta"].get("response", "") for d in deltas)
    assert text == "Hello there, world!"
    seqs = [d["seq"] for d in deltas]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
    assert any("usage" in d["delta"] for d in deltas)
    # Deltas never reach onUpdate (it sees task lines only).
    assert all("delta" not in u["keys"] for u in result["updates"])
    assert result["updates"][-1]["status"] == COMPLETED


def test_task_management(official_js: FlowRunner) -> None:
    result = official_js("manage")
    assert result["id"] in result["listed"]
    assert {"items", "next_cursor", "has_next"} <= set(result["pageKeys"])
    assert result["logs"]["task_id"] == result["id"]
    assert result["logs"]["status"] == COMPLETED
    assert result["logs"]["contents"] == ["step 1/2", "step 2/2"]
    assert result["timings"]["task_id"] == result["id"]
    assert result["timings"]["groups"] > 0
    assert result["deleted"]["messages"] == []
    after = result["afterDelete"]
    assert after["rejected"] and after["error"]["statusCode"] == 404, after


def test_legacy_sse_stream(official_js: FlowRunner) -> None:
    result = official_js("legacy-sse")
    assert_progression(result["statuses"], COMPLETED)


def test_requirements_error(official_js: FlowRunner) -> None:
    result = official_js("requirements-412")
    assert result["rejected"], result
    error: dict[str, Any] = result["error"]
    assert error["name"] == "RequirementsNotMetException"
    assert error["isRequirementsNotMetException"] and error["guardRequirementsNotMet"]
    assert not error["isInferenceError"]
    assert error["statusCode"] == 412
    assert error["errors"], error
    first = error["errors"][0]
    assert first["type"] == "secret"
    assert first["key"] == "OPENAI_API_KEY"
    assert first["message"] and error["message"] == first["message"]
    assert first["action"]["type"] == "add_secret"


def test_failed_task(official_js: FlowRunner) -> None:
    result = official_js("failed-task")
    assert result["rejected"], result
    assert result["error"]["name"] == "Error"
    assert "boom from the conformance suite" in result["error"]["message"]


def test_not_found(official_js: FlowRunner) -> None:
    result = official_js("not-found")
    assert result["rejected"], result
    error = result["error"]
    assert error["name"] == "InferenceError" and error["isInferenceError"]
    assert error["statusCode"] == 404
    assert error["message"].startswith("HTTP 404: ")
    assert "no-such-task" in error["responseBody"] or "not found" in error["message"].lower()


def test_wrong_api_key(official_js: FlowRunner) -> None:
    report = official_js.with_key("sk-not-the-key").report("run-and-wait")
    assert not report["ok"], report
    error = report["error"]
    assert error["name"] == "InferenceError" and error["isInferenceError"]
    assert error["statusCode"] == 401
    assert error["message"].startswith("HTTP 401: ")
