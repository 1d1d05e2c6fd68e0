"""Fixtures of the proxy's tests: a canary, a recording upstream, and the proxy served both
ways (ASGI under uvicorn, WSGI under wsgiref) with the same configuration."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from pydantic import BaseModel

from inferencesh.local import AppContext, Emulator, RunningServer, running
from inferencesh.proxy import AsgiProxy, asgi_proxy, wsgi_proxy
from inferencesh.proxy._core import ProxyCore
from tests.conformance._clients import Installed
from tests.proxy import _js
from tests.proxy._servers import REPO, Canary, Upstream, serve_asgi, serve_gunicorn, serve_wsgi

SERVER_KEY = "sk-proxy-server-key-0123456789"
BROWSER_KEY = "sk-browser-must-not-be-used"
MAX_BODY = 1024


@pytest.fixture(scope="session")
def canary() -> Iterator[Canary]:
    canary = Canary()
    yield canary
    canary.close()


@pytest.fixture(scope="session")
def upstream_app() -> Upstream:
    return Upstream()


@pytest.fixture(scope="session")
def upstream_url(upstream_app: Upstream) -> Iterator[str]:
    with serve_asgi(upstream_app) as url:
        yield url


@pytest.fixture
def upstream(upstream_app: Upstream, upstream_url: str) -> Iterator[Upstream]:
    upstream_app.clear()
    yield upstream_app


def options(upstream_url: str) -> dict[str, Any]:
    """The configuration every standard proxy of these tests has."""
    return {
        "api_key": SERVER_KEY,
        "allowed_hosts": (upstream_url.removeprefix("http://"),),
        "max_body_size": MAX_BODY,
    }


@pytest.fixture(scope="session")
def asgi_proxy_url(upstream_url: str) -> Iterator[str]:
    with serve_asgi(asgi_proxy(**options(upstream_url))) as url:
        yield url + "/api/inference/proxy"


@pytest.fixture(scope="session")
def wsgi_proxy_url(upstream_url: str) -> Iterator[str]:
    app = wsgi_proxy(**options(upstream_url))
    with serve_wsgi(app) as url:
        yield url + "/api/inference/proxy"
    app.close()


@pytest.fixture(scope="session")
def asgi_httpx2_proxy_url(upstream_url: str) -> Iterator[str]:
    """The ASGI proxy on httpx2's client, as it runs on trio or without aiohttp."""
    proxy = AsgiProxy(ProxyCore(framework="asgi", **options(upstream_url)), upstream="httpx2")
    with serve_asgi(proxy) as url:
        yield url + "/api/inference/proxy"


@pytest.fixture(params=["asgi", "asgi_httpx2", "wsgi"])
def proxy_url(request: pytest.FixtureRequest) -> str:
    """The standard proxy, served as ASGI (uvicorn; aiohttp and httpx2 upstream clients) and
    as WSGI (wsgiref)."""
    return str(request.getfixturevalue(f"{request.param}_proxy_url"))


@pytest.fixture(params=["asgi", "wsgi"])
def front_proxy_url(request: pytest.FixtureRequest) -> str:
    """ASGI and WSGI, for refusals made before any upstream client is involved."""
    return str(request.getfixturevalue(f"{request.param}_proxy_url"))


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The ASGI app runs on either event loop (anyio): called directly, test it on both."""
    return str(request.param)


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=10, trust_env=False) as client:
        yield client


# ------------------------------------------------------------------ the emulator behind it

EMULATOR_KEY = "sk-proxy-emulator-0123456789"


class Gates:
    """Named events the `proxy-test/steps` app blocks on until the test opens them."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}

    def new(self) -> str:
        name = uuid.uuid4().hex
        self._events[name] = threading.Event()
        return name

    def open(self, name: str) -> None:
        self._events[name].set()

    def block(self, name: str, ctx: AppContext) -> None:
        while not self._events[name].wait(0.01):
            ctx.raise_if_cancelled()


class StepsInput(BaseModel):
    gate: str
    steps: int = 3


