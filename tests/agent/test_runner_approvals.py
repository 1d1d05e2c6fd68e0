"""Approvals fail closed, end to end: client tools and server tools, sync, asyncio and trio."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from inferencesh.agent import (
    ApprovalRequest,
    ApprovalRequested,
    ToolCallApproved,
    ToolCallCompleted,
    ToolCallDenied,
)
from inferencesh.errors import UsageError
from inferencesh.local import AppContext, Emulator
from inferencesh.testing import call, reply, scripted_core_app
from inferencesh.tools import ApprovalDecision, app_tool, tool

from .conftest import AgentTwin, tool_messages

pytestmark = [pytest.mark.anyio, pytest.mark.server]


class Echo(BaseModel):
    text: str


@pytest.fixture(scope="session")
def echo_app(emulator: Emulator) -> str:
    """A server-side app the agent can call as a tool; the tasks it ran say it ran."""

    @emulator.app("agent-tests/echo", input=Echo)
    def echo(ctx: AppContext, input: Echo) -> dict[str, Any]:  # pyright: ignore[reportUnusedFunction]
        return {"echo": input.text}

    return "agent-tests/echo"


def transfer_tool(seen: list[tuple[str, Any]], **options: Any) -> Any:
    @tool(require_approval=True, **options)
    def transfer(amount: int) -> str:
        """Transfer money.

        Args:
            amount: How much.
        """
        seen.append(("transfer", amount))
        return f"sent {amount}"

    return transfer


def script(amount: int = 5) -> dict[str, Any]:
    return scripted_core_app(call("transfer", amount=amount), reply("Done."))


async def test_an_approved_client_call_runs(agents: AgentTwin, seen: list[tuple[str, Any]]) -> None:
    asked: list[ApprovalRequest] = []

    def approve(request: ApprovalRequest) -> bool:
        asked.append(request)
        return True

    agent = agents.agent(core_app=script(), tools=[transfer_tool(seen)], approve=approve)
    events = await agents.events(agent, "Send 5.")
    assert seen == [("transfer", 5)]
    assert [(r.tool_name, r.arguments, r.kind) for r in asked] == [
        ("transfer", {"amount": 5}, "client")
    ]
    kinds = [e.type for e in events if e.type.startswith(("tool_call", "approval"))]
    assert kinds == [
        "tool_call.requested",
        "approval.requested",
        "tool_call.approved",
        "tool_call.completed",
    ]
    approved = next(e for e in events if isinstance(e, ToolCallApproved))
    assert approved.decided_by == "callback"
    assert next(e for e in events if isinstance(e, ApprovalRequested)).request == asked[0]


@pytest.mark.parametrize(
    ("decision", "reason"),
    [
        (False, "The user refused this call."),
        (None, "The call was refused: the approval callback returned None, not True."),
        ("yes", "The call was refused: the approval callback returned 'yes', not True."),
    ],
)
async def test_anything_but_true_denies_and_the_model_is_told_why(
    agents: AgentTwin, seen: list[tuple[str, Any]], decision: Any, reason: str
) -> None:
    agent = agents.agent(core_app=script(), tools=[transfer_tool(seen)])
    events = await agents.events(agent, "Send 5.", approve=lambda request: decision)
    assert seen == []  # never ran
    denied = [e for e in events if isinstance(e, ToolCallDenied)]
    assert [e.reason for e in denied] == [reason]
    assert not any(isinstance(e, ToolCallCompleted) for e in events)
    chat = await agents(agent.get_chat)
    results = [m.text for m in chat.chat_messages if m.role == "tool"]
    assert len(results) == 1 and reason in results[0]


async def test_no_callback_denies(agents: AgentTwin, seen: list[tuple[str, Any]]) -> None:
    agent = agents.agent(core_app=script(), tools=[transfer_tool(seen)])
    answer = await agents(agent.send_message, "Send 5.")
    assert seen == [] and answer.text == "Done."
    assert "nobody was asked" in tool_messages(answer)[0]
    assert [c.status for c in answer.tool_calls] == ["failed"]


async def test_a_raising_callback_denies(agents: AgentTwin, seen: list[tuple[str, Any]]) -> None:
    def broken(request: ApprovalRequest) -> bool:
        raise RuntimeError("the approval UI crashed")

    agent = agents.agent(core_app=script(), tools=[transfer_tool(seen)], approve=broken)
    answer = await agents(agent.send_message, "Send 5.")
    assert seen == []
    assert (
        tool_messages(answer)
        and "approval callback failed (RuntimeError)" in tool_messages(answer)[0]
    )


async def test_a_policy_decides_without_asking(
    agents: AgentTwin, seen: list[tuple[str, Any]]
) -> None:
    def small(request: ApprovalRequest) -> ApprovalDecision:
        return "allow" if request.arguments["amount"] < 100 else "deny"

    asked: list[ApprovalRequest] = []
    transfer = transfer_tool(seen).with_options(require_approval=small)

    def approve(request: ApprovalRequest) -> bool:
        asked.append(request)
        return True

    agent = agents.agent(core_app=script(5), tools=[transfer], approve=approve)
    events = await agents.events(agent, "Send 5.")
    assert seen == [("transfer", 5)] and asked == []
    assert next(e for e in events if isinstance(e, ToolCallApproved)).decided_by == "policy"
    big = agents.agent(core_app=script(5000), tools=[transfer], approve=approve)
    events = await agents.events(big, "Send 5000.")
    assert seen == [("transfer", 5)] and asked == []
    assert next(e for e in events if isinstance(e, ToolCallDenied)).decided_by == "policy"


async def test_a_server_side_tool_the_server_parks_for_approval(
    agents: AgentTwin, echo_app: str, emulator: Emulator
) -> None:
    echo = app_tool("echo", f"{echo_app}@latest", require_approval=True)
    core = scripted_core_app(call("echo", text="hi"), reply("Echoed."))
    before = len(emulator.tasks())
    asked: list[ApprovalRequest] = []

    def approve(request: ApprovalRequest) -> bool:
        asked.append(request)
        return True

    answer = await agents(
        agents.agent(core_app=core, tools=[echo], approve=approve).send_message, "Echo hi."
    )
    assert [(r.tool_name, r.kind, r.tool) for r in asked] == [("echo", "app", echo)]
    assert answer.text == "Echoed." and json.loads(tool_messages(answer)[0]) == {"echo": "hi"}
    assert len(emulator.tasks()) == before + 1
    refused = await agents(agents.agent(core_app=core, tools=[echo]).send_message, "Echo hi.")
    assert len(emulator.tasks()) == before + 1  # refused: the app never ran
    assert "nobody was asked" in tool_messages(refused)[0]


@pytest.mark.parametrize("flavour", ["sync"])
async def test_the_sync_client_refuses_async_callbacks_before_the_run(
    agents: AgentTwin, seen: list[tuple[str, Any]]
) -> None:
    async def approve(request: ApprovalRequest) -> bool:
        return True

    with pytest.raises(UsageError, match="cannot await the approval callback"):
        agents.agent(core_app=script(), tools=[transfer_tool(seen)], approve=approve)

    @tool
    async def fetch(url: str) -> str:
        """Fetch."""
        return url

    with pytest.raises(UsageError, match="cannot await tool 'fetch'"):
        agents.agent(core_app=script(), tools=[fetch])
    agent = agents.agent(core_app=script(), tools=[transfer_tool(seen)])
    with pytest.raises(UsageError, match="the approval callback"):
        agent.stream("x", approve=approve)


async def test_a_resumed_turn_never_asks_again(
    agents: AgentTwin, seen: list[tuple[str, Any]]
) -> None:
    asked: list[str] = []

    def approve_once(request: ApprovalRequest) -> bool:
        asked.append("first")
        return True

    first = agents.agent(core_app=script(), tools=[transfer_tool(seen)], approve=approve_once)
    await agents.events_until(
        first, "Send 5.", lambda e: isinstance(e, ToolCallApproved), detach=True
    )
    assert asked == ["first"]

    def never(request: ApprovalRequest) -> bool:
        asked.append("again")
        return False

    later = agents.agent(
        core_app=script(), tools=[transfer_tool(seen)], approve=never, chat_id=first.chat_id
    )
    answer = await agents(later.resume)
    assert asked == ["first"]  # the server kept the decision
    assert answer.text == "Done." and seen == [("transfer", 5)]


@pytest.mark.parametrize("flavour", ["asyncio", "trio"])
async def test_calls_of_one_turn_each_go_on_their_own(agents: AgentTwin) -> None:
    import anyio

    ungated_done = anyio.Event()

    @tool(require_approval=True)
    async def gated() -> str:
        """Needs approval."""
        return "gated ran"

    @tool
    async def free() -> str:
        """Needs nothing."""
        ungated_done.set()
        return "free ran"

    async def approve(request: ApprovalRequest) -> bool:
        await ungated_done.wait()  # only answers once the other call has run
        return True

    from inferencesh.testing import calls as batch

    agent = agents.agent(
        core_app=scripted_core_app(batch(call("gated"), call("free")), reply("Both.")),
        tools=[gated, free],
        approve=approve,
    )
    answer = await agent.send_message("Go.", wait_timeout=30)
    assert answer.text == "Both."
    assert sorted(tool_messages(answer)) == ["free ran", "gated ran"]
