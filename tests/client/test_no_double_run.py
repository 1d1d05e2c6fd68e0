"""A run starts once: a failure after the request may have left is never retried for it.

Over real sockets, through the fault proxy: the server creates the task, then its answer is
late (the client's read timeout fires) or the connection is reset. Each client kind must raise
a typed error and leave exactly one task. A connection refused before anything was sent is
still retried. Each case runs on the sync client, the async client on asyncio with the aiohttp
transport and with httpx2's own, and on trio.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from inferencesh import APIConnectionError, APITimeoutError, async_inference, inference
from inferencesh._async import _transport
from tests.conftest import Twin
from tests.faultproxy import FaultProxy, LateHeaders, ResetAfterRequest

pytestmark = pytest.mark.anyio

KINDS = ["sync", "asyncio-aiohttp", "asyncio-httpx2", "trio"]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "asyncio-httpx2":
        monkeypatch.setattr(_transport, "aiohttp_available", lambda: False)
    return str(request.param)


@pytest.fixture
def anyio_backend(kind: str) -> str:
    return "trio" if kind == "trio" else "asyncio"


@pytest.fixture
async def client_for(server: Any, kind: str) -> Any:
    made: list[Twin] = []

    def make(proxy: FaultProxy, **options: Any) -> Twin:
        make_client = inference if kind == "sync" else async_inference
        made.append(Twin(make_client(api_key=server.api_key, base_url=proxy.url, **options)))
        return made[-1]

    yield make
    for twin in made:
        await twin.close()


def backend_of(twin: Twin) -> str | None:
    transport = getattr(twin.client, "_http").client._transport  # noqa: B009
    return transport.backend if isinstance(transport, _transport.AutoTransport) else "stdlib"


class Run:
    """One `run()` whose tasks can be told apart from every other test's."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.marker = uuid.uuid4().hex

    async def __call__(self, twin: Twin) -> Any:
        return await twin(
            "run", "infsh/text-templating", {"template": self.marker, "strings": []}, wait=False
        )

    def tasks(self) -> int:
        tasks = self.server.emulator.tasks()
        return sum(1 for t in tasks if (t.get("input") or {}).get("template") == self.marker)


def expected_backend(kind: str) -> str:
    return {"sync": "stdlib", "asyncio-aiohttp": "aiohttp"}.get(kind, "sockets")


async def test_late_response_after_the_task_was_created_is_one_task_and_a_timeout(
    server: Any, fault_proxy: FaultProxy, client_for: Any, kind: str
) -> None:
    late = fault_proxy.arm("POST", "/apps/run", LateHeaders(), times=None)
    twin = client_for(fault_proxy, timeout=0.3)
    run = Run(server)
    with pytest.raises(APITimeoutError):
        await run(twin)
    assert late.fired == 1
    assert fault_proxy.count("POST", "/apps/run") == 1
    assert run.tasks() == 1
    if kind != "sync":
        assert backend_of(twin) == expected_backend(kind)


async def test_reset_after_the_task_was_created_is_one_task_and_a_connection_error(
    server: Any, fault_proxy: FaultProxy, client_for: Any
) -> None:
    reset = fault_proxy.arm("POST", "/apps/run", ResetAfterRequest(), times=None)
    twin = client_for(fault_proxy)
    run = Run(server)
    with pytest.raises(APIConnectionError) as info:
        await run(twin)
    assert not isinstance(info.value, APITimeoutError)
    assert reset.fired == 1
    assert fault_proxy.count("POST", "/apps/run") == 1
    assert run.tasks() == 1


async def test_reset_on_a_kept_alive_connection_is_not_retried_either(
    server: Any, fault_proxy: FaultProxy, client_for: Any
) -> None:
    twin = client_for(fault_proxy)
    await twin("tasks.list", limit=1)  # the run below goes out on this pooled connection
    fault_proxy.arm("POST", "/apps/run", ResetAfterRequest(), times=None)
    run = Run(server)
    with pytest.raises(APIConnectionError):
        await run(twin)
    assert fault_proxy.count("POST", "/apps/run") == 1
    assert run.tasks() == 1


class _AcceptOnRetry(logging.Handler):
    """Opens the proxy's port when the client logs that it will retry, not before."""

    def __init__(self, proxy: FaultProxy) -> None:
        super().__init__(logging.INFO)
        self.proxy = proxy
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.retries += 1
        if self.retries == 1:
            self.proxy.accept_connections()


@pytest.fixture
def accept_on_retry(fault_proxy: FaultProxy) -> Iterator[_AcceptOnRetry]:
    handler = _AcceptOnRetry(fault_proxy)
    logger = logging.getLogger("inferencesh")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_a_refused_connection_is_retried_and_the_run_starts_once(
    server: Any, fault_proxy: FaultProxy, client_for: Any, accept_on_retry: _AcceptOnRetry
) -> None:
    fault_proxy.refuse_connections()
    twin = client_for(fault_proxy)
    run = Run(server)
    task = await run(twin)
    assert accept_on_retry.retries == 1
    assert fault_proxy.count("POST", "/apps/run") == 1
    assert run.tasks() == 1
    assert server.emulator.task(task.id)["id"] == task.id


async def test_with_a_callers_http_client_nothing_proves_a_run_was_not_sent(kind: str) -> None:
    calls: list[str] = []

    def refuse(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.url.path)
        raise httpx2.ConnectError("refused", request=request)

    transport = httpx2.MockTransport(refuse)
    options: dict[str, Any] = {"api_key": "sk-x", "base_url": "http://api.test", "max_retries": 1}
    if kind == "sync":
        with (
            httpx2.Client(transport=transport) as http,
            inference(**options, http_client=http) as client,
        ):
            with pytest.raises(APIConnectionError):
                client.run("a/b", {}, wait=False)
            with pytest.raises(APIConnectionError):
                client.tasks.get("t1")
    else:
        async with (
            httpx2.AsyncClient(transport=transport) as ahttp,
            async_inference(**options, http_client=ahttp) as aclient,
        ):
            with pytest.raises(APIConnectionError):
                await aclient.run("a/b", {}, wait=False)
            with pytest.raises(APIConnectionError):
                await aclient.tasks.get("t1")
    assert calls == ["/apps/run", "/tasks/t1", "/tasks/t1"]  # the read was retried, the run not
