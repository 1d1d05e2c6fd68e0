"""Sessions at the HTTP level: pinned workers, state, idle expiry by the clock, typed errors."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx2
import pytest

from inferencesh.local import AppContext, Emulator
from tests.local._support import assert_problem, new_gate, read_stream, run, updates

APP = "infsh/session-test"
# AppSessionDTO members (fixtures/session.json).
SESSION_KEYS = {
    "id", "short_id", "created_at", "updated_at", "user_id", "team_id", "visibility",
    "worker_id", "app_id", "app_version_id", "status", "expires_at", "task_id", "call_count",
    "last_call_at", "idle_timeout",
}  # fmt: skip


def call(
    http: httpx2.Client, emu: Emulator, function: str, input: Any = None, **fields: Any
) -> dict[str, Any]:
    """Run a function of the session test app and wait for it; the final task."""
    created = run(http, APP, input or {}, function=function, **fields)
    task = emu.wait_for_task(created["id"])
    assert task["status"] == 10, task.get("error")
    return task


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def session_problem(response: httpx2.Response, status: int, code: str, sid: str) -> None:
    problem = assert_problem(response, status, code)
    assert problem["session_id"] == sid
    assert sid in problem["detail"]


def test_a_new_session_pins_a_worker_that_keeps_state(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    created = run(http, APP, {"key": "k", "value": [1, "two"]}, function="set_value", session="new")
    sid = created["session_id"]
    assert sid.startswith("sess_") and sid != "new"
    lines = updates(read_stream(http, created["id"]))  # every update carries the session
    assert {line["session_id"] for line in lines} == {sid}
    first = local_emu.wait_for_task(created["id"])
    assert first["session_id"] == sid and first["output"] == {"key": "k", "value": [1, "two"]}
    assert 6 in [e["status"] for e in first["events"]]  # a fresh worker is set up

    second = call(http, local_emu, "get_value", {"key": "k"}, session=sid)
    assert second["output"] == {"value": [1, "two"]} and second["session_id"] == sid
    assert second["worker_id"] == first["worker_id"]
    assert 6 not in [e["status"] for e in second["events"]]  # warm: no setup again
    assert call(http, local_emu, "increment", session=sid)["output"] == {"value": 1}
    assert call(http, local_emu, "increment", session=sid)["output"] == {"value": 2}
    assert call(http, local_emu, "get_all", session=sid)["output"] == {
        "values": {"k": [1, "two"]},
        "count": 2,
    }
    # Another session has a worker (and state) of its own; so do runs without a session.
    other = call(http, local_emu, "get_value", {"key": "k"}, session="new")
    assert other["output"] == {"value": None} and other["session_id"] != sid
    assert other["worker_id"] != first["worker_id"]
    assert call(http, local_emu, "increment")["output"] == {"value": 1}
    assert "session_id" not in call(http, local_emu, "increment")

    info = http.get(f"/sessions/{sid}").json()["data"]
    assert SESSION_KEYS <= set(info)
    assert (info["id"], info["status"], info["call_count"], info["idle_timeout"]) == (
        sid,
        "active",
        5,
        60,
    )
    assert info["worker_id"] == first["worker_id"] and info["task_id"]
    assert info["app_id"] == first["app_id"] and info["app_version_id"] == first["app_version_id"]
    assert "ended_at" not in info


def test_sessions_work_for_function_apps_too(http: httpx2.Client, local_emu: Emulator) -> None:
    gate = new_gate()
    gate.release.set()
    first = local_emu.wait_for_task(
        run(http, "test/gate", {"gate": gate.name}, session="new")["id"]
    )
    again = local_emu.wait_for_task(
        run(http, "test/gate", {"gate": gate.name}, session=first["session_id"])["id"]
    )
    assert again["worker_id"] == first["worker_id"] and again["status"] == 10


def test_apps_know_their_session(http: httpx2.Client, local_emu: Emulator) -> None:
    @local_emu.app("test/which-session")
    def which(ctx: AppContext, input: dict[str, Any]) -> dict[str, Any]:
        return {"session": ctx.session_id}

    plain = local_emu.wait_for_task(run(http, "test/which-session", {})["id"])
    assert plain["output"] == {"session": None}
    task = local_emu.wait_for_task(run(http, "test/which-session", {}, session="new")["id"])
    assert task["output"] == {"session": task["session_id"]}


def test_the_session_list_is_a_plain_array(http: httpx2.Client, local_emu: Emulator) -> None:
    sid = call(http, local_emu, "increment", session="new")["session_id"]
    listed: list[dict[str, Any]] = http.get("/sessions").json()["data"]
    assert isinstance(listed, list) and sid in [s["id"] for s in listed]
    bare: list[dict[str, Any]] = http.get("/sessions", headers={"x-api-version": "2"}).json()
    assert isinstance(bare, list) and sid in [s["id"] for s in bare]
    assert sid in [s["id"] for s in local_emu.sessions()]


# -- the idle timeout ------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [1, 5, 3600])
def test_a_session_expires_after_its_idle_timeout(
    http: httpx2.Client, local_emu: Emulator, timeout: int
) -> None:
    task = call(http, local_emu, "increment", session="new", session_timeout=timeout)
    sid = task["session_id"]
    assert task["session_timeout"] == timeout
    info = http.get(f"/sessions/{sid}").json()["data"]
    assert info["idle_timeout"] == timeout
    # The timer starts when the call has ended.
    assert when(info["expires_at"]) - when(info["last_call_at"]) >= timedelta(seconds=timeout)
    local_emu.clock.advance(timeout - 0.5)
    assert http.get(f"/sessions/{sid}").json()["data"]["status"] == "active"
    local_emu.clock.advance(1)
    expired = http.get(f"/sessions/{sid}").json()["data"]
    assert expired["status"] == "expired" and expired["ended_at"] == expired["expires_at"]
    before = len(local_emu.tasks())
    session_problem(
        http.post(
            "/apps/run", json={"app": APP, "function": "increment", "input": {}, "session": sid}
        ),
        410,
        "SESSION_EXPIRED",
        sid,
    )
    assert len(local_emu.tasks()) == before
    session_problem(http.post(f"/sessions/{sid}/keepalive"), 410, "SESSION_EXPIRED", sid)
    assert http.delete(f"/sessions/{sid}").status_code == 200  # over already: a no-op
    assert http.get(f"/sessions/{sid}").json()["data"]["status"] == "expired"


def test_calls_and_keepalives_restart_the_idle_timer(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    sid = call(http, local_emu, "increment", session="new", session_timeout=10)["session_id"]
    for _ in range(3):
        local_emu.clock.advance(8)
        kept = http.post(f"/sessions/{sid}/keepalive")
        assert kept.status_code == 200
        assert kept.json()["data"]["status"] == "active"
    local_emu.clock.advance(8)
    assert call(http, local_emu, "increment", session=sid)["output"] == {"value": 2}
    local_emu.clock.advance(8)
    info = http.get(f"/sessions/{sid}").json()["data"]
    assert info["status"] == "active" and info["call_count"] == 2


def test_the_default_idle_timeout_is_60_seconds(http: httpx2.Client, local_emu: Emulator) -> None:
    sid = call(http, local_emu, "increment", session="new")["session_id"]
    local_emu.clock.advance(59)
    assert http.get(f"/sessions/{sid}").json()["data"]["status"] == "active"
    local_emu.clock.advance(1)
    assert http.get(f"/sessions/{sid}").json()["data"]["status"] == "expired"


def test_a_busy_session_does_not_expire(http: httpx2.Client, local_emu: Emulator) -> None:
    gate = new_gate()
    created = run(http, "test/gate", {"gate": gate.name}, session="new", session_timeout=1)
    sid = created["session_id"]
    gate.wait_entered()
    local_emu.clock.advance(100)
    assert http.get(f"/sessions/{sid}").json()["data"]["status"] == "active"
    gate.release.set()
    local_emu.wait_for_task(created["id"])
    assert http.get(f"/sessions/{sid}").json()["data"]["status"] == "active"
    local_emu.clock.advance(1)
    assert http.get(f"/sessions/{sid}").json()["data"]["status"] == "expired"


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"session_timeout": 30},
        {"session": "sess_0123456789abcdef", "session_timeout": 30},
        {"session": "new", "session_timeout": 0},
        {"session": "new", "session_timeout": 3601},
        {"session": "new", "session_timeout": -5},
        {"session": "new", "session_timeout": 2.5},
        {"session": "new", "session_timeout": "30"},
        {"session": "new", "session_timeout": True},
    ],
)
def test_a_bad_session_timeout_is_a_400_naming_it(
    http: httpx2.Client, local_emu: Emulator, fields: dict[str, Any]
) -> None:
    before = (len(local_emu.tasks()), len(local_emu.sessions()))
    body: dict[str, Any] = {"app": APP, "function": "increment", "input": {}, **fields}
    problem = assert_problem(http.post("/apps/run", json=body), 400, "validation_error")
    assert "session_timeout" in problem["detail"]
    assert problem["invalid_params"][0]["name"] == "session_timeout"
    assert (len(local_emu.tasks()), len(local_emu.sessions())) == before


def test_unknown_sessions(http: httpx2.Client) -> None:
    sid = "sess_does_not_exist"
    run_body: dict[str, Any] = {"app": APP, "function": "increment", "input": {}, "session": sid}
    session_problem(http.post("/apps/run", json=run_body), 404, "SESSION_NOT_FOUND", sid)
    session_problem(http.get(f"/sessions/{sid}"), 404, "SESSION_NOT_FOUND", sid)
    session_problem(http.post(f"/sessions/{sid}/keepalive"), 404, "SESSION_NOT_FOUND", sid)
    session_problem(http.delete(f"/sessions/{sid}"), 404, "SESSION_NOT_FOUND", sid)


def test_an_ended_session_refuses_calls(http: httpx2.Client, local_emu: Emulator) -> None:
    sid = call(http, local_emu, "increment", session="new")["session_id"]
    ended = http.delete(f"/sessions/{sid}")
    assert ended.json() == {"success": True, "status": 200, "data": None, "messages": []}
    assert http.delete(f"/sessions/{sid}", headers={"x-api-version": "2"}).status_code == 204
    info = http.get(f"/sessions/{sid}").json()["data"]
    assert info["status"] == "ended" and info["ended_at"]
    run_body: dict[str, Any] = {"app": APP, "function": "increment", "input": {}, "session": sid}
    session_problem(http.post("/apps/run", json=run_body), 410, "SESSION_ENDED", sid)
    session_problem(http.post(f"/sessions/{sid}/keepalive"), 410, "SESSION_ENDED", sid)
    local_emu.clock.advance(3600)  # an ended session stays ended, it does not expire
    assert http.get(f"/sessions/{sid}").json()["data"]["status"] == "ended"


def test_a_busy_worker_refuses_a_second_call(http: httpx2.Client, local_emu: Emulator) -> None:
    gate = new_gate()
    first = run(http, "test/gate", {"gate": gate.name}, session="new")
    sid = first["session_id"]
    gate.wait_entered()
    before = len(local_emu.tasks())
    body: dict[str, Any] = {"app": "test/gate", "input": {"gate": gate.name}, "session": sid}
    session_problem(http.post("/apps/run", json=body), 409, "WORKER_LEASED", sid)
    assert len(local_emu.tasks()) == before
    assert http.post(f"/sessions/{sid}/keepalive").status_code == 200  # allowed while busy
    gate.release.set()
    local_emu.wait_for_task(first["id"])
    # Free again the moment the task is seen to end.
    second = local_emu.wait_for_task(run(http, "test/gate", {"gate": gate.name}, session=sid)["id"])
    assert second["status"] == 10
    assert http.get(f"/sessions/{sid}").json()["data"]["call_count"] == 2


def test_a_session_belongs_to_its_app(http: httpx2.Client, local_emu: Emulator) -> None:
    sid = call(http, local_emu, "increment", session="new")["session_id"]
    body: dict[str, Any] = {"app": "infsh/echo", "input": {"x": 1}, "session": sid}
    session_problem(http.post("/apps/run", json=body), 409, "APP_MISMATCH", sid)
    # The session is unharmed.
    assert call(http, local_emu, "increment", session=sid)["output"] == {"value": 2}


def test_an_app_registered_again_refuses_older_sessions(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    def v1(ctx: AppContext, input: dict[str, Any]) -> dict[str, Any]:
        return {"v": 1}

    local_emu.register("test/versioned", v1, version="one")
    sid = local_emu.wait_for_task(run(http, "test/versioned", {}, session="new")["id"])[
        "session_id"
    ]
    local_emu.register("test/versioned", v1, version="two")
    body: dict[str, Any] = {"app": "test/versioned", "input": {}, "session": sid}
    session_problem(http.post("/apps/run", json=body), 409, "VERSION_MISMATCH", sid)


def test_a_refused_run_opens_no_session(http: httpx2.Client, local_emu: Emulator) -> None:
    before = len(local_emu.sessions())
    bad_input: dict[str, Any] = {"app": APP, "function": "set_value", "input": {}, "session": "new"}
    assert_problem(http.post("/apps/run", json=bad_input), 422, "validation_error")
    unknown: dict[str, Any] = {"app": APP, "function": "nope", "input": {}, "session": "new"}
    assert_problem(http.post("/apps/run", json=unknown), 404, "not_found")
    assert len(local_emu.sessions()) == before


def test_a_failed_call_keeps_the_session(http: httpx2.Client, local_emu: Emulator) -> None:
    gate = new_gate()
    gate.release.set()
    first = local_emu.wait_for_task(
        run(http, "test/gate", {"gate": gate.name, "fail": "boom"}, session="new")["id"]
    )
    assert first["status"] == 11
    again = local_emu.wait_for_task(
        run(http, "test/gate", {"gate": gate.name}, session=first["session_id"])["id"]
    )
    assert again["status"] == 10 and again["worker_id"] == first["worker_id"]


def test_a_cancelled_call_frees_the_worker_once_the_app_returned(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    gate = new_gate()
    first = run(http, "test/gate", {"gate": gate.name}, session="new")
    sid = first["session_id"]
    gate.wait_entered()
    assert http.post(f"/tasks/{first['id']}/cancel").status_code == 200
    assert local_emu.wait_for_task(first["id"])["status"] == 12
    body: dict[str, Any] = {"app": "test/gate", "input": {"gate": gate.name}, "session": sid}
    # The sync app's thread still runs (it waits on its gate): the worker is still busy.
    session_problem(http.post("/apps/run", json=body), 409, "WORKER_LEASED", sid)
    gate.release.set()
    assert gate.finished.wait(10)
    # The release follows the app's thread's return by a moment.
    local_emu.wait_until(lambda: not local_emu.session_store.busy(sid))
    response = http.post("/apps/run", json=body)
    assert response.status_code == 200, response.text
    assert local_emu.wait_for_task(response.json()["data"]["id"])["status"] == 10
