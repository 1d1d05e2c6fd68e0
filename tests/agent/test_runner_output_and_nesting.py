"""Structured output and agents inside agents (both ways), end to end: sync, asyncio and trio."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel

from inferencesh.agent import MessageCompleted, ToolCallCompleted, ToolCallRequested, TurnFinished
from inferencesh.errors import AgentOutputError
from inferencesh.local import Emulator
from inferencesh.testing import call, calls, reply, scripted_core_app
from inferencesh.tools import ApprovalRequest, agent_tool, app_tool, tool

from .conftest import AgentTwin, tool_messages

pytestmark = [pytest.mark.anyio, pytest.mark.server]

ToolCallEvents = (ToolCallRequested, ToolCallCompleted)


class Review(BaseModel):
    summary: str
    sentiment: Literal["positive", "negative", "neutral"]
    confidence: float


async def test_run_returns_the_agents_result_as_the_type_asked_for(
    agents: AgentTwin, emulator: Emulator
) -> None:
    finish = call("finish", summary="Loved it", sentiment="positive", confidence=0.9)
    agent = agents.agent(core_app=scripted_core_app(finish))
    review = await agents(agent.run, "Analyze: Great product!", output_type=Review)
    assert review == Review(summary="Loved it", sentiment="positive", confidence=0.9)
    assert agent.chat_id is not None
    assert emulator.chat(agent.chat_id)["output"] == review.model_dump()


async def test_a_result_that_does_not_fit_is_a_typed_error(agents: AgentTwin) -> None:
    wrong = call("finish", summary="Meh", sentiment="lukewarm", confidence=0.5)
    agent = agents.agent(core_app=scripted_core_app(wrong))
    with pytest.raises(AgentOutputError, match="does not fit Review") as info:
        await agents(agent.run, "Analyze.", output_type=Review)
    assert info.value.output == {"summary": "Meh", "sentiment": "lukewarm", "confidence": 0.5}
    silent = agents.agent(core_app=scripted_core_app(reply("No structure here.")))
    with pytest.raises(AgentOutputError, match="without a structured result") as info:
        await agents(silent.run, "Analyze.", output_type=Review)
    assert info.value.output is None


async def test_an_agent_as_a_tool_of_another_and_its_events_on_the_outer_stream(
    agents: AgentTwin,
) -> None:
    researcher = agents.agent(
        core_app=scripted_core_app(reply("Paris is sunny.")),
        name="researcher",
        description="Looks things up.",
    )
    lead = agents.agent(
        core_app=scripted_core_app(
            call("research", message="Weather in Paris?"), reply("Pack sunglasses.")
        ),
        tools=[researcher.as_tool(name="research")],
        name="lead",
    )
    events = await agents.events(lead, "Plan my trip.")
    inner = [e for e in events if e.agent == "researcher"]
    outer = [e for e in events if e.agent == "lead"]
    assert inner and {e.parent_chat_id for e in inner} == {lead.chat_id}
    assert {e.chat_id for e in inner} != {lead.chat_id}
    assert inner[-1].type == "turn.finished" and isinstance(inner[-1], TurnFinished)
    assert all(e.parent_chat_id is None for e in outer)
    done = next(e for e in outer if isinstance(e, ToolCallCompleted))
    assert (done.name, done.result) == ("research", "Paris is sunny.")
    # The nested turn is over before the outer call completes.
    assert events.index(inner[-1]) < events.index(done)
    assert outer[-1].type == "turn.finished"
    assert researcher.chat_id is None  # each call is a chat of its own


async def test_a_parallel_fan_out_to_one_sub_agent(agents: AgentTwin) -> None:
    answers = scripted_core_app(reply("An answer."))
    helper = agents.agent(core_app=answers, name="helper").as_tool(
        name="ask_helper", description="Ask the helper."
    )
    lead = agents.agent(
        core_app=scripted_core_app(
            calls(
                call("ask_helper", message="one"),
                call("ask_helper", message="two"),
                call("ask_helper", message="three"),
            ),
            reply("Merged."),
        ),
        tools=[helper],
        name="lead",
    )
    answer = await agents(lead.send_message, "Fan out.")
    assert answer.text == "Merged." and tool_messages(answer) == ["An answer."] * 3
    assert helper.to_wire()["description"] == "Ask the helper."
    assert helper.parameters_schema is not None
    assert list(helper.parameters_schema["properties"]) == ["message"]


async def test_a_server_side_sub_agent_runs_as_a_child_chat(
    agents: AgentTwin, emulator: Emulator
) -> None:
    emulator.agent(
        "agent-tests/researcher", core_app=scripted_core_app(reply("From the child chat."))
    )
    lead = agents.agent(
        core_app=scripted_core_app(call("research", message="Find out."), reply("Thanks.")),
        tools=[agent_tool("research", "agent-tests/researcher@latest", description="Research.")],
    )
    answer = await agents(lead.send_message, "Research this.")
    assert answer.text == "Thanks."
    assert "From the child chat." in tool_messages(answer)[0]
    assert [(c.name, c.kind, c.status) for c in answer.tool_calls] == [
        ("research", "agent", "completed")
    ]
    chat = await agents(lead.get_chat)
    assert len(chat.children) == 1 and chat.children[0].parent_id == lead.chat_id


def test_as_tool_names() -> None:
    from inferencesh._async.agents import _tool_name  # pyright: ignore[reportPrivateUsage]

    assert _tool_name("acme/support@latest") == "support"
    assert _tool_name("My Agent!") == "My_Agent"
    assert _tool_name("???") == "agent"
    assert len(_tool_name("x" * 100)) == 64


async def test_a_server_side_sub_agents_events_appear_on_the_outer_stream(
    agents: AgentTwin, emulator: Emulator
) -> None:
    emulator.agent(
        "agent-tests/streamed-researcher",
        core_app=scripted_core_app(reply("From the child chat.")),
        name="researcher",
    )
    lead = agents.agent(
        core_app=scripted_core_app(call("research", message="Find out."), reply("Thanks.")),
        tools=[agent_tool("research", "agent-tests/streamed-researcher@latest")],
        name="lead",
    )
    events = await agents.events(lead, "Research this.")
    assert lead.chat_id is not None
    (child,) = emulator.chat(lead.chat_id)["children"]
    inner = [e for e in events if e.chat_id == child["id"]]
    assert {(e.agent, e.parent_chat_id) for e in inner} == {("researcher", lead.chat_id)}
    assert [e.type for e in inner if e.type != "message.delta"] == [
        "message.completed",
        "turn.finished",
    ]
    assert next(e for e in inner if isinstance(e, MessageCompleted)).text == "From the child chat."
    outer = [e for e in events if e.chat_id == lead.chat_id]
    assert all(e.agent == "lead" and e.parent_chat_id is None for e in outer)
    done = next(e for e in outer if isinstance(e, ToolCallCompleted))
    assert (done.name, done.kind) == ("research", "agent")
    assert events.index(inner[-1]) < events.index(done)  # the child's turn, then its answer
    assert events[-1] is outer[-1] and isinstance(outer[-1], TurnFinished)


async def test_a_sub_agents_client_tools_are_run_here_and_its_own_sub_agents_are_told(
    agents: AgentTwin, emulator: Emulator, seen: list[tuple[str, Any]]
) -> None:
    @tool
    def lookup(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        seen.append(("lookup", key))
        return f"value of {key}"

    emulator.agent(
        "agent-tests/nested-leaf",
        core_app=scripted_core_app(reply("Leaf answer.")),
        name="leaf",
    )
    emulator.agent(
        "agent-tests/nested-middle",
        core_app=scripted_core_app(
            call("lookup", key="k1"), call("ask_leaf", message="And you?"), reply("Middle done.")
        ),
        tools=[lookup, agent_tool("ask_leaf", "agent-tests/nested-leaf@latest")],
        name="middle",
    )
    lead = agents.agent(
        core_app=scripted_core_app(call("delegate", message="Go."), reply("All done.")),
        tools=[agent_tool("delegate", "agent-tests/nested-middle@latest"), lookup],
        name="lead",
    )
    events = await agents.events(lead, "Start.")
    assert seen == [("lookup", "k1")]  # the middle agent's client tool, run here, once
    by_agent = {e.agent: e for e in events}
    assert by_agent.keys() == {"lead", "middle", "leaf"}
    middle_chat, leaf_chat = by_agent["middle"].chat_id, by_agent["leaf"].chat_id
    assert by_agent["middle"].parent_chat_id == lead.chat_id
    assert by_agent["leaf"].parent_chat_id == middle_chat
    middle = [e for e in events if e.chat_id == middle_chat and e.type != "message.delta"]
    assert [(e.type, e.name) for e in middle if isinstance(e, ToolCallEvents)] == [
        ("tool_call.requested", "lookup"),
        ("tool_call.completed", "lookup"),
        ("tool_call.requested", "ask_leaf"),
        ("tool_call.completed", "ask_leaf"),
    ]
    assert [e.type for e in middle].count("message.completed") == 3
    assert middle[-1].type == "turn.finished"
    leaf_end = max(i for i, e in enumerate(events) if e.chat_id == leaf_chat)
    ask_leaf_done = next(
        i for i, e in enumerate(events) if isinstance(e, ToolCallCompleted) and e.name == "ask_leaf"
    )
    assert leaf_end < ask_leaf_done
    answer = events[-1]
    assert isinstance(answer, TurnFinished) and answer.agent == "lead"
    assert [c.id for c in (await agents(lead.get_chat)).children] == [middle_chat]


async def test_a_sub_agents_approvals_are_asked_here(agents: AgentTwin, emulator: Emulator) -> None:
    emulator.agent(
        "agent-tests/careful-helper",
        core_app=scripted_core_app(call("echo", text="hi"), reply("Echoed.")),
        tools=[app_tool("echo", "infsh/echo", require_approval=True)],
        name="careful",
    )
    asked: list[ApprovalRequest] = []

    def approve(request: ApprovalRequest) -> bool:
        asked.append(request)
        return True

    lead = agents.agent(
        core_app=scripted_core_app(call("helper", message="Echo hi."), reply("Done.")),
        tools=[agent_tool("helper", "agent-tests/careful-helper@latest")],
        name="lead",
    )
    events = await agents.events(lead, "Go.", approve=approve)
    (request,) = asked
    assert (request.tool_name, request.agent, request.kind) == ("echo", "careful", "app")
    assert request.chat_id != lead.chat_id
    careful = [e.type for e in events if e.agent == "careful" and e.type != "message.delta"]
    steps = ["tool_call.requested", "approval.requested", "tool_call.approved"]
    assert [careful.index(step) for step in [*steps, "tool_call.completed"]] == sorted(
        careful.index(step) for step in [*steps, "tool_call.completed"]
    )
    assert careful[-1] == "turn.finished"
    assert isinstance(events[-1], TurnFinished) and events[-1].agent == "lead"
    assert "Echoed." in [e.text for e in events if isinstance(e, MessageCompleted)]
