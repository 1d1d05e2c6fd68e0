"""A turn ends when the server says so, even when no line follows: sync, asyncio and trio.

The server here sends heartbeats once an hour, so a runner that needs one more line on the
stream to notice the end waits for the caller's deadline instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from inferencesh import async_inference, inference
from inferencesh.local import Emulator, running
from inferencesh.testing import call, reply, scripted_core_app
from inferencesh.tools import tool
from tests.faultproxy import FaultProxy, LateHeaders

from .conftest import AgentTwin

pytestmark = [pytest.mark.anyio, pytest.mark.server]


@pytest.fixture(scope="module")
def quiet_server() -> Iterator[Any]:
    with running(Emulator(heartbeat_interval=3600.0)) as server:
        yield server


@pytest.fixture
def quiet_proxy(quiet_server: Any) -> Iterator[FaultProxy]:
    with FaultProxy(quiet_server.base_url) as proxy:
        yield proxy


@pytest.fixture
async def slow_answers(flavour: str, quiet_server: Any, quiet_proxy: FaultProxy) -> Any:
    options = {"api_key": quiet_server.api_key, "base_url": quiet_proxy.url, "timeout": 1.0}
    client = inference(**options) if flavour == "sync" else async_inference(**options)
    twin = AgentTwin(client)
    yield twin
    await twin.close()


@tool
def lookup(key: str) -> str:
    """Look a key up.

    Args:
        key: The key.
    """
    return f"value of {key}"


def lookup_agent(twin: AgentTwin) -> Any:
    """An agent whose model calls `lookup(key="k1")` once, then says "Found it."."""
    return twin.agent(
        core_app=scripted_core_app(call("lookup", key="k1"), reply("Found it.")), tools=[lookup]
    )


async def test_the_turn_ends_when_its_end_comes_before_the_answer_to_the_result_post(
    slow_answers: AgentTwin, quiet_proxy: FaultProxy, quiet_server: Any
) -> None:
    agent = lookup_agent(slow_answers)
    # The server takes the result (and the turn ends on the stream), but its answer to the
    # post never comes: the post times out, and its retry finds the result already taken.
    held = quiet_proxy.arm("POST", "/tools/", LateHeaders())
    answer = await slow_answers(agent.send_message, "Find k1.", wait_timeout=20)
    assert answer.text == "Found it." and held.fired == 1
    assert quiet_proxy.count("POST", "/tools/") == 2


async def test_a_turn_the_stream_showed_whole_ends_without_fetching_the_chat(
    slow_answers: AgentTwin, quiet_proxy: FaultProxy
) -> None:
    agent = lookup_agent(slow_answers)
    answer = await slow_answers(agent.send_message, "Find k1.", wait_timeout=20)
    assert answer.text == "Found it."
    assert [m.role for m in answer.messages] == ["assistant", "tool", "assistant"]
    assert [(c.name, c.status, c.result) for c in answer.tool_calls] == [
        ("lookup", "completed", "value of k1")
    ]
    assert answer.chat is not None and answer.chat.status == "idle"
    # Three requests: the message, its stream (which showed every message of the turn, each
    # final), the result; no GET /chats/{id} to confirm what the stream already said.
    chat = f"/chats/{answer.chat_id}"
    assert quiet_proxy.count() == 3
    assert quiet_proxy.count("POST", "/agents/run") == 1
    assert quiet_proxy.count("GET", f"{chat}/stream") == 1
    assert quiet_proxy.count("POST", "/tools/") == 1
