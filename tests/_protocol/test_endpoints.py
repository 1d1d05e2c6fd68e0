import json

import httpx2
import pytest

from inferencesh._config import ClientOptions
from inferencesh._protocol import sessions, tasks
from inferencesh._protocol.endpoints import build
from inferencesh._types import NOT_GIVEN
from inferencesh.errors import ConfigurationError
from inferencesh.models import TaskStatus

OPTS = ClientOptions(api_key="sk-secret", base_url="https://api.inference.sh")


def test_run_body_from_keywords_drops_nones() -> None:
    call = tasks.run(OPTS, "infsh/echo", {"text": "hi"}, {"session": "new", "setup": None})
    assert json.loads(call.request.content) == {
        "app": "infsh/echo",
        "session": "new",
        "input": {"text": "hi"},
    }
    assert call.request.method == "POST" and call.request.url.path == "/apps/run"
    assert call.request.headers["authorization"] == "Bearer sk-secret"
    assert call.request.headers["content-type"] == "application/json"
    assert call.idempotent is False


def test_run_dict_form_is_sent_verbatim_with_keywords_on_top() -> None:
    call = tasks.run(
        OPTS, {"app": "a/b", "input": {"x": 1}, "workers": ["w1"]}, NOT_GIVEN, {"infra": "cloud"}
    )
    assert json.loads(call.request.content) == {
        "app": "a/b",
        "input": {"x": 1},
        "workers": ["w1"],
        "infra": "cloud",
    }


def test_run_needs_an_app_and_an_input() -> None:
    with pytest.raises(TypeError, match="needs an app"):
        tasks.run(OPTS, None, {}, {})
    with pytest.raises(TypeError, match="needs input"):
        tasks.run(OPTS, "a/b", NOT_GIVEN, {})


def test_ids_cannot_escape_the_path() -> None:
    call = tasks.get(OPTS, "../apps/run?x=1")
    assert call.request.url.raw_path == b"/tasks/..%2Fapps%2Frun%3Fx%3D1"
    with pytest.raises(ValueError, match="task_id"):
        tasks.get(OPTS, "")


def test_list_request_is_a_cursor_list() -> None:
    call = tasks.list_tasks(OPTS, limit=5, cursor="abc", status=TaskStatus.COMPLETED, app_id=None)
    assert json.loads(call.request.content) == {
        "limit": 5,
        "cursor": "abc",
        "filters": [{"field": "status", "operator": "eq", "value": 10}],
        "sort": [{"field": "created_at", "dir": "desc"}],
    }
    assert call.idempotent is True
    with pytest.raises(ValueError, match="limit"):
        tasks.list_tasks(OPTS, limit=0, cursor=None, status=None, app_id=None)


def test_proxy_mode_targets_the_proxy_and_sends_no_key() -> None:
    opts = ClientOptions(proxy_url="https://myapp.test/api/inference/proxy")
    call = build(opts, "GET", "/tasks/t1")
    assert str(call.request.url) == "https://myapp.test/api/inference/proxy"
    assert call.request.headers["x-inf-target-url"] == "https://api.inference.sh/tasks/t1"
    assert "authorization" not in call.request.headers
    stream = build(opts, "GET", "/tasks/t1/stream", stream=True)
    assert stream.request.url.params["__inf_target"] == "https://api.inference.sh/tasks/t1/stream"
    assert stream.request.headers["accept"] == "application/x-ndjson"


def test_stream_requests_use_the_idle_timeout_for_reads() -> None:
    call = build(OPTS, "GET", "/tasks/t1/stream", stream=True)
    assert call.request.extensions["timeout"]["read"] == OPTS.stream_idle_timeout
    assert call.request.headers["accept-encoding"] == "identity"


def test_options_resolve_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERENCE_API_KEY", "sk-env")
    monkeypatch.setenv("INFERENCE_BASE_URL", "http://127.0.0.1:9/")
    opts = ClientOptions.resolve(
        None,
        base_url=None,
        proxy_url=None,
        timeout=NOT_GIVEN,
        max_retries=2,
        stream_mode="stream",
        poll_interval=1.0,
        headers=None,
    )
    assert opts.api_key == "sk-env" and opts.base_url == "http://127.0.0.1:9"
    assert "sk-env" not in repr(opts)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"api_key": None}, "no API key"),
        ({"base_url": "api.inference.sh"}, "base_url must start"),
        ({"max_retries": -1}, "max_retries"),
        ({"stream_mode": "sse"}, "stream_mode"),
        ({"poll_interval": 0}, "poll_interval"),
    ],
)
def test_bad_options_are_configuration_errors(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, object], match: str
) -> None:
    monkeypatch.delenv("INFERENCE_API_KEY", raising=False)
    args: dict[str, object] = {
        "api_key": "k",
        "base_url": None,
        "proxy_url": None,
        "timeout": NOT_GIVEN,
        "max_retries": 2,
        "stream_mode": "stream",
        "poll_interval": 1.0,
        "headers": None,
    }
    args.update(kwargs)
    with pytest.raises(ConfigurationError, match=match):
        ClientOptions.resolve(**args)  # type: ignore[arg-type]


