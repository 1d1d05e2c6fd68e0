"""The wire format: envelopes in both API versions, problem+json errors, auth and CORS."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from inferencesh.local import Emulator, RunningServer, running
from tests.local._support import API_KEY, HELLO_INPUT, HELLO_RUN, assert_problem, run

# The run response fixture's keys (a TaskDTO in status `received`, plus `status_text`).
RUN_RESPONSE_KEYS = {
    "id", "short_id", "created_at", "updated_at", "user_id", "team_id", "visibility",
    "user_public_key", "engine_public_key", "is_featured", "status", "app_id",
    "app_version_id", "function", "infra", "workers", "setup", "input", "output", "rating",
    "events", "logs", "usage_events", "status_text",
}  # fmt: skip
V2 = {"x-api-version": "2"}


def test_run_answers_the_received_task_in_the_default_envelope(http: httpx2.Client) -> None:
    response = http.post("/apps/run", json=HELLO_RUN)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"success", "status", "data", "messages"}
    assert (body["success"], body["status"], body["messages"]) == (True, 200, [])
    task = body["data"]
    assert RUN_RESPONSE_KEYS <= set(task)
    assert (task["status"], task["status_text"]) == (1, "received")
    assert [e["status"] for e in task["events"]] == [1]
    assert task["input"] == HELLO_INPUT
    assert task["output"] is None
    assert task["app_version_id"] == "53bk0yzk"
    assert task["short_id"]
    assert task["created_at"].endswith("Z")


def test_version_2_gets_bare_dtos(http: httpx2.Client, local_emu: Emulator) -> None:
    response = http.post("/apps/run", json=HELLO_RUN, headers=V2)
    created = response.json()
    assert "success" not in created
    assert created["status"] == 1
    local_emu.wait_for_task(created["id"])
    task = http.get(f"/tasks/{created['id']}", headers=V2).json()
    assert (task["id"], task["status"], task["output"]) == (
        created["id"],
        10,
        {"text": "Hello World!"},
    )
    status = http.get(f"/tasks/{created['id']}/status", headers=V2).json()
    assert status == {"id": task["id"], "status": 10, "updated_at": task["updated_at"]}
    deleted = http.delete(f"/tasks/{created['id']}", headers=V2)
    assert (deleted.status_code, deleted.content) == (204, b"")


def test_default_mode_wraps_even_void_answers(http: httpx2.Client, local_emu: Emulator) -> None:
    task = run(http, "infsh/echo", {"x": 1})
    local_emu.wait_for_task(task["id"])
    deleted = http.delete(f"/tasks/{task['id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True, "status": 200, "data": None, "messages": []}


def test_errors_carry_the_legacy_error_object_only_outside_version_2(http: httpx2.Client) -> None:
    default = assert_problem(http.get("/tasks/tsk_nope"), 404, "not_found")
    assert default["error"] == {"code": "not_found", "message": default["detail"]}
    bare = assert_problem(http.get("/tasks/tsk_nope", headers=V2), 404, "not_found")
    assert set(bare) == {"type", "title", "status", "detail"}
    assert bare["detail"] == "task tsk_nope not found"


ERROR_CASES: list[tuple[str, str, Any, int, str]] = [
    ("POST", "/apps/run", b"{not json", 400, "invalid_request"),
    ("POST", "/apps/run", b"[1, 2]", 400, "invalid_request"),
    ("POST", "/apps/run", b"", 400, "invalid_request"),
    ("POST", "/apps/run", {"input": {}}, 400, "invalid_request"),
    ("POST", "/apps/run", {"app": "no-namespace", "input": {}}, 400, "invalid_request"),
    ("POST", "/apps/run", {"app": 5, "input": {}}, 400, "invalid_request"),
    ("POST", "/apps/run", {"app": "infsh/echo", "function": 3, "input": {}}, 400, "invalid_request"),
    ("POST", "/apps/run", {"app": "no-such/app", "input": {}}, 404, "not_found"),
    ("POST", "/apps/run", {"app_id": "app_nope", "input": {}}, 404, "not_found"),
    ("POST", "/apps/run", {"app": "infsh/echo", "function": "nope", "input": {}}, 404, "not_found"),
    ("POST", "/apps/run", {"app": "infsh/echo:nope", "input": {}}, 404, "not_found"),
    ("POST", "/apps/run", {"app": "infsh/text-templating", "input": {}}, 422, "validation_error"),
    ("POST", "/apps/run", {"app": "infsh/echo", "input": [1]}, 422, "validation_error"),
    ("POST", "/apps/run", {"app": "test/counter", "input": {}, "setup": {"start": "x"}}, 422,
     "validation_error"),
    ("POST", "/apps/run", {"app": "infsh/needs-secret", "input": {}}, 412, "requirements_not_met"),
    ("POST", "/apps/run", {"app": "infsh/echo", "input": {}, "session_timeout": 30}, 400,
     "validation_error"),
    ("POST", "/apps/run", {"app": "infsh/echo", "input": {}, "session": "new",
                           "session_timeout": 3601}, 400, "validation_error"),
    ("POST", "/apps/run", {"app": "infsh/echo", "input": {}, "session": 5}, 400,
     "invalid_request"),
    ("POST", "/apps/run", {"app": "infsh/echo", "input": {}, "session": "sess_missing"}, 404,
     "SESSION_NOT_FOUND"),
    ("GET", "/tasks/tsk_missing", None, 404, "not_found"),
    ("GET", "/tasks/tsk_missing/status", None, 404, "not_found"),
    ("GET", "/tasks/tsk_missing/logs", None, 404, "not_found"),
    ("GET", "/tasks/tsk_missing/timings", None, 404, "not_found"),
    ("GET", "/tasks/tsk_missing/stream", None, 404, "not_found"),
    ("POST", "/tasks/tsk_missing/cancel", None, 404, "not_found"),
    ("DELETE", "/tasks/tsk_missing", None, 404, "not_found"),
    ("POST", "/tasks/list", {"cursor": "not a cursor"}, 400, "invalid_request"),
    ("POST", "/tasks/list", {"limit": "ten"}, 400, "invalid_request"),
    ("POST", "/tasks/list", {"filters": [{"field": "status", "operator": "near"}]}, 400,
     "invalid_request"),
    ("POST", "/tasks/list", {"sort": [{"field": "status", "dir": "up"}]}, 400, "invalid_request"),
    ("GET", "/no/such/endpoint", None, 404, "not_found"),
    ("PUT", "/apps/run", None, 405, "method_not_allowed"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), ERROR_CASES)
def test_each_bad_request_gets_problem_json_and_changes_nothing(
    http: httpx2.Client,
    local_emu: Emulator,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
) -> None:
    before = local_emu.tasks()
    sessions = [s["id"] for s in local_emu.sessions()]
    files = [f["id"] for f in local_emu.files(include_pending=True)]
    if isinstance(body, bytes):
        response = http.request(method, path, content=body)
    else:
        response = http.request(method, path, json=body)
    assert_problem(response, status, code)
    assert [t["id"] for t in local_emu.tasks()] == [t["id"] for t in before]
    assert [s["id"] for s in local_emu.sessions()] == sessions
    assert [f["id"] for f in local_emu.files(include_pending=True)] == files


def test_invalid_input_names_each_bad_field(http: httpx2.Client) -> None:
    body: dict[str, Any] = {"app": "infsh/text-templating", "input": {"strings": [1]}}
    problem = assert_problem(http.post("/apps/run", json=body), 422, "validation_error")
    names = [p["name"] for p in problem["invalid_params"]]
    assert names == ["input.template", "input.strings.0"]
    assert "input.template" in problem["detail"]


def test_requirements_error_matches_the_protocol_fixture(http: httpx2.Client) -> None:
    body: dict[str, Any] = {"app": "infsh/needs-integration", "input": {}}
    problem = assert_problem(http.post("/apps/run", json=body), 412, "requirements_not_met")
    assert problem["title"] == "Requirements not met"
    assert problem["detail"] == "Missing secret: OPENAI_API_KEY"
    assert problem["errors"] == [
        {
            "type": "secret",
            "key": "OPENAI_API_KEY",
            "message": "Missing secret: OPENAI_API_KEY",
            "action": {"type": "add_secret"},
        },
        {
            "type": "integration",
            "key": "google",
            "message": "Connect Google to continue",
            "action": {
                "type": "connect",
                "provider": "google",
                "provider_name": "Google",
                "scopes": ["https://www.googleapis.com/auth/gmail.send"],
                "scope_descriptions": {
                    "https://www.googleapis.com/auth/gmail.send": "Send email on your behalf"
                },
            },
        },
    ]


def test_requirements_are_met_once_the_emulator_has_them(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    local_emu.secrets["OPENAI_API_KEY"] = "sk-openai-abc"
    body: dict[str, Any] = {"app": "infsh/needs-integration", "input": {}}
    problem = assert_problem(http.post("/apps/run", json=body), 412, "requirements_not_met")
    assert [e["key"] for e in problem["errors"]] == ["google"]
    local_emu.integrations.add("google")
    task = local_emu.wait_for_task(run(http, "infsh/needs-integration", {})["id"])
    assert task["status"] == 10
    done = local_emu.wait_for_task(run(http, "infsh/needs-secret", {})["id"])
    assert done["output"] == {"text": "OPENAI_API_KEY is set (13 characters)"}
    assert "sk-openai-abc" not in str(done)


# -- auth -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer sk-wrong", "Basic c2stbG9jYWw6", f"Token {API_KEY}"],
)
def test_a_missing_or_wrong_key_is_401(
    local_server: RunningServer, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    response = httpx2.post(local_server.url("/apps/run"), json=HELLO_RUN, headers=headers)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "sk-wrong" not in response.text


def test_the_scheme_is_case_insensitive(local_server: RunningServer) -> None:
    response = httpx2.get(
        local_server.url("/tasks/tsk_x"), headers={"authorization": f"bearer {API_KEY}"}
    )
    assert response.status_code == 404


def test_a_new_key_takes_effect_at_once(http: httpx2.Client, local_emu: Emulator) -> None:
    local_emu.api_key = "sk-rotated"
    assert_problem(http.get("/tasks/tsk_x"), 401, "unauthorized")
    assert (
        http.get("/tasks/tsk_x", headers={"authorization": "Bearer sk-rotated"}).status_code == 404
    )


def test_without_a_key_every_request_is_let_in() -> None:
    with running(Emulator(api_key=None, builtins=True)) as server:
        response = httpx2.post(server.url("/apps/run"), json=HELLO_RUN)
        assert response.status_code == 200
        assert server.emulator.wait_for_task(response.json()["data"]["id"])["status"] == 10


# -- CORS -------------------------------------------------------------------------------


def test_preflight_echoes_the_origin_with_credentials(local_server: RunningServer) -> None:
    origin = "http://localhost:5173"
    response = httpx2.options(
        local_server.url("/apps/run"),
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type, x-custom",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "x-api-version", "x-client-source", "x-custom"):
        assert header in allowed
    assert "POST" in response.headers["access-control-allow-methods"]


def test_answers_and_errors_carry_cors_headers(http: httpx2.Client) -> None:
    origin = "https://app.example"
    ok = http.post("/apps/run", json=HELLO_RUN, headers={"origin": origin})
    denied = http.get("/tasks/x", headers={"origin": origin, "authorization": "Bearer no"})
    for response in (ok, denied):
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-credentials"] == "true"
        assert "retry-after" in response.headers["access-control-expose-headers"].lower()
    assert denied.status_code == 401
    plain = http.get("/tasks/x")
    assert "access-control-allow-origin" not in plain.headers
