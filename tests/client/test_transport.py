"""Transport choice, error translation and secrecy of the key."""

from __future__ import annotations

import logging
import os
from typing import Any

import httpx2
import pytest

from inferencesh import APIConnectionError, APITimeoutError, async_inference, inference
from inferencesh._async._transport import AutoTransport
from tests.faultproxy import CutStream, FaultProxy, ResetMidBody

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_async_client_picks_aiohttp_on_asyncio_and_its_own_pool_on_trio(
    anyio_backend: str, server: Any
) -> None:
    transport = AutoTransport()
    http = httpx2.AsyncClient(transport=transport)
    async with async_inference(
        server.api_key, base_url=server.base_url, http_client=http
    ) as client:
        page = await client.tasks.list(limit=1)
        assert page.items is not None
    await http.aclose()
    assert transport.backend == ("aiohttp" if anyio_backend == "asyncio" else "sockets")


def test_connection_refused_is_a_connection_error_from_the_cause() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    with inference(
        "sk-x",
        base_url="http://api.test",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(refuse)),
    ) as client:
        with pytest.raises(APIConnectionError) as info:
            client.tasks.get("t1")
    assert isinstance(info.value.__cause__, httpx2.ConnectError)
    assert "http://api.test/tasks/t1" in str(info.value)


def test_timeouts_are_timeout_errors() -> None:
    def slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=request)

    with inference(
        "sk-x",
        base_url="http://api.test",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(slow)),
    ) as client:
        with pytest.raises(APITimeoutError):
            client.tasks.get("t1")


def test_connection_errors_are_retried_for_reads() -> None:
    calls: list[int] = []

    def flaky(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        if len(calls) < 2:
            raise httpx2.ConnectError("refused", request=request)
        return httpx2.Response(200, json={"data": {"id": "t1", "status": 10}, "messages": []})

    with inference(
        "sk-x",
        base_url="http://api.test",
        http_client=httpx2.Client(transport=httpx2.MockTransport(flaky)),
    ) as client:
        assert client.tasks.get("t1").id == "t1"
    assert len(calls) == 2


def test_the_key_never_reaches_logs_reprs_or_errors(
    caplog: pytest.LogCaptureFixture, server: Any
) -> None:
    key = server.api_key
    with caplog.at_level(logging.DEBUG):
        with inference(key, base_url=server.base_url) as client:
            assert key not in repr(client)
            task = client.run("infsh/echo", {"text": "x"})
            with pytest.raises(Exception) as info:
                client.tasks.get("missing-task")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert key not in text and key not in str(info.value) and key not in repr(info.value)
    assert task.id


@pytest.mark.parametrize("fault", [ResetMidBody(), CutStream(after_lines=0)], ids=["reset", "eof"])
async def test_a_body_broken_off_is_retried_for_reads_and_typed_when_it_persists(
    make_twin: Any, server: Any, fault_proxy: FaultProxy, fault: Any
) -> None:
    twin = make_twin(base_url=fault_proxy.url, max_retries=1)
    task = await twin("run", "infsh/text-templating", {"template": "x", "strings": []}, wait=False)
    fault_proxy.arm("GET", f"/tasks/{task.id}", fault)
    assert (await twin("tasks.get", task.id)).id == task.id
    assert fault_proxy.count("GET", f"/tasks/{task.id}") == 2
    fault_proxy.arm("GET", f"/tasks/{task.id}", fault, times=None)
    with pytest.raises(APIConnectionError):
        await twin("tasks.get", task.id)
    assert fault_proxy.count("GET", f"/tasks/{task.id}") == 4


async def test_with_proxies_in_the_environment_requests_go_through_httpx2s_client(
    make_twin: Any, server: Any, fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HTTP_PROXY", fault_proxy.url)  # an HTTP proxy gets absolute-form targets
    twin = make_twin()  # the emulator's own URL: only the proxy setting can route it elsewhere
    page = await twin("tasks.list", limit=1)
    assert page.items is not None
    assert fault_proxy.count("POST", "/tasks/list") == 1


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_a_body_of_megabytes_goes_through_whole(anyio_backend: str, server: Any) -> None:
    # (aiohttp warns when handed more than 1 MiB of bytes at once: under this suite's
    # warnings-as-errors that warning fails the test, so it checks the chunked hand-over too.)
    text = "x" * (3 * 1024 * 1024)
    async with server.async_client() as client:
        task = await client.run("infsh/echo", {"text": text})
    assert task.output == {"text": text}
