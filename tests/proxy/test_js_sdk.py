"""The official JS SDK with `proxyUrl`, under node, through our proxy to the emulator.

Through both examples (FastAPI: ASGI under uvicorn; Flask: WSGI under werkzeug), which run
as a user runs them, with `--upstream` pointing at the emulator: the SDK keeps its default
base URL and the server decides where calls go. Then through the bare ASGI (uvicorn) and WSGI
(gunicorn) proxies with the emulator on their allow-list, the SDK's `baseUrl` naming it.
"""

from __future__ import annotations

from typing import Any

import pytest

from inferencesh.local import RunningServer
from tests.conformance._clients import Installed
from tests.proxy import _js
from tests.proxy._servers import Canary

pytestmark = pytest.mark.conformance
COMPLETED, RUNNING = 10, 7


@pytest.fixture(params=["fastapi", "flask"])
def example(request: pytest.FixtureRequest, example_urls: dict[str, str]) -> str:
    return example_urls[str(request.param)]


def flow(installed: Installed, proxy_url: str, base_url: str, name: str) -> dict[str, Any]:
    return _js.node("flows.mjs", installed, proxy_url, base_url, name)


def check_run_stream(result: dict[str, Any]) -> None:
    assert result["status"] == COMPLETED
    assert result["output"] == {"steps": 3}
    statuses = [u["status"] for u in result["updates"]]
    assert RUNNING in statuses and statuses[-1] == COMPLETED
    assert statuses == sorted(statuses)


def check_upload(result: dict[str, Any]) -> None:
    assert result["file"]["size"] == 70 and result["file"]["filename"] == "dot.png"
    assert result["output"]["file"] == {"size": 70, "sha256": result["expected"], "name": "dot.png"}


def check_agent(result: dict[str, Any]) -> None:
    assert result["calls"] == [{"name": "get_weather", "args": {"city": "Paris"}}]
    assert result["status"] == "idle"
    assert result["roles"][:4] == ["user", "assistant", "tool", "assistant"]
    assert "72" in result["reply"] and "sunny" in result["reply"]


@pytest.mark.parametrize(
    "name", ["run-stream", "deltas", "upload", "manage", "legacy-sse", "agent-client-tool"]
)
def test_examples_with_the_official_sdk(name: str, example: str, proxy_js: Installed) -> None:
    result = flow(proxy_js, example + "/api/inference/proxy", "default", name)
    if name == "run-stream":
        check_run_stream(result)
    elif name == "deltas":
        assert result["status"] == COMPLETED and result["deltas"] > 1
    elif name == "upload":
        check_upload(result)
    elif name == "agent-client-tool":
        check_agent(result)
    elif name == "manage":
        assert result["listed"] and result["got"]
        assert result["afterDelete"]["rejected"]
        assert result["afterDelete"]["error"]["statusCode"] == 404
    else:
        assert result["statuses"][-1] == COMPLETED


def test_example_pages_are_served(example: str) -> None:
    import httpx2

    with httpx2.Client(timeout=10, trust_env=False) as http:
        page = http.get(example + "/")
        sdk = http.get(example + "/sdk.js")
    assert page.status_code == 200 and 'proxyUrl: "/api/inference/proxy"' in page.text
    assert sdk.status_code == 200 and sdk.headers["content-type"].startswith("text/javascript")


def test_bare_proxies_with_the_official_sdk(
    served_proxy: str, emulator_server: RunningServer, proxy_js: Installed
) -> None:
    check_run_stream(flow(proxy_js, served_proxy, emulator_server.base_url, "run-stream"))
    check_upload(flow(proxy_js, served_proxy, emulator_server.base_url, "upload"))
    check_agent(flow(proxy_js, served_proxy, emulator_server.base_url, "agent-client-tool"))


def test_a_refusal_as_the_sdk_reports_it(
    served_proxy: str, canary: Canary, proxy_js: Installed
) -> None:
    hits = canary.hits
    result = flow(proxy_js, served_proxy, f"http://127.0.0.1:{canary.port}", "refused")
    assert result["rejected"]
    error = result["error"]
    assert error["isInferenceError"] and error["statusCode"] == 412
    assert "Target must be an inference.sh domain" in error["message"]
    assert canary.hits == hits
