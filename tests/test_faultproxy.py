"""The fault proxy itself: each fault does what it says, against the emulator over sockets."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.faultproxy import (
    HTML,
    TRUNCATED,
    CutStream,
    FaultProxy,
    LateHeaders,
    ReplaceBody,
    ResetAfterRequest,
    ResetMidBody,
    Stall,
)


@pytest.fixture
def proxy(fault_proxy: FaultProxy) -> FaultProxy:
    return fault_proxy


@pytest.fixture
def http(server: Any, proxy: FaultProxy) -> Iterator[httpx2.Client]:
    headers = {"authorization": f"Bearer {server.api_key}"}
    with httpx2.Client(base_url=proxy.url, headers=headers, timeout=5) as client:
        yield client


def run_body() -> dict[str, Any]:
    marker = uuid.uuid4().hex
    return {"app": "infsh/text-templating", "input": {"template": marker, "strings": []}}


def tasks_with(server: Any, body: dict[str, Any]) -> int:
    marker = body["input"]["template"]
    return sum(1 for t in server.emulator.tasks() if t.get("input", {}).get("template") == marker)


def test_relays_untouched_requests_on_one_kept_alive_connection(
    http: httpx2.Client, proxy: FaultProxy
) -> None:
    for _ in range(3):
        assert http.post("/tasks/list", json={}).status_code == 200
    assert proxy.count("POST", "/tasks/list") == 3
    assert proxy.count("GET") == 0


def test_late_headers_after_the_server_acted(server: Any, proxy: FaultProxy) -> None:
    body = run_body()
    late = proxy.arm("POST", "/apps/run", LateHeaders())
    headers = {"authorization": f"Bearer {server.api_key}"}
    with httpx2.Client(
        base_url=proxy.url, headers=headers, timeout=httpx2.Timeout(5, read=0.2)
    ) as c:
        with pytest.raises(httpx2.ReadTimeout):
            c.post("/apps/run", json=body)
        late.wait_fired()
        assert tasks_with(server, body) == 1
        assert c.post("/apps/run", json=run_body()).status_code == 200  # armed once only


def test_reset_after_the_server_acted(server: Any, http: httpx2.Client, proxy: FaultProxy) -> None:
    body = run_body()
    reset = proxy.arm("POST", "/apps/run", ResetAfterRequest())
    with pytest.raises((httpx2.RemoteProtocolError, httpx2.ReadError)):
        http.post("/apps/run", json=body)
    assert reset.fired == 1
    assert tasks_with(server, body) == 1


@pytest.mark.parametrize("forward", [True, False])
def test_stall_never_answers(server: Any, proxy: FaultProxy, forward: bool) -> None:
    body = run_body()
    stall = proxy.arm("POST", "/apps/run", Stall(forward=forward))
    headers = {"authorization": f"Bearer {server.api_key}"}
    with httpx2.Client(
        base_url=proxy.url, headers=headers, timeout=httpx2.Timeout(5, read=0.2)
    ) as c:
        with pytest.raises(httpx2.ReadTimeout):
            c.post("/apps/run", json=body)
    stall.wait_fired()
    assert tasks_with(server, body) == (1 if forward else 0)


def test_replace_body_with_a_chosen_status(http: httpx2.Client, proxy: FaultProxy) -> None:
    proxy.arm("POST", "/tasks/", ReplaceBody(HTML, status=502), times=2)
    proxy.arm(None, "/tasks/list", ReplaceBody(TRUNCATED))
    for _ in range(2):
        response = http.post("/tasks/list", json={})
        assert (response.status_code, response.content) == (502, HTML)
        assert response.headers["content-type"] == "text/html"
    response = http.post("/tasks/list", json={})
    assert (response.status_code, response.content) == (200, TRUNCATED)
    assert http.post("/tasks/list", json={}).json()["success"] is True


def test_reset_mid_body(http: httpx2.Client, proxy: FaultProxy) -> None:
    proxy.arm("POST", "/tasks/list", ResetMidBody(after_bytes=5))
    with pytest.raises((httpx2.RemoteProtocolError, httpx2.ReadError)):
        http.post("/tasks/list", json={})


def test_cut_stream_after_n_lines(server: Any, http: httpx2.Client, proxy: FaultProxy) -> None:
    task = http.post("/apps/run", json=run_body()).json()["data"]
    server.emulator.wait_for_task(task["id"])
    proxy.arm("GET", "/tasks/", CutStream(after_lines=1))
    lines: list[str] = []
    with pytest.raises(httpx2.RemoteProtocolError):
        with http.stream("GET", f"/tasks/{task['id']}/stream") as response:
            lines.extend(response.iter_lines())
    assert len(lines) == 1


def test_refused_then_accepted(http: httpx2.Client, proxy: FaultProxy) -> None:
    proxy.refuse_connections()
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", proxy.port))
    proxy.accept_connections()
    assert http.post("/tasks/list", json={}).status_code == 200
    proxy.wait_requests(1, "POST", "/tasks/list")


def test_late_headers_for_a_while_then_the_response(http: httpx2.Client, proxy: FaultProxy) -> None:
    proxy.arm("POST", "/tasks/list", LateHeaders(seconds=0.05))
    assert http.post("/tasks/list", json={}).json()["success"] is True


def test_stall_after_lines_keeps_the_stream_open(server: Any, proxy: FaultProxy) -> None:
    headers = {"authorization": f"Bearer {server.api_key}"}
    timeout = httpx2.Timeout(5, read=0.2)
    with httpx2.Client(base_url=proxy.url, headers=headers, timeout=timeout) as c:
        task = c.post("/apps/run", json=run_body()).json()["data"]
        server.emulator.wait_for_task(task["id"])
        proxy.arm("GET", f"/tasks/{task['id']}/stream", Stall(after_lines=1))
        lines: list[str] = []
        with pytest.raises(httpx2.ReadTimeout), c.stream("GET", f"/tasks/{task['id']}/stream") as r:
            lines.extend(r.iter_lines())
        assert len(lines) == 1
