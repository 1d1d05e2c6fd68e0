"""A finished turn is freed by reference counting: sync, asyncio and trio.

No cycle may keep a turn's objects (its driver state, follower, event pump, messages) alive
until the garbage collector runs: with 100 chats in flight such cycles made a fifth of the
client's CPU a turn (collections) and most of its memory growth.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from inferencesh.testing import call, reply, scripted_core_app
from inferencesh.tools import tool

from .conftest import AgentTwin

pytestmark = [pytest.mark.anyio, pytest.mark.server]


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def our_garbage() -> set[str]:
    """The client's own objects that only the garbage collector would free (cycles)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    found = {
        type(o).__module__ + "." + type(o).__qualname__
        for o in gc.garbage
        # The emulator serves in this process too; its objects are not the client's.
        if type(o).__module__.startswith("inferencesh")
        and not type(o).__module__.startswith("inferencesh.local")
    }
    gc.garbage.clear()
    return found


@pytest.mark.usefixtures("collector_off")
async def test_a_finished_turn_leaves_no_cycle_behind(agents: AgentTwin) -> None:
    @tool
    def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        return f"value of {key}"

    app = scripted_core_app(call("lookup", key="k1"), reply("Found it."))
    our_garbage()  # whatever came before
    agent = agents.agent(core_app=app, tools=[lookup])
    answer = await agents(agent.send_message, "Find k1.")
    assert answer.text == "Found it." and answer.tool_calls[0].result == "value of k1"
    events = await agents.events(agents.agent(core_app=app, tools=[lookup]), "Find k1.")
    assert events[-1].type == "turn.finished"
    del agent, answer, events
    assert our_garbage() == set()
