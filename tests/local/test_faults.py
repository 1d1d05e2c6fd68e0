"""Fault injection over a real socket: refused requests, cut streams, latency."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx2
import pytest

from inferencesh.local import Emulator, Faults, RunningServer
from tests.local._support import (
    HELLO_RUN,
    assert_problem,
    lines_of,
    run,
    run_gated,
    updates,
)


def test_fail_next_refuses_that_many_requests(http: httpx2.Client, local_emu: Emulator) -> None:
    before = len(local_emu.tasks())
    local_emu.faults.fail_next(2, status=429, retry_after=0)
    for _ in range(2):
        response = http.post("/apps/run", json=HELLO_RUN)
        assert_problem(response, 429, "rate_limited")
        assert response.headers["retry-after"] == "0"
    assert len(local_emu.tasks()) == before  # refused runs start nothing
    assert http.post("/apps/run", json=HELLO_RUN).status_code == 200


@pytest.mark.parametrize(
    ("retry_after", "header"), [(1, "1"), (2.0, "2"), (0.05, "0.05"), (None, None)]
)
def test_retry_after_header(
    http: httpx2.Client, local_emu: Emulator, retry_after: float | None, header: str | None
) -> None:
    local_emu.faults.fail_next(1, retry_after=retry_after)
    response = http.get("/tasks/tsk_x")
    assert_problem(response, 503, "service_unavailable")
    assert response.headers.get("retry-after") == header


def test_fail_next_can_target_a_path_and_method(http: httpx2.Client, local_emu: Emulator) -> None:
    local_emu.faults.fail_next(1, status=503, path="/tasks/*/stream", method="get")
    task = local_emu.wait_for_task(run(http, "infsh/echo", {})["id"])
    assert http.get(f"/tasks/{task['id']}").status_code == 200
    assert http.get(f"/tasks/{task['id']}/stream").status_code == 503
    assert http.get(f"/tasks/{task['id']}/stream").status_code == 200


def test_preflights_are_never_refused(local_server: RunningServer, local_emu: Emulator) -> None:
    local_emu.faults.fail_next(1)
    headers = {"origin": "http://x", "access-control-request-method": "POST"}
    assert httpx2.options(local_server.url("/apps/run"), headers=headers).status_code == 204
    assert httpx2.get(local_server.url("/tasks/x")).status_code == 503


def test_a_cut_stream_breaks_after_n_lines(
    http: httpx2.Client, local_emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="uvicorn.error")
    gate, task = run_gated(http, logs=["a"])
    local_emu.faults.cut_stream_after(1, times=2)
    for _ in range(2):
        got: list[dict[str, object]] = []
        with pytest.raises(httpx2.RemoteProtocolError):
            with http.stream("GET", f"/tasks/{task['id']}/stream") as response:
                got.extend(lines_of(response))
        assert [line["status"] for line in got] == [7]
    gate.release.set()
    with http.stream("GET", f"/tasks/{task['id']}/stream") as response:
        final = updates(list(lines_of(response)))[-1]
    assert final["status"] == 10
    # A deliberate cut is not reported as a server error.
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")]


def test_a_clean_cut_ends_the_body_before_the_task_ends(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    gate, task = run_gated(http)
    local_emu.faults.cut_stream_after(1, abort=False)
    with http.stream("GET", f"/tasks/{task['id']}/stream") as response:
        lines = list(lines_of(response))
    assert [line["status"] for line in lines] == [7]
    gate.release.set()
    assert local_emu.wait_for_task(task["id"])["status"] == 10


def test_latency_delays_every_request(http: httpx2.Client, local_emu: Emulator) -> None:
    faults = local_emu.faults
    faults.latency(0.05)
    assert faults.added_latency == 0.05
    assert http.get("/tasks/tsk_x").status_code == 404
    assert http.post("/apps/run", json={}).status_code == 400
    # Each request waited the armed latency before it was handled.
    assert (faults.delayed, faults.delayed_seconds) == (2, pytest.approx(0.1))
    faults.reset()
    assert (faults.added_latency, faults.delayed, faults.delayed_seconds) == (0, 0, 0)
    assert http.get("/tasks/tsk_x").status_code == 404
    assert faults.delayed == 0


BAD_ARMS: list[Callable[[Faults], None]] = [
    lambda f: f.fail_next(0),
    lambda f: f.fail_next(1, status=200),
    lambda f: f.cut_stream_after(-1),
    lambda f: f.cut_stream_after(1, times=0),
    lambda f: f.latency(-1),
]


@pytest.mark.parametrize("arm", BAD_ARMS)
def test_bad_fault_arguments_are_refused(arm: Callable[[Faults], None]) -> None:
    with pytest.raises(ValueError):
        arm(Faults())
