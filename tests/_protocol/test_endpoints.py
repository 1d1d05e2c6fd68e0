import json

import httpx2
import pytest

from inferencesh._config import ClientOptions
from inferencesh._protocol import tasks
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
