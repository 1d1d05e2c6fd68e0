"""Turns over real streams: cut and resumed, left early, continued, polled; sync, asyncio, trio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from inferencesh.agent import ToolCallCompleted, ToolCallRequested, TurnFinished
from inferencesh.errors import AgentTimeoutError, UsageError
from inferencesh.local import Emulator
from inferencesh.testing import call, reply, scripted_core_app
from inferencesh.tools import tool

from .conftest import AgentTwin, tool_messages

pytestmark = [pytest.mark.anyio, pytest.mark.server]


def counting_tool(seen: list[tuple[str, Any]], name: str = "lookup") -> Any:
    @tool(name=name)
    def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        seen.append((name, key))
        return f"value of {key}"

    return lookup


def one_call(key: str = "k1", answer: str = "Found it.") -> dict[str, Any]:
    return scripted_core_app(call("lookup", key=key), reply(answer))


@pytest.mark.parametrize("cut_after", [1, 2, 4, 6, 8, 10])
async def test_a_stream_cut_mid_turn_reconnects_and_no_tool_runs_twice(
    agents: AgentTwin, emulator: Emulator, seen: list[tuple[str, Any]], cut_after: int
) -> None:
    agent = agents.agent(core_app=one_call(), tools=[counting_tool(seen)])
    emulator.faults.cut_stream_after(cut_after, times=2)  # the first reconnect is cut too
    events = await agents.events(agent, "Find k1.")
    assert seen == [("lookup", "k1")]
    assert [e.type for e in events if e.type != "message.delta"] == [
        "tool_call.requested",
        "message.completed",
        "tool_call.completed",
        "message.completed",
        "turn.finished",
    ]
    chat = emulator.chat(agent.chat_id)
    invocations = [i for m in chat["chat_messages"] for i in m.get("tool_invocations") or []]
    assert [(i["status"], i["result"]) for i in invocations] == [("completed", "value of k1")]


async def test_a_new_process_resumes_the_turn_and_runs_the_waiting_call_once(
    agents: AgentTwin, emulator: Emulator, seen: list[tuple[str, Any]]
) -> None:
    never = anyio.Event()

    @tool(name="lookup")
    async def first_process(key: str) -> str:
        """Look a key up (the first process dies before it answers)."""
        await never.wait()
        return "never"

    @tool(name="lookup")
    def first_process_sync(key: str) -> str:
        """Look a key up (never reached: the sync runner left before running it)."""
        raise AssertionError("the first process must not run the call")

    crashed = agents.agent(
        core_app=one_call(), tools=[first_process if agents.is_async else first_process_sync]
    )
    seen_first = await agents.events_until(
        crashed, "Find k1.", lambda e: isinstance(e, ToolCallRequested), detach=True
    )
    assert isinstance(seen_first[-1], ToolCallRequested)
    chat_id = crashed.chat_id
    assert chat_id is not None
    emulator.wait_until(lambda: emulator.chat(chat_id)["status"] == "awaiting_input")

    later = agents.agent(core_app=one_call(), tools=[counting_tool(seen)], chat_id=chat_id)
    answer = await agents(later.resume)
    assert seen == [("lookup", "k1")]
    assert answer.text == "Found it." and answer.chat_id == chat_id
    assert tool_messages(answer) == ["value of k1"]
    # Resuming a turn that already ended runs nothing and gives that turn's answer.
    again = await agents(
        agents.agent(core_app=one_call(), tools=[counting_tool(seen)], chat_id=chat_id).resume
    )
    assert again.text == "Found it." and seen == [("lookup", "k1")]


async def test_a_turn_whose_answer_was_posted_is_not_answered_again(
    agents: AgentTwin, emulator: Emulator, seen: list[tuple[str, Any]]
) -> None:
    gate = anyio.Event() if agents.is_async else None
    core = scripted_core_app(call("lookup", key="k1"), call("lookup", key="k2"), reply("Both."))
    first = agents.agent(core_app=core, tools=[counting_tool(seen)])
    await agents.events_until(
        first, "Find both.", lambda e: isinstance(e, ToolCallCompleted), detach=True
    )
    assert gate is None or not gate.is_set()
    chat_id = first.chat_id
    assert chat_id is not None
    later = agents.agent(core_app=core, tools=[counting_tool(seen)], chat_id=chat_id)
    answer = await agents(later.resume)
    assert answer.text == "Both."
    assert sorted(seen) == [("lookup", "k1"), ("lookup", "k2")]  # k1 once, by the first


async def test_leaving_the_stream_stops_the_run(agents: AgentTwin, emulator: Emulator) -> None:
    @tool(name="lookup")
    async def never_answers(key: str) -> str:
        """Waits for ever."""
        await anyio.sleep_forever()
        return key

    @tool(name="lookup")
    def sync_lookup(key: str) -> str:
        """Not reached: the sync runner leaves before running it."""
        raise AssertionError("must not run")

    agent = agents.agent(
        core_app=one_call(), tools=[never_answers if agents.is_async else sync_lookup]
    )
    await agents.events_until(agent, "Find k1.", lambda e: isinstance(e, ToolCallRequested))
    chat_id = agent.chat_id
    assert chat_id is not None
    emulator.wait_until(lambda: emulator.chat(chat_id)["active_run"]["state"] == "canceled")
    assert emulator.chat(chat_id)["status"] == "idle"


async def test_detaching_leaves_the_run_going(
    agents: AgentTwin, emulator: Emulator, seen: list[tuple[str, Any]]
) -> None:
    agent = agents.agent(core_app=one_call(), tools=[counting_tool(seen)])
    events = await agents.events_until(
        agent, "Find k1.", lambda e: e.type == "message.delta", detach=True
    )
    assert events[-1].type == "message.delta"
    chat_id = agent.chat_id
    assert chat_id is not None
    answer = await agents(agent.resume)  # the run went on; the call waits for us
    assert answer.text == "Found it." and len(seen) == 1
    assert emulator.chat(chat_id)["active_run"]["state"] == "completed"


async def test_a_conversation_continues_resets_and_resumes_by_id(agents: AgentTwin) -> None:
    core = scripted_core_app(reply("Hello."), reply("Still here."), reply("Third."))
    agent = agents.agent(core_app=core, name="chatty")
    first = await agents(agent.send_message, "Hi")
    second = await agents(agent.send_message, "Are you there?")
    assert (first.text, second.text) == ("Hello.", "Still here.")
    assert first.chat_id == second.chat_id == agent.chat_id
    saved = agent.chat_id
    other = agents.agent(core_app=core, name="chatty", chat_id=saved)
    third = await agents(other.send_message, "And now?")
    assert (third.text, third.chat_id) == ("Third.", saved)
    chat = await agents(other.get_chat)
    assert [m.text for m in chat.chat_messages if m.role == "user"] == [
        "Hi",
        "Are you there?",
        "And now?",
    ]
    agent.reset()
    assert agent.chat_id is None
    fresh = await agents(agent.send_message, "New chat?")
    assert fresh.text == "Hello." and fresh.chat_id != saved
    with pytest.raises(UsageError, match="no chat yet"):
        await agents(agents.agent(core_app=core).get_chat)


async def test_attachments_are_uploaded_and_sent(agents: AgentTwin, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("remember the milk")
    agent = agents.agent(core_app=scripted_core_app(reply("Read them.")))
    uploaded = await agents(
        agents.client.files.upload, b"\x89PNG\r\n\x1a\n" + b"0" * 32, filename="cat.png"
    )
    answer = await agents(
        agent.send_message, "Look at these.", files=[notes, b"raw bytes", uploaded]
    )
    assert answer.text == "Read them."
    chat = await agents(agent.get_chat)
    user = next(m for m in chat.chat_messages if m.role == "user")
    assert [c.type for c in user.content] == ["text", "file", "file", "image"]
    assert user.content[-1].image == uploaded.uri


@pytest.mark.parametrize("flavour", ["asyncio", "trio"])
async def test_the_callers_deadline_ends_the_turn_and_stops_the_run(
    agents: AgentTwin, emulator: Emulator
) -> None:
    @tool(name="lookup")
    async def slow(key: str) -> str:
        """Takes for ever."""
        await anyio.sleep_forever()
        return key

    agent = agents.agent(core_app=one_call(), tools=[slow])
    with pytest.raises(AgentTimeoutError, match="did not end within 0.5 s") as info:
        await agent.send_message("Find k1.", wait_timeout=0.5)
    chat_id = agent.chat_id
    assert chat_id is not None and info.value.chat_id == chat_id
    emulator.wait_until(lambda: emulator.chat(chat_id)["active_run"]["state"] == "canceled")


@pytest.fixture
async def polling(flavour: str, server: Any) -> Any:
    client = (
        server.client(stream_mode="poll", poll_interval=0.02)
        if flavour == "sync"
        else server.async_client(stream_mode="poll", poll_interval=0.02)
    )
    twin = AgentTwin(client)
    yield twin
    await twin.close()


async def test_polling_runs_the_same_turn(polling: AgentTwin, seen: list[tuple[str, Any]]) -> None:
    agent = polling.agent(core_app=one_call(), tools=[counting_tool(seen)])
    events = await polling.events(agent, "Find k1.")
    assert seen == [("lookup", "k1")]
    assert [e.type for e in events if e.type != "message.delta"] == [
        "tool_call.requested",
        "message.completed",
        "tool_call.completed",
        "message.completed",
        "turn.finished",
    ]
    assert isinstance(events[-1], TurnFinished) and events[-1].chat.status == "idle"
