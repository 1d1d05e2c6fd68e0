"""The official Python SDK (PyPI `inferencesh`, pinned) runs its task flows against the emulator.

Each test runs one flow of `py_official/flows.py` with the official SDK's own virtual
environment and asserts on the JSON it printed. When the SDK and the emulator disagree, the
emulator is what gets fixed (see docs/conformance.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conformance._clients import PY_PINS, FlowRunner

pytestmark = pytest.mark.conformance

COMPLETED, FAILED, CANCELLED, RUNNING = 10, 11, 12, 7
TERMINAL = {COMPLETED, FAILED, CANCELLED}
HELLO = {"text": "Hello World!"}
# `_strip_task` of the official SDK: what run/stream results carry.
STRIPPED = {"id", "created_at", "updated_at", "input", "output", "logs", "status"}


def pinned_version() -> str:
    pin = re.search(r"^inferencesh(\[[^]]*\])?==(\S+)", Path(PY_PINS[0]).read_text(), re.M)
    assert pin, "inferencesh is not pinned"
    return pin.group(2)


def assert_progression(statuses: list[int], last: int) -> None:
    """Statuses only move forward and end with exactly one terminal status, `last`."""
    assert statuses, "no updates"
    assert statuses[-1] == last, statuses
    assert all(s not in TERMINAL for s in statuses[:-1]), statuses
    assert statuses == sorted(statuses), statuses


def test_flows_use_the_pinned_official_package(official_py: FlowRunner) -> None:
    report = official_py.report("run-and-wait")
    assert report["ok"], report
    assert report["sdk"]["version"] == pinned_version()
    # The official package from its own venv, not this checkout's `inferencesh`.
    assert Path(report["sdk"]["file"]).is_relative_to(official_py.installed.path)


@pytest.mark.parametrize("flow", ["run-and-wait", "async-run-and-wait"])
def test_run_and_wait(official_py: FlowRunner, flow: str) -> None:
    task = official_py(flow)["task"]
    assert task["status"] == COMPLETED
    assert task["output"] == HELLO
    assert task["id"]
    assert STRIPPED <= set(task["keys"])


def test_run_legacy_alias(official_py: FlowRunner) -> None:
    task = official_py("run-legacy-alias")["task"]
    assert task["status"] == COMPLETED
    assert task["output"] == HELLO


def test_wait_false_then_poll(official_py: FlowRunner) -> None:
    result = official_py("wait-false")
    created, task = result["created"], result["task"]
    assert created["id"] and created["id"] == task["id"]
    assert set(created["keys"]) == STRIPPED
    assert created["status"] not in {FAILED, CANCELLED}
    assert task["status"] == COMPLETED
    assert task["output"] == HELLO
    assert_progression(result["seen"], COMPLETED)


@pytest.mark.parametrize("flow", ["stream-updates", "async-stream-updates"])
def test_stream_updates(official_py: FlowRunner, flow: str) -> None:
    check_stream_updates(official_py(flow)["updates"])


def test_stream_updates_wrapped(official_py: FlowRunner, conformance_server_wrapped: Any) -> None:
    """Streams of `{"data": task, "fields": [...]}` lines: the SDK reads the task in `data`."""
    check_stream_updates(
        official_py.against(conformance_server_wrapped)("stream-updates")["updates"]
    )


def check_stream_updates(updates: list[dict[str, Any]]) -> None:
    statuses = [u["status"] for u in updates]
    assert_progression(statuses, COMPLETED)
    assert RUNNING in statuses, statuses
    assert len({u["id"] for u in updates}) == 1
    assert updates[-1]["output"] == {"steps": 3}
    assert updates[-1]["status_name"] == "COMPLETED"


def test_stream_existing_task(official_py: FlowRunner) -> None:
    result = official_py("stream-existing")
    statuses = [u["status"] for u in result["updates"]]
    assert_progression(statuses, COMPLETED)
    assert result["result"]["id"] == result["created"]["id"]
    assert result["result"]["status"] == COMPLETED
    assert result["result"]["output"] == {"steps": 3}


def test_wait_for_completion(official_py: FlowRunner) -> None:
    result = official_py("wait-for-completion")
    assert result["task"]["id"] == result["created"]["id"]
    assert result["task"]["status"] == COMPLETED
    assert result["task"]["output"] == {"steps": 3}


def test_cancel(official_py: FlowRunner) -> None:
    result = official_py("cancel")
    created, task = result["created"], result["task"]
    assert created["status"] not in TERMINAL
    assert task["id"] == created["id"]
    assert task["status"] == CANCELLED
    assert result["seen"][-1] == CANCELLED
    waited = result["waited"]
    assert waited["raised"], waited
    assert waited["error"]["type"] == "RuntimeError"
    assert waited["error"]["message"].lower() == "task cancelled"


def test_async_cancel(official_py: FlowRunner) -> None:
    result = official_py("async-cancel")
    assert result["created"]["status"] not in TERMINAL
    assert result["task"]["id"] == result["created"]["id"]
    assert result["task"]["status"] == CANCELLED
    assert result["waited"]["raised"], result["waited"]
    assert result["waited"]["error"]["type"] == "RuntimeError"
    assert result["waited"]["error"]["message"].lower() == "task cancelled"


def test_cancel_while_streaming(official_py: FlowRunner) -> None:
    result = official_py("cancel-while-streaming")
    outcome = result["outcome"]
    assert outcome["raised"], outcome
    assert outcome["error"] == {"type": "RuntimeError", "message": "task cancelled"}
    # The SDK raises on the terminal update instead of yielding it.
    statuses = result["statuses"]
    assert RUNNING in statuses and all(s not in TERMINAL for s in statuses), statuses


@pytest.mark.parametrize("flow", ["deltas", "async-deltas"])
def test_deltas(official_py: FlowRunner, flow: str) -> None:
    updates = official_py(flow)["updates"]
    partial = [u for u in updates if u["delta"]]
    assert partial, updates
    # Each synthetic update carries the response accumulated so far, growing to the whole text.
    texts = [u["output"]["response"] for u in partial]
    assert all(b.startswith(a) for a, b in zip(texts, texts[1:], strict=False)), texts
    assert texts[-1] == "Hello there, world!"
    final = updates[-1]
    assert not final["delta"]
    assert final["status"] == COMPLETED
    assert final["output"]["response"] == "Hello there, world!"
    assert final["output"]["usage"]["total_tokens"] > 0


def test_delete(official_py: FlowRunner) -> None:
    after = official_py("delete")["after_delete"]
    assert after["raised"], after
    assert after["error"]["type"] == "APIError"
    assert after["error"]["status_code"] == 404
    assert after["error"]["code"] == "not_found"


@pytest.mark.parametrize("flow", ["requirements-412", "async-requirements-412"])
def test_requirements_error(official_py: FlowRunner, flow: str) -> None:
    result = official_py(flow)
    assert result["raised"], result
    error = result["error"]
    assert error["type"] == "RequirementsNotMetError"
    assert error["status_code"] == 412
    first = error["errors"][0]
    assert first["type"] == "secret"
    assert first["key"] == "OPENAI_API_KEY"
    assert first["message"] and error["message"] == first["message"]
    assert first["action"]["type"] == "add_secret"


def test_failed_task(official_py: FlowRunner) -> None:
    result = official_py("failed-task")
    assert result["raised"], result
    assert result["error"]["type"] == "RuntimeError"
    assert "boom from the conformance suite" in result["error"]["message"]


def test_not_found(official_py: FlowRunner) -> None:
    result = official_py("not-found")
    assert result["raised"], result
    error = result["error"]
    assert error["type"] == "APIError"
    assert error["status_code"] == 404
    assert error["code"] == "not_found"
    assert error["message"].startswith("HTTP 404: ")


def test_wrong_api_key(official_py: FlowRunner) -> None:
    report = official_py.with_key("sk-not-the-key").report("run-and-wait")
    assert not report["ok"], report
    error = report["error"]
    assert error["type"] == "APIError"
    assert error["status_code"] == 401
    assert error["code"] == "unauthorized"


@pytest.mark.parametrize("abort", [True, False], ids=["broken", "ended-early"])
def test_recovers_from_a_cut_stream(
    official_py: FlowRunner, conformance_server: Any, abort: bool
) -> None:
    """The SDK reconnects (or reconciles with a GET) when a task stream stops before the end."""
    faults = conformance_server.emulator.faults
    faults.cut_stream_after(1, abort=abort)
    try:
        result = official_py("wait-for-completion")
    finally:
        faults.reset()
    assert result["task"]["id"] == result["created"]["id"]
    assert result["task"]["status"] == COMPLETED
    assert result["task"]["output"] == {"steps": 3}


# -- files ------------------------------------------------------------------------------------

FILE_KEYS = {"id", "uri", "upload_url", "filename", "content_type", "size", "created_at"}


def test_upload_a_path(official_py: FlowRunner) -> None:
    result = official_py("upload-path")
    file = result["file"]
    assert FILE_KEYS <= set(file["keys"]) and file["has_upload_url"]
    assert (file["filename"], file["content_type"], file["size"]) == (
        "notes.txt",
        "text/plain",
        3500,
    )
    # The SDK's download() fetches the uri as it is (plain urllib, no key).
    assert result["downloaded"]["sha256"] == result["sha256"]
    assert result["downloaded"]["name"] == "notes.txt"


def test_upload_bytes_and_data_uris(official_py: FlowRunner) -> None:
    result = official_py("upload-bytes")
    assert (result["named"]["filename"], result["named"]["content_type"]) == (
        "dot.png",
        "image/png",
    )
    # upload_file(bytes) sends `filename: null`: the emulator names the file itself.
    anonymous = result["anonymous"]
    assert anonymous["filename"] and anonymous["content_type"] == "application/octet-stream"
    assert result["from_uri"]["content_type"] == "text/plain" and result["from_uri"]["size"] == 2
    output = result["output"]
    assert output["file"]["sha256"] == result["sha256"]["png"]
    assert output["file"]["name"] == "dot.png"
    assert output["others"][0] == {"size": 3, "sha256": result["sha256"]["anonymous"]}
    assert output["others"][1]["size"] == 2


@pytest.mark.parametrize("flow", ["auto-upload", "async-upload"])
def test_run_uploads_paths_and_data_uris_in_the_input(official_py: FlowRunner, flow: str) -> None:
    result = official_py(flow)
    output = result["output"]
    text_sha = result["sha256"]["text"] if flow == "auto-upload" else result["sha256"]
    assert output["file"]["sha256"] == text_sha and output["file"]["size"] == 3500
    assert result["input"]["file"].startswith("http://")  # the uri went over the wire
    if flow == "auto-upload":
        assert output["others"] == [{"size": 70, "sha256": result["sha256"]["png"]}]
    else:
        assert result["file"]["filename"] == "async.txt" and result["file"]["size"] == 3500


def test_an_output_file_downloads_with_the_sdk_helper(official_py: FlowRunner) -> None:
    result = official_py("output-file")
    image, downloaded = result["image"], result["downloaded"]
    assert (image["filename"], image["content_type"]) == ("image.png", "image/png")
    assert downloaded["size"] == image["size"]
    assert downloaded["head"] == [137, 80, 78, 71, 13, 10, 26, 10]
    assert downloaded["name"] == "image.png"


# -- sessions ---------------------------------------------------------------------------------


def test_the_session_helper(official_py: FlowRunner) -> None:
    result = official_py("session")
    sid = result["sid"]
    assert sid and result["got_session"] == sid
    assert result["got"] == {"value": "v"}
    assert result["counts"] == [{"value": 1}, {"value": 2}]
    info = result["info"]
    assert (info["id"], info["status"], info["call_count"]) == (sid, "active", 4)
    assert result["kept"]["expires_at"] >= info["expires_at"]
    assert result["after"]["status"] == "ended"  # leaving the `with` block ended it
    assert result["listed"]
    error = result["call_after_end"]["error"]
    assert (error["type"], error["status_code"], error["code"]) == (
        "APIError",
        410,
        "SESSION_ENDED",
    )
    assert result["call_on_ended_handle"]["error"] == {
        "type": "RuntimeError",
        "message": "Session has been ended",
    }


def test_the_session_helper_opens_with_run_by_default(official_py: FlowRunner) -> None:
    result = official_py("session-default-function")
    assert result["sid"] and result["output"] == {"value": 1}


def test_sessions_through_run(official_py: FlowRunner) -> None:
    result = official_py("session-run")
    assert result["first"]["sid"] == result["second"]["sid"]
    assert [result["first"]["output"], result["second"]["output"]] == [{"value": 1}, {"value": 2}]
    assert result["idle_timeout"] == 30
    expected = {
        "unknown": (404, "SESSION_NOT_FOUND"),
        "unknown_get": (404, "SESSION_NOT_FOUND"),
        "timeout_without_new": (400, "validation_error"),
        "ended": (410, "SESSION_ENDED"),
    }
    for key, (status, code) in expected.items():
        error = result[key]["error"]
        assert (error["type"], error["status_code"], error["code"]) == ("APIError", status, code)


def test_the_async_session_helper(official_py: FlowRunner) -> None:
    result = official_py("async-session")
    assert result == {"output": {"value": 2}, "call_count": 2, "after": "ended"}
