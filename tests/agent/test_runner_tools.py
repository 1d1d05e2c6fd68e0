"""The runner calls the agent's tools: end to end over a real socket, sync, asyncio and trio."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from inferencesh.agent import ToolCallCompleted, ToolCallFailed, ToolCallRequested, TurnFinished
from inferencesh.errors import ToolError
from inferencesh.testing import call, calls, reply, scripted_core_app
from inferencesh.tools import tool

from .conftest import AgentTwin, tool_messages

pytestmark = [pytest.mark.anyio, pytest.mark.server]


def weather_tools(seen: list[tuple[str, Any]]) -> Any:
    @tool
    def get_weather(city: str, units: str = "celsius") -> dict[str, Any]:
        """Get the current weather for a city.

        Args:
            city: City name.
            units: celsius or fahrenheit.
        """
        seen.append(("get_weather", (city, units)))
        return {"city": city, "temp": 18, "units": units}

    return get_weather


async def test_a_client_tool_round_trip(agents: AgentTwin, seen: list[tuple[str, Any]]) -> None:
    agent = agents.agent(
        core_app=scripted_core_app(call("get_weather", city="Paris"), reply("It is 18 in Paris.")),
        tools=[weather_tools(seen)],
        name="weather",
    )
    answer = await agents(agent.send_message, "What's the weather in Paris?")
    assert answer.text == "It is 18 in Paris."
    assert seen == [("get_weather", ("Paris", "celsius"))]
    assert tool_messages(answer) == ['{"city":"Paris","temp":18,"units":"celsius"}']
    assert [(c.name, c.arguments, c.status) for c in answer.tool_calls] == [
        ("get_weather", {"city": "Paris"}, "completed")
    ]
    assert answer.chat_id == agent.chat_id and answer.chat.status == "idle"
    assert [m.role for m in answer.messages] == ["assistant", "tool", "assistant"]


async def test_the_stream_tells_each_step_once_in_order(
    agents: AgentTwin, seen: list[tuple[str, Any]]
) -> None:
    agent = agents.agent(
        core_app=scripted_core_app(call("get_weather", city="Oslo"), reply("Cold.")),
        tools=[weather_tools(seen)],
        name="weather",
    )
    events = await agents.events(agent, "Weather in Oslo?")
    kinds = [e.type for e in events if e.type != "message.delta"]
    assert kinds == [
        "tool_call.requested",
        "message.completed",
        "tool_call.completed",
        "message.completed",
        "turn.finished",
    ]
    assert {(e.agent, e.chat_id) for e in events} == {("weather", agent.chat_id)}
    requested = next(e for e in events if isinstance(e, ToolCallRequested))
    done = next(e for e in events if isinstance(e, ToolCallCompleted))
    assert (requested.name, requested.arguments, requested.kind) == (
        "get_weather",
        {"city": "Oslo"},
        "client",
    )
    assert done.invocation_id == requested.invocation_id
    assert "".join(e.text for e in events if e.type == "message.delta") == "Cold."
    finished = events[-1]
    assert isinstance(finished, TurnFinished) and finished.chat.status == "idle"


async def test_errors_and_invalid_arguments_reach_the_model(
    agents: AgentTwin, seen: list[tuple[str, Any]]
) -> None:
    @tool
    def refuse(reason: str) -> str:
        """Refuses on purpose."""
        seen.append(("refuse", reason))
        raise ToolError(f"cannot: {reason}")

    @tool
    def crash() -> str:
        """Fails."""
        seen.append(("crash", None))
        raise RuntimeError("disk on fire")

    script = scripted_core_app(
        calls(
            call("get_weather", town="Paris"),  # invalid: no city, unknown town
            call("refuse", reason="closed"),
            call("crash"),
            call("teleport", to="Mars"),  # a tool the agent does not have
        ),
        reply("Sorry."),
    )
    agent = agents.agent(core_app=script, tools=[weather_tools(seen), refuse, crash])
    events = await agents.events(agent, "Try everything.")
    failed = {e.name: e for e in events if isinstance(e, ToolCallFailed)}
    assert {name: e.reason for name, e in failed.items()} == {
        "get_weather": "invalid_arguments",
        "refuse": "tool_error",
        "crash": "exception",
        "teleport": "server",  # the server fails a tool the agent does not have
    }
    assert sorted(seen) == [("crash", None), ("refuse", "closed")]  # get_weather never ran
    chat = events[-1].chat  # type: ignore[union-attr]
    assert chat.status == "idle"
    told = told_by_tool(await agents(agent.get_chat))
    invalid = json.loads(told["get_weather"])
    assert invalid["error"] == "invalid_arguments"
    assert {f["field"] for f in invalid["fields"]} == {"city", "town"}
    assert json.loads(told["refuse"]) == {"error": "cannot: closed"}
    assert json.loads(told["crash"]) == {"error": "RuntimeError: disk on fire"}
    assert "'teleport' is not available" in told["teleport"]


def told_by_tool(chat: Any) -> dict[str, str]:
    """What the model was told each tool returned, by tool name."""
    names = {i.tool_invocation_id: i.name for m in chat.chat_messages for i in m.tool_invocations}
    return {names[m.tool_call_id]: m.text for m in chat.chat_messages if m.role == "tool"}


async def test_a_template_agent_gets_its_handlers_here(
    agents: AgentTwin, emulator: Any, seen: list[tuple[str, Any]]
) -> None:
    get_weather = weather_tools(seen)
    emulator.agent(
        "agent-tests/weather",
        core_app=scripted_core_app(call("get_weather", city="Rome"), reply("Warm.")),
        tools=[get_weather],
    )
    agent = agents.agent("agent-tests/weather@latest", tools=[get_weather])
    answer = await agents(agent.send_message, "Rome?")
    assert (answer.text, seen) == ("Warm.", [("get_weather", ("Rome", "celsius"))])
    assert agent.name == "agent-tests/weather@latest"


@pytest.mark.parametrize("flavour", ["asyncio", "trio"])
async def test_several_calls_of_one_turn_run_at_once(agents: AgentTwin) -> None:
    started, gate = [], anyio.Event()

    @tool
    async def slow(n: int) -> int:
        """Waits until every call has started."""
        started.append(n)
        if len(started) == 3:
            gate.set()
        await gate.wait()  # only returns if all three ran side by side
        return n

    script = scripted_core_app(
        calls(call("slow", n=1), call("slow", n=2), call("slow", n=3)), reply("done")
    )
    answer = await agents.agent(core_app=script, tools=[slow]).send_message("go", wait_timeout=30)
    assert answer.text == "done" and sorted(started) == [1, 2, 3]


@pytest.mark.parametrize("flavour", ["asyncio", "trio"])
async def test_a_hundred_chats_at_once_on_one_client(agents: AgentTwin) -> None:
    ran: list[str] = []

    @tool
    async def lookup(key: str) -> str:
        """Look a key up."""
        ran.append(key)
        await anyio.lowlevel.checkpoint()
        return key.upper()

    answers: dict[int, Any] = {}

    async def one(n: int) -> None:
        agent = agents.agent(
            core_app=scripted_core_app(call("lookup", key=f"k{n}"), reply(f"answer {n}")),
            tools=[lookup],
        )
        answers[n] = await agent.send_message(f"question {n}", wait_timeout=60)

    async with anyio.create_task_group() as tg:
        for n in range(100):
            tg.start_soon(one, n)
    assert sorted(ran) == sorted(f"k{n}" for n in range(100))
    assert all(answers[n].text == f"answer {n}" for n in range(100))
    assert all(tool_messages(answers[n]) == [f"K{n}"] for n in range(100))
    assert len({a.chat_id for a in answers.values()}) == 100


async def test_a_failure_of_the_runner_reaches_the_caller_as_itself(
    agents: AgentTwin, emulator: Any, seen: list[tuple[str, Any]]
) -> None:
    from inferencesh.errors import InternalServerError

    agent = agents.agent(
        core_app=scripted_core_app(call("get_weather", city="Paris"), reply("x")),
        tools=[weather_tools(seen)],
    )
    emulator.faults.fail_next(10, status=500, retry_after=None, path="/tools/*", method="POST")
    with pytest.raises(InternalServerError):
        await agents(agent.send_message, "Weather?")
    assert seen == [("get_weather", ("Paris", "celsius"))]


async def test_finish_runs_the_rest_of_the_turn_unread(
    agents: AgentTwin, seen: list[tuple[str, Any]]
) -> None:
    agent = agents.agent(
        core_app=scripted_core_app(call("get_weather", city="Paris"), reply("It is 18 in Paris.")),
        tools=[weather_tools(seen)],
    )
    if agents.is_async:
        async with agent.stream("Weather in Paris?") as events:
            first = await anext(events)
            await events.finish()
        answer = events.reply()
    else:

        def consume() -> tuple[Any, Any]:
            with agent.stream("Weather in Paris?") as events:
                first = next(events)
                events.finish()
            return first, events.reply()

        first, answer = await anyio.to_thread.run_sync(consume)
    assert first.type != "turn.finished"  # one event read, the rest of the turn left unread
    assert answer.text == "It is 18 in Paris."
    assert seen == [("get_weather", ("Paris", "celsius"))]  # the tool still ran, once
    assert [c.status for c in answer.tool_calls] == ["completed"]
