"""Streams pass through as they happen, under a real ASGI server (uvicorn) and a real WSGI
server (gunicorn); a browser that leaves closes the upstream request."""

from __future__ import annotations

import json

import httpx2

from inferencesh.local import RunningServer
from tests.proxy._flows import stream_gated_task
from tests.proxy._servers import Upstream
from tests.proxy.conftest import Gates


def test_a_long_task_stream_arrives_incrementally(
    served_proxy: str, emulator_server: RunningServer, gates: Gates
) -> None:
    streamed = stream_gated_task(served_proxy, emulator_server, gates, steps=40)
    assert streamed.before_end >= 1


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