GATES = Gates()


def make_proxy_emulator() -> Emulator:
    """The emulator the proxy's end-to-end tests talk to (built-in apps, plus `steps`)."""
    emulator = Emulator(api_key=EMULATOR_KEY, heartbeat_interval=0.05, snapshot_interval=None)

    @emulator.app("proxy-test/steps", input=StepsInput)
    def steps(ctx: AppContext, input: StepsInput) -> dict[str, Any]:  # pyright: ignore[reportUnusedFunction]
        for step in range(1, input.steps + 1):
            ctx.progress(step / (input.steps + 1), f"step {step}")
        GATES.block(input.gate, ctx)  # the task cannot end before the test opens the gate
        return {"steps": input.steps}

    return emulator


@pytest.fixture(scope="session")
def gates() -> Gates:
    return GATES


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[RunningServer]:
    emulator = make_proxy_emulator()
    with running(emulator) as server:
        yield server
    emulator.close()


def hosts(*urls: str) -> tuple[str, ...]:
    return tuple(url.removeprefix("http://") for url in urls)


@pytest.fixture(scope="session")
def uvicorn_proxy(emulator_server: RunningServer, upstream_url: str) -> Iterator[str]:
    """The ASGI proxy in front of the emulator (and the recording upstream), under uvicorn."""
    allowed = hosts(emulator_server.base_url, upstream_url)
    with serve_asgi(asgi_proxy(api_key=emulator_server.api_key, allowed_hosts=allowed)) as url:
        yield url + "/api/inference/proxy"


@pytest.fixture(scope="session")
def gunicorn_proxy(emulator_server: RunningServer, upstream_url: str) -> Iterator[str]:
    """The same as WSGI under gunicorn (threaded workers), in a subprocess."""
    env = {
        "PROXY_TEST_KEY": emulator_server.api_key,
        "PROXY_TEST_ALLOWED": ",".join(hosts(emulator_server.base_url, upstream_url)),
    }
    with serve_gunicorn("tests.proxy.wsgi_app:app", env) as url:
        yield url + "/api/inference/proxy"


@pytest.fixture(scope="session")
def uvicorn_httpx2_proxy(emulator_server: RunningServer, upstream_url: str) -> Iterator[str]:
    """The ASGI proxy on httpx2's upstream client, under uvicorn."""
    allowed = hosts(emulator_server.base_url, upstream_url)
    core = ProxyCore(framework="asgi", api_key=emulator_server.api_key, allowed_hosts=allowed)
    with serve_asgi(AsgiProxy(core, upstream="httpx2")) as url:
        yield url + "/api/inference/proxy"


@pytest.fixture(params=["uvicorn", "uvicorn_httpx2", "gunicorn"])
def served_proxy(request: pytest.FixtureRequest) -> str:
    """The proxy in front of the emulator under a real ASGI server (with either upstream
    client) and a real WSGI server."""
    return str(request.getfixturevalue(f"{request.param}_proxy"))


# ------------------------------------------------------------------ the JS SDK and the examples


@pytest.fixture(scope="session")
def proxy_js() -> Installed:
    return _js.install()


@pytest.fixture(scope="session")
def example_urls(emulator_server: RunningServer, proxy_js: Installed) -> Iterator[dict[str, str]]:
    """Both examples, started as a user starts them, in front of the emulator."""
    procs: list[subprocess.Popen[str]] = []
    urls: dict[str, str] = {}
    try:
        for name in ("fastapi", "flask"):
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(REPO / "examples" / f"proxy_{name}.py"),
                    "--port",
                    "0",
                    "--upstream",
                    emulator_server.base_url,
                    "--sdk-bundle",
                    str(proxy_js.path / "sdk.browser.js"),
                ],
                env=_js.clean_env(INFERENCE_API_KEY=emulator_server.api_key),
                stdout=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            procs.append(proc)
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            assert match, f"proxy_{name}.py printed {line!r}"
            urls[name] = match[0]
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
            if proc.stdout:
                proc.stdout.close()
