"""Calls through a proxy that several tests make."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx2

from inferencesh.local import RunningServer
from tests.proxy.conftest import Gates

COMPLETED = 10
TERMINAL = {10, 11, 12}


@dataclass
class Streamed:
    updates: list[dict[str, Any]]
    """Task updates in order (heartbeats left out)."""
    before_end: int
    """How many arrived while the app still waited on its gate."""


def stream_gated_task(
    proxy_url: str, server: RunningServer, gates: Gates, *, steps: int = 40
) -> Streamed:
    """Run `proxy-test/steps` through the proxy and follow its NDJSON stream, as the JS SDK.

    The app reports `steps` progress updates, then waits on a gate that is opened only once
    the last of them came through the proxy: the task cannot have ended by then. A proxy
    that buffered the stream would leave this waiting until the read timeout.
    """
    base = server.base_url
    gate = gates.new()
    with httpx2.Client(timeout=10, trust_env=False) as http:
        created = http.post(
            proxy_url,
            headers={"x-inf-target-url": f"{base}/apps/run"},
            json={"app": "proxy-test/steps", "input": {"gate": gate, "steps": steps}},
        )
        assert created.status_code == 200, created.text
        task_id = created.json()["data"]["id"]
        target = f"{base}/tasks/{task_id}/stream"
        updates: list[dict[str, Any]] = []
        with http.stream(
            "GET",
            proxy_url,
            params={"__inf_target": target},
            headers={"x-inf-target-url": target, "accept": "application/x-ndjson"},
        ) as stream:
            assert stream.status_code == 200, stream.read()
            assert stream.headers["content-type"] == "application/x-ndjson"
            lines = stream.iter_lines()
            for line in lines:
                event = json.loads(line)
                if event.get("type") != "heartbeat":
                    updates.append(event)
                if event.get("progress_message") == f"step {steps}":
                    break
            before_end = len(updates)
            assert server.emulator.task(task_id)["status"] not in TERMINAL
            gates.open(gate)
            for line in lines:
                event = json.loads(line)
                if event.get("type") != "heartbeat":
                    updates.append(event)
                if event.get("status") in TERMINAL:
                    break
    assert updates[-1]["status"] == COMPLETED, updates[-1]
    assert updates[-1]["output"] == {"steps": steps}
    statuses = [u["status"] for u in updates]
    assert statuses == sorted(statuses)
    messages = [u["progress_message"] for u in updates[:before_end] if u.get("progress_message")]
    assert messages[-1] == f"step {steps}"
    assert messages == sorted(messages, key=lambda m: int(m.split()[1]))
    return Streamed(updates, before_end)
