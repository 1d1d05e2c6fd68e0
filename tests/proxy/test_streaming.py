"""Streams pass through as they happen, under a real ASGI server (uvicorn) and a real WSGI
server (gunicorn); a browser that leaves closes the upstream request."""

from __future__ import annotations

import json
from typing import Any

import httpx2

from inferencesh.local import RunningServer
from tests.proxy._servers import Upstream
from tests.proxy.conftest import Gates

COMPLETED = 10
TERMINAL = {10, 11, 12}
STEPS = 40


def test_a_long_task_stream_arrives_incrementally(
    served_proxy: str, emulator_server: RunningServer, gates: Gates
) -> None:
    """Every step's update arrives while the app still waits on the gate, so before the task
    ends; a proxy that buffered the stream would time out here instead."""
    base = emulator_server.base_url
    gate = gates.new()
    with httpx2.Client(timeout=10, trust_env=False) as http:
        created = http.post(
            served_proxy,
            headers={"x-inf-target-url": f"{base}/apps/run"},
            json={"app": "proxy-test/steps", "input": {"gate": gate, "steps": STEPS}},
        )
        assert created.status_code == 200, created.text
        task_id = created.json()["data"]["id"]
        target = f"{base}/tasks/{task_id}/stream"
        updates: list[dict[str, Any]] = []
        with http.stream(
            "GET",
            served_proxy,
            params={"__inf_target": target},
            headers={"x-inf-target-url": target, "accept": "application/x-ndjson"},
        ) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"] == "application/x-ndjson"
            lines = stream.iter_lines()
            for line in lines:
                event = json.loads(line)
                if event.get("type") != "heartbeat":
                    updates.append(event)
                if event.get("progress_message") == f"step {STEPS}":
                    break
            before_end = len(updates)
            assert emulator_server.emulator.task(task_id)["status"] not in TERMINAL
            gates.open(gate)
            for line in lines:
                event = json.loads(line)
                if event.get("type") != "heartbeat":
                    updates.append(event)
                if event.get("status") in TERMINAL:
                    break
    assert before_end >= 1
    assert updates[-1]["status"] == COMPLETED
    assert updates[-1]["output"] == {"steps": STEPS}
    statuses = [u["status"] for u in updates]
    assert statuses == sorted(statuses)
    # Updates that were sent one by one came one by one (coalescing is the emulator's right).
    messages = [
        u.get("progress_message") for u in updates[:before_end] if u.get("progress_message")
    ]
    assert messages[-1] == f"step {STEPS}"
    assert messages == sorted(messages, key=lambda m: int(m.split()[1]))


def test_a_browser_that_leaves_closes_the_upstream_request(
    served_proxy: str, upstream_url: str, upstream: Upstream
) -> None:
    target = f"{upstream_url}/forever"
    with httpx2.Client(timeout=10, trust_env=False) as http:
        with http.stream("GET", served_proxy, headers={"x-inf-target-url": target}) as stream:
            first = next(stream.iter_lines())
            assert json.loads(first) == {"type": "heartbeat"}
        # Leaving the block closed the connection mid-stream.
    assert upstream.left.wait(10), "the upstream request stayed open after the browser left"
