"""Bodies that are not JSON: a 400 naming the bad value, and nothing created.

NaN, infinities (also a number too large for a float), lone surrogates and nesting deeper
than the emulator's limit are refused by every endpoint that reads a JSON body, before
anything changes; a task made from such a body would break every later read of it.
"""

from __future__ import annotations

import base64

import httpx2
import pytest

from inferencesh.local import AppContext, Emulator
from tests.local._support import assert_problem, run

DEPTH_LIMIT = 128  # docs/emulator.md, "Limits"

BAD_VALUES: list[tuple[bytes, str]] = [
    (b"NaN", "NaN"),
    (b"Infinity", "Infinity"),
    (b"-Infinity", "-Infinity"),
    (b"1e999", "1e999"),
    (b'"\\ud800"', "surrogate"),
    (b'"a\\udfffb"', "surrogate"),
    (b'{"\\ud83d": 1}', "surrogate"),
]


def _run_body(value: bytes) -> bytes:
    return b'{"app": "infsh/echo", "input": {"a": {"b": ' + value + b"}}}"


def _nested(depth: int) -> bytes:
    """An input nested `depth` levels deep in the body (the body object is level 1)."""
    inner = depth - 2  # the body object and `input` itself
    return b'{"app": "infsh/echo", "input": {"x": ' + b"[" * inner + b"]" * inner + b"}}"


def _state(emu: Emulator) -> tuple[list[str], list[str], list[str]]:
    return (
        [t["id"] for t in emu.tasks()],
        [f["id"] for f in emu.files(include_pending=True)],
        [s["id"] for s in emu.sessions()],
    )


@pytest.mark.parametrize(("value", "named"), BAD_VALUES)
def test_a_run_input_that_is_not_json_is_refused_and_creates_nothing(
    http: httpx2.Client, local_emu: Emulator, value: bytes, named: str
) -> None:
    before = _state(local_emu)
    problem = assert_problem(
        http.post("/apps/run", content=_run_body(value)), 400, "invalid_request"
    )
    assert "input.a.b" in problem["detail"], problem
    assert named.lower() in problem["detail"].lower(), problem
    assert _state(local_emu) == before
    # Every task stays readable, one by one and listed.
    assert http.post("/tasks/list", json={"limit": 100}).status_code == 200
    for task_id in before[0][-5:]:
        assert http.get(f"/tasks/{task_id}").status_code == 200


@pytest.mark.parametrize("depth", [DEPTH_LIMIT + 1, 100_000])
def test_json_nested_too_deeply_is_a_400(
    http: httpx2.Client, local_emu: Emulator, depth: int
) -> None:
    before = _state(local_emu)
    problem = assert_problem(http.post("/apps/run", content=_nested(depth)), 400, "invalid_request")
    assert f"{DEPTH_LIMIT} levels" in problem["detail"]
    assert _state(local_emu) == before


def test_json_nested_up_to_the_limit_runs(http: httpx2.Client, local_emu: Emulator) -> None:
    task = run(http, "infsh/echo", {"x": []})  # the plain case first: the helper works
    local_emu.wait_for_task(task["id"])
    response = http.post("/apps/run", content=_nested(DEPTH_LIMIT))
    assert response.status_code == 200, response.text
    done = local_emu.wait_for_task(response.json()["data"]["id"])
    assert done["status"] == 10, done.get("error")
    assert http.get(f"/tasks/{done['id']}").json()["data"]["output"] == done["output"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/tasks/list", b'{"limit": NaN}'),
        ("POST", "/files", b'{"files": [{"filename": "\\udc80.txt", "size": 3}]}'),
        ("POST", "/files/list", b'{"search": {"query": Infinity}}'),
        ("POST", "/tasks/list", b'{"filters": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
        ("POST", "/agents/run", b'{"agent": "infsh/x", "input": {"text": "a", "n": NaN}}'),
        ("POST", "/agents/run", b'{"agent": "infsh/x", "input": {"text": "\\udc00"}}'),
    ],
)
def test_every_json_body_is_checked(
    http: httpx2.Client, local_emu: Emulator, method: str, path: str, body: bytes
) -> None:
    before = _state(local_emu)
    assert_problem(http.request(method, path, content=body), 400, "invalid_request")
    assert _state(local_emu) == before


def test_a_deeply_nested_cursor_is_a_400(http: httpx2.Client) -> None:
    cursor = base64.urlsafe_b64encode(b'{"k": ' + b"[" * 5000 + b"]" * 5000 + b', "b": false}')
    response = http.post("/tasks/list", json={"cursor": cursor.decode()})
    assert_problem(response, 400, "invalid_request")


def test_invalid_utf8_is_a_400(http: httpx2.Client) -> None:
    body = b'{"app": "infsh/echo", "input": {"a": "\xff\xfe"}}'
    assert_problem(http.post("/apps/run", content=body), 400, "invalid_request")


def test_what_an_app_sends_that_is_not_json_never_breaks_its_task(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    @local_emu.app("test/odd-text")
    def odd_text(ctx: AppContext, input: dict[str, str]) -> dict[str, str]:
        ctx.log("half a pair: \ud83d")
        ctx.progress(0.5, "also \udc00 here")
        try:
            ctx.delta({"response": float("nan")})
        except ValueError as exc:
            ctx.log(f"delta refused: {type(exc).__name__}")
        if input.get("mode") == "raise":
            raise RuntimeError("bad \ud800 message")
        if input.get("mode") == "output":
            return {"text": "\udfff"}
        return {"text": "fine"}

    for mode, status in (("ok", 10), ("raise", 11), ("output", 11)):
        task = local_emu.wait_for_task(run(http, "test/odd-text", {"mode": mode})["id"])
        assert task["status"] == status, task
        fetched = http.get(f"/tasks/{task['id']}")
        assert fetched.status_code == 200, fetched.text
        logs = [log["content"] for log in fetched.json()["data"]["logs"]]
        assert logs[:2] == ["half a pair: \ufffd", "delta refused: NotJSONError"]
        assert fetched.json()["data"]["progress_message"] == "also \ufffd here"
        if mode == "raise":
            assert fetched.json()["data"]["error"] == "bad \ufffd message"
        assert http.post("/tasks/list", json={}).status_code == 200
