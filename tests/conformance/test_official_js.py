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


# -- files ------------------------------------------------------------------------------------

FILE_KEYS = {"id", "uri", "upload_url", "filename", "content_type", "size", "created_at"}


def test_upload_a_data_uri(official_js: FlowRunner) -> None:
    result = official_js("upload-data-uri")
    file, fetched = result["file"], result["fetched"]
    assert FILE_KEYS <= set(file["keys"]) and file["hasUploadUrl"]
    assert file["content_type"] == "text/plain"
    # The uri is fetchable as it is, without the key (like a presigned URL).
    assert fetched["status"] == 200
    assert fetched["sha256"] == result["expected"]
    assert fetched["contentType"].startswith("text/plain")


def test_upload_blobs_and_base64_then_manage_them(official_js: FlowRunner) -> None:
    result = official_js("upload-blob")
    blob, raw, got = result["blob"], result["raw"], result["got"]
    assert (blob["filename"], blob["content_type"], blob["size"]) == ("dot.png", "image/png", 70)
    if result["named"] is not None:  # node >= 20 has a global File
        assert result["named"]["filename"] == "named.png"
    assert raw["content_type"] == "image/png"
    assert got["id"] == blob["id"] and got["uri"] == blob["uri"] and got["size"] == 70
    assert {blob["id"], raw["id"]} <= set(result["listed"])
    # An app reads the uploaded bytes as files of its own.
    output = result["output"]
    assert output["file"] == {"size": 70, "sha256": result["expected"], "name": "dot.png"}
    assert output["others"] == [{"size": 70, "sha256": result["expected"]}]
    assert result["deleted"] == {"data": None, "messages": []}
    after = result["afterDelete"]
    assert after["rejected"] and after["error"]["statusCode"] == 404


def test_run_uploads_data_uris_blobs_and_base64_in_the_input(official_js: FlowRunner) -> None:
    result = official_js("auto-upload")
    output, expected = result["output"], result["expected"]
    assert output["file"]["sha256"] == expected["file"]
    assert [o["sha256"] for o in output["others"]] == [expected["png"], expected["png"]]
    # The task's input holds the uploaded uris, not the data.
    uris = [result["input"]["file"], *result["input"]["others"]]
    assert all(u.startswith("http://") and "/_files/" in u for u in uris), uris


def test_an_output_file_is_a_fetchable_uri(official_js: FlowRunner) -> None:
    result = official_js("output-file")
    image, fetched = result["image"], result["fetched"]
    assert (image["filename"], image["content_type"]) == ("image.png", "image/png")
    assert fetched["status"] == 200 and fetched["contentType"] == "image/png"
    assert fetched["size"] == image["size"]
    assert fetched["head"] == [137, 80, 78, 71, 13, 10, 26, 10]
    assert fetched["png"] == {"width": 16, "height": 8}
    assert result["width"] == 16


# -- sessions ---------------------------------------------------------------------------------


def test_a_session_keeps_its_worker_and_state(official_js: FlowRunner) -> None:
    result = official_js("session")
    sid = result["sid"]
    assert sid and sid != "new"
    assert result["firstOutput"] == {"key": "k", "value": "v"}
    assert result["sessionIds"] == [sid, sid, sid]
    assert result["got"] == {"value": "v"}
    assert result["counts"] == [{"value": 1}, {"value": 2}]
    assert result["other"]["sid"] != sid and result["other"]["output"] == {"value": None}
    info = result["info"]
    assert (info["id"], info["status"], info["call_count"], info["idle_timeout"]) == (
        sid,
        "active",
        4,
        30,
    )
    assert sid in result["listed"]
    assert result["kept"]["status"] == "active"
    assert result["kept"]["expires_at"] >= info["expires_at"]
    assert result["ended"] == {"data": None, "messages": []}
    assert result["after"]["status"] == "ended" and result["after"]["ended_at"]
    for key in ("afterEnd", "keepaliveAfterEnd"):
        error = result[key]["error"]
        assert result[key]["rejected"] and error["statusCode"] == 410, result[key]
        assert "/errors/SESSION_ENDED" in error["responseBody"]


def test_session_errors(official_js: FlowRunner) -> None:
    result = official_js("session-errors")
    expected = {
        "unknown": (404, "SESSION_NOT_FOUND"),
        "unknownGet": (404, "SESSION_NOT_FOUND"),
        "otherApp": (409, "APP_MISMATCH"),
        "timeoutWithoutNew": (400, "validation_error"),
        "timeoutOutOfRange": (400, "validation_error"),
    }
    for key, (status, code) in expected.items():
        outcome = result[key]
        assert outcome["rejected"], (key, outcome)
        error = outcome["error"]
        assert error["name"] == "InferenceError" and error["statusCode"] == status, (key, error)
        assert f"/errors/{code}" in error["responseBody"], (key, error)
    assert "session_timeout" in result["timeoutWithoutNew"]["error"]["message"]