def test_per_call_overrides() -> None:
    opts = OPTS.with_call(timeout=3.0, max_retries=0)
    assert opts.timeout == httpx2.Timeout(3.0) and opts.max_retries == 0
    assert OPTS.with_call() is OPTS


@pytest.mark.parametrize(
    ("status", "app_id", "sort", "filters", "order"),
    [
        (
            [TaskStatus.RUNNING, TaskStatus.QUEUED],
            None,
            "created_at",
            [{"field": "status", "operator": "in", "value": [7, 2]}],
            {"field": "created_at", "dir": "asc"},
        ),
        (
            (),
            "app_1",
            "+updated_at",
            [
                {"field": "status", "operator": "in", "value": []},
                {"field": "app_id", "operator": "eq", "value": "app_1"},
            ],
            {"field": "updated_at", "dir": "asc"},
        ),
        (
            None,
            "app_2",
            "-updated_at",
            [{"field": "app_id", "operator": "eq", "value": "app_2"}],
            {"field": "updated_at", "dir": "desc"},
        ),
    ],
)
def test_list_filters_and_sort(
    status: object, app_id: str | None, sort: str, filters: object, order: object
) -> None:
    call = tasks.list_tasks(OPTS, limit=3, cursor=None, status=status, app_id=app_id, sort=sort)  # type: ignore[arg-type]
    assert json.loads(call.request.content) == {"limit": 3, "filters": filters, "sort": [order]}


def test_list_without_filters_sends_none() -> None:
    call = tasks.list_tasks(OPTS, limit=1, cursor="", status=None, app_id=None)
    assert json.loads(call.request.content) == {
        "limit": 1,
        "sort": [{"field": "created_at", "dir": "desc"}],
    }


def test_the_other_task_requests() -> None:
    status = tasks.status(OPTS, "t/1")
    assert (status.request.method, status.request.url.raw_path) == ("GET", b"/tasks/t%2F1/status")
    assert status.idempotent is True
    logs = tasks.logs(OPTS, "t1")
    assert (logs.request.method, logs.request.url.path) == ("GET", "/tasks/t1/logs")
    cancel = tasks.cancel(OPTS, "t1")
    assert (cancel.request.method, cancel.request.url.path) == ("POST", "/tasks/t1/cancel")
    assert cancel.idempotent is False
    keep = tasks.delete(OPTS, "t1", files=False)
    assert keep.request.method == "DELETE" and keep.request.url.query == b""
    assert keep.idempotent is True
    purge = tasks.delete(OPTS, "t1", files=True)
    assert purge.request.url.path == "/tasks/t1" and purge.request.url.query == b"files=true"


def test_params_reach_the_proxy_target_too() -> None:
    opts = ClientOptions(proxy_url="https://myapp.test/proxy")
    call = tasks.delete(opts, "t1", files=True)
    assert (
        call.request.headers["x-inf-target-url"] == "https://api.inference.sh/tasks/t1?files=true"
    )


@pytest.mark.parametrize("session_id", ["", "new"])
def test_session_ids_that_are_not_ids_are_refused(session_id: str) -> None:
    with pytest.raises(ValueError, match="not a session id"):
        sessions.get(OPTS, session_id)
    with pytest.raises(ValueError, match="not a session id"):
        sessions.keepalive(OPTS, session_id)
    with pytest.raises(ValueError, match="not a session id"):
        sessions.end(OPTS, session_id)


def test_session_requests() -> None:
    get = sessions.get(OPTS, "../tasks")
    assert (get.request.method, get.request.url.raw_path) == ("GET", b"/sessions/..%2Ftasks")
    listing = sessions.list_sessions(OPTS)
    assert (listing.request.method, listing.request.url.path) == ("GET", "/sessions")
    keep = sessions.keepalive(OPTS, "sess_1")
    assert (keep.request.method, keep.request.url.path) == ("POST", "/sessions/sess_1/keepalive")
    assert keep.idempotent is True  # restarting a timer twice is harmless
    end = sessions.end(OPTS, "sess_1")
    assert (end.request.method, end.request.url.path) == ("DELETE", "/sessions/sess_1")
    assert end.idempotent is True
