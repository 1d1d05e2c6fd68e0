"""The async client's socket transport for task streams, over real sockets, asyncio and trio."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest

from inferencesh import TaskStatus, async_inference
from inferencesh._async._streams import SocketStreamTransport
from inferencesh.local._server import RunningServer
from tests.conftest import Gates
from tests.faultproxy import (
    HTML,
    CutStream,
    FaultProxy,
    ReplaceBody,
    ResetAfterRequest,
    Stall,
)

pytestmark = [pytest.mark.anyio, pytest.mark.server]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[httpx2.Request]:
    """The requests `SocketStreamTransport` took during the test."""
    taken: list[httpx2.Request] = []
    original = SocketStreamTransport.handle_async_request

    async def spy(self: SocketStreamTransport, request: httpx2.Request) -> httpx2.Response:
        taken.append(request)
        return await original(self, request)

    monkeypatch.setattr(SocketStreamTransport, "handle_async_request", spy)
    return taken


@pytest.fixture
def blocked(server: RunningServer, gates: Gates) -> Iterator[str]:
    """A task whose app has started and waits on a gate (opened after the test)."""
    gate = gates.new()
    with server.client() as client:
        task_id = client.run("test/gate", {"gate": gate}, wait=False).id
    assert gates.wait_started(gate)
    yield task_id
    gates.open(gate)


def stream_request(
    base_url: str, api_key: str, task_id: str, *, read: float = 10.0
) -> httpx2.Request:
    return httpx2.Request(
        "GET",
        f"{base_url}/tasks/{task_id}/stream",
        headers={"accept": "application/x-ndjson", "authorization": f"Bearer {api_key}"},
        extensions={"timeout": {"connect": 5.0, "read": read, "write": 5.0, "pool": 5.0}},
    )


@asynccontextmanager
async def streamed(request: httpx2.Request) -> Any:
    async with httpx2.AsyncClient(transport=SocketStreamTransport()) as http:
        response = await http.send(request, stream=True)
        try:
            yield response
        finally:
            await response.aclose()


async def test_task_streams_and_only_they_go_through_the_transport(
    server: RunningServer, opened: list[httpx2.Request]
) -> None:
    async with server.async_client() as client:
        updates = [u async for u in await client.run("infsh/slow", {"steps": 3}, stream=True)]
        await client.tasks.get(updates[-1].id)
    assert updates[-1].status == TaskStatus.COMPLETED
    assert [r.url.path.rsplit("/", 1)[-1] for r in opened] == ["stream"]


async def test_a_line_reaches_the_caller_while_the_server_sends_nothing_more(
    server: RunningServer, blocked: str
) -> None:
    # The app is blocked: after its first line the stream only carries heartbeats. A transport
    # that held a line back until more data came would not deliver it in time.
    async with server.async_client() as client, client.tasks.stream(blocked) as updates:
        with anyio.fail_after(10):
            first = await anext(updates)
    assert first.status == TaskStatus.RUNNING


async def test_silence_longer_than_the_read_timeout_is_a_read_timeout(
    server: RunningServer, blocked: str, fault_proxy: FaultProxy
) -> None:
    fault_proxy.arm("GET", f"/tasks/{blocked}/stream", Stall(after_lines=1))
    request = stream_request(fault_proxy.url, server.api_key, blocked, read=0.2)
    async with streamed(request) as response:
        chunks = response.aiter_raw()
        assert b'"status"' in await anext(chunks)
        with pytest.raises(httpx2.ReadTimeout):
            await anext(chunks)


async def test_a_stream_cut_mid_body_is_a_protocol_error(
    server: RunningServer, blocked: str, fault_proxy: FaultProxy
) -> None:
    fault_proxy.arm("GET", f"/tasks/{blocked}/stream", CutStream(after_lines=1))
    async with streamed(stream_request(fault_proxy.url, server.api_key, blocked)) as response:
        with pytest.raises(httpx2.RemoteProtocolError):
            async for _ in response.aiter_raw():
                pass


async def test_a_reset_before_the_head_is_an_error_after_sending(
    server: RunningServer, blocked: str, fault_proxy: FaultProxy
) -> None:
    fault_proxy.arm("GET", f"/tasks/{blocked}/stream", ResetAfterRequest())
    request = stream_request(fault_proxy.url, server.api_key, blocked)
    with pytest.raises((httpx2.ReadError, httpx2.RemoteProtocolError)):
        async with streamed(request):
            pass
    assert request.extensions["inferencesh.sent"] is True


async def test_a_refused_connection_is_a_connect_error_before_sending(
    server: RunningServer, fault_proxy: FaultProxy
) -> None:
    fault_proxy.refuse_connections()
    request = stream_request(fault_proxy.url, server.api_key, "tsk_any")
    with pytest.raises(httpx2.ConnectError):
        async with streamed(request):
            pass
    assert request.extensions["inferencesh.sent"] is False


@pytest.mark.parametrize("status", [200, 502])
async def test_a_length_delimited_answer_is_read_whole(
    server: RunningServer, fault_proxy: FaultProxy, status: int
) -> None:
    fault_proxy.arm("GET", "/tasks/", ReplaceBody(HTML, status=status))
    async with streamed(stream_request(fault_proxy.url, server.api_key, "tsk_any")) as response:
        assert response.status_code == status
        assert response.headers["content-type"] == "text/html"
        assert b"".join([c async for c in response.aiter_raw()]) == HTML


async def test_other_schemes_are_unsupported() -> None:
    request = stream_request("ftp://api.test", "sk-x", "t1")
    with pytest.raises(httpx2.UnsupportedProtocol):
        await SocketStreamTransport().handle_async_request(request)


async def test_a_callers_own_client_carries_streams_too(
    server: RunningServer, opened: list[httpx2.Request]
) -> None:
    async with (
        httpx2.AsyncClient() as own,
        async_inference(server.api_key, base_url=server.base_url, http_client=own) as client,
    ):
        updates = [u async for u in await client.run("infsh/slow", {"steps": 2}, stream=True)]
    assert updates[-1].status == TaskStatus.COMPLETED
    assert opened == []
