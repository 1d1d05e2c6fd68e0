"""The turn machine: follower items become each event once, and the jobs the runner owes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inferencesh._config import ClientOptions
from inferencesh._protocol import follow as w
from inferencesh._protocol.chat_view import InvocationDue, MessageChanged, RunChanged
from inferencesh._protocol.chat_watch import ChatWatch
from inferencesh.agent import (
    AgentEvent,
    ApprovalRequested,
    ErrorEvent,
    MessageCompleted,
    MessageDelta,
    ToolCallApproved,
    ToolCallCompleted,
    ToolCallDenied,
    ToolCallFailed,
    ToolCallRequested,
    TurnFinished,
)
from inferencesh.agent._execute import execute_sync
from inferencesh.agent.dispatch import ApprovalOutcome, ToolOutcome, decide_approval, run_tool
from inferencesh.agent.machine import DecideApproval, RunTool, Turn
from inferencesh.models.chat import AgentRun, ChatMessage
from inferencesh.tools import ApprovalRequest, app_tool, tool

FIXTURES = Path(__file__).parents[1] / "fixtures" / "protocol"
OPTS = ClientOptions(api_key="k", base_url="http://api.test")


def lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


@tool
def get_weather(city: str) -> dict[str, Any]:
    """Get the weather."""
    return {"temp_c": 18, "conditions": "cloudy"}


generate_image = app_tool("generate_image", "infsh/flux@1", require_approval=True)


def drive(
    watch: ChatWatch, turn: Turn, stream: list[dict[str, Any]], approve: Any = None
) -> list[AgentEvent]:
    """What the runner does, in one thread: events out, jobs run, outcomes posted (here: told)."""
    events: list[AgentEvent] = []
    for line in stream:
        for item in watch.on_lines([line]):
            new, jobs = turn.on_item(item)
            events += new
            for job in jobs:
                if isinstance(job, RunTool):
                    outcome = execute_sync(run_tool(job.invocation, job.tool, chat_id=turn.chat_id))
                    events += turn.on_tool_outcome(outcome)
                    events += turn.on_tool_outcome(outcome)  # told twice: still one event
                    invocation_id = outcome.invocation_id
                else:
                    decision = execute_sync(decide_approval(job.request, approve))
                    events += turn.on_approval_outcome(decision)
                    invocation_id = decision.invocation_id
                watch.settle(invocation_id)
    return events


def confirm(watch: ChatWatch, turn: Turn, chat: dict[str, Any]) -> list[AgentEvent]:
    """What the driver does once the stream says the turn is over: fetch, and apply.

    (Nothing, when the stream showed the whole turn: it ended there.)
    """
    assert watch.finished
    action = watch.on_stream_end()
    if isinstance(action, w.Finished):
        return []
    assert isinstance(action, w.Fetch)
    items, _ = watch.on_fetched(chat)
    return [event for item in items for event in turn.on_item(item)[0]]


def last_chat(stream: list[dict[str, Any]]) -> dict[str, Any]:
    chat = next(line["data"] for line in reversed(stream) if line.get("event") == "chats")
    messages = {
        line["data"]["id"]: line["data"] for line in stream if line.get("event") == "chat_messages"
    }
    return {**chat, "chat_messages": list(messages.values())}


def test_client_tool_turn_events_each_once_even_when_the_stream_replays() -> None:
    watch = ChatWatch(OPTS, "chat_4b1e8d", run_id="run_5d2e90", assistant_message_id="msg_a1c4")
    turn = Turn(agent="assistant", chat_id="chat_4b1e8d", tools={"get_weather": get_weather})
    stream = lines("chat-stream-client-tool.ndjson")
    events = drive(watch, turn, stream[:14]) + drive(watch, turn, stream)  # cut, then replayed
    events += confirm(watch, turn, last_chat(stream))
    assert [e.type for e in events] == [
        "message.delta",
        "message.delta",
        "message.delta",
        "message.delta",
        "tool_call.requested",
        "message.completed",
        "tool_call.completed",
        "message.delta",
        "message.delta",
        "message.completed",
        "turn.finished",
    ]
    assert all(
        (e.agent, e.chat_id, e.parent_chat_id) == ("assistant", "chat_4b1e8d", None) for e in events
    )
    deltas = [e for e in events if isinstance(e, MessageDelta)]
    assert (
        "".join(d.text for d in deltas)
        == "Let me check the weather.It's 18 °C and cloudy in Paris right now."
    )
    requested = next(e for e in events if isinstance(e, ToolCallRequested))
    assert (
        requested.invocation_id,
        requested.call_id,
        requested.name,
        requested.arguments,
        requested.kind,
    ) == (
        "tinv_7c3a",
        "toolu_01",
        "get_weather",
        {"city": "Paris"},
        "client",
    )
    completed = next(e for e in events if isinstance(e, ToolCallCompleted))
    assert completed.result == '{"temp_c":18,"conditions":"cloudy"}'
    finished = events[-1]
    assert isinstance(finished, TurnFinished) and finished.chat.status == "idle" and turn.finished
    assert turn.text == "It's 18 °C and cloudy in Paris right now."
    last = [e for e in events if isinstance(e, MessageCompleted)][-1]
    assert last.text == turn.text
    assert [m.id for m in turn.messages.values()] == ["msg_a1c4", "msg_t1e2", "msg_a2f9"]


def test_a_local_failure_is_told_as_a_failure_even_if_the_server_echo_comes_first() -> None:
    turn = Turn(agent="a", chat_id="c")
    message = ChatMessage.model_validate(
        {
            "id": "m",
            "role": "assistant",
            "status": "ready",
            "tool_invocations": [
                {
                    "id": "i1",
                    "status": "awaiting_input",
                    "function": {"name": "nope", "arguments": {}},
                }
            ],
        }
    )
    events, _ = turn.on_item(MessageChanged(message))
    assert [e.type for e in events] == ["tool_call.requested", "message.completed"]
    outcome = execute_sync(run_tool(message.tool_invocations[0], None))
    failed = turn.on_tool_outcome(outcome)
    assert [(e.type, e.reason) for e in failed if isinstance(e, ToolCallFailed)] == [
        ("tool_call.failed", "not_available")
    ]
    echo = message.model_copy(deep=True)
    echo.tool_invocations[0].status = "completed"
    echo.tool_invocations[0].result = outcome.output
    assert turn.on_item(MessageChanged(echo))[0] == []


def test_server_tool_approval_turn() -> None:
    watch = ChatWatch(OPTS, "chat_9a3c5e", run_id="run_8e4b21")
    turn = Turn(agent="assistant", chat_id="chat_9a3c5e", tools={"generate_image": generate_image})
    asked: list[ApprovalRequest] = []

    def approve(request: ApprovalRequest) -> bool:
        asked.append(request)
        return True

    stream = lines("chat-stream-approval.ndjson")
    events = drive(watch, turn, stream, approve)
    events += confirm(watch, turn, last_chat(stream))
    assert [e.type for e in events] == [
        "tool_call.requested",
        "message.completed",
        "approval.requested",
        "tool_call.approved",
        "tool_call.completed",
        "message.completed",
        "turn.finished",
    ]
    request = next(e for e in events if isinstance(e, ApprovalRequested)).request
    assert asked == [request]
    assert (request.tool_name, request.kind, request.tool, request.invocation_id) == (
        "generate_image",
        "app",
        generate_image,
        "tinv_9d1b",
    )
    assert (request.arguments, request.chat_id, request.agent) == (
        {"prompt": "a red fox in snow"},
        "chat_9a3c5e",
        "assistant",
    )
    assert request.invocation is not None and request.invocation.status == "awaiting_approval"
    approved = next(e for e in events if isinstance(e, ToolCallApproved))
    assert approved.decided_by == "callback"
    done = next(e for e in events if isinstance(e, ToolCallCompleted))
    assert (done.kind, done.result) == (
        "app",
        '{"image":"https://files.example.com/team_5k2m8q/out/fox.png"}',
    )


def test_a_denied_call_is_denied_once_and_not_also_failed() -> None:
    turn = Turn(agent="a", chat_id="c", tools={"generate_image": generate_image})
    parked = ChatMessage.model_validate(
        {
            "id": "m",
            "role": "assistant",
            "status": "ready",
            "tool_invocations": [
                {
                    "id": "i1",
                    "type": "",
                    "status": "awaiting_approval",
                    "function": {"name": "generate_image"},
                }
            ],
        }
    )
    events, _ = turn.on_item(MessageChanged(parked))
    assert (
        next(e for e in events if isinstance(e, ToolCallRequested)).kind == "app"
    )  # from the tool
    events, jobs = turn.on_item(InvocationDue(parked.tool_invocations[0], "approval"))
    assert [e.type for e in events] == ["approval.requested"]
    assert isinstance(jobs[0], DecideApproval)
    decision = execute_sync(decide_approval(jobs[0].request, None))
    denied = turn.on_approval_outcome(decision)
    assert [(e.type, e.decided_by) for e in denied if isinstance(e, ToolCallDenied)] == [
        ("tool_call.denied", "runner")
    ]
    echo = parked.model_copy(deep=True)
    echo.tool_invocations[0].status = "failed"
    echo.tool_invocations[0].result = decision.reason
    assert turn.on_item(MessageChanged(echo))[0] == []
    policy = turn.on_approval_outcome(
        ApprovalOutcome(invocation_id="i2", name="x", approved=True, decided_by="policy")
    )
    assert isinstance(policy[0], ToolCallApproved) and policy[0].decided_by == "policy"


def test_server_side_failures_and_run_errors() -> None:
    turn = Turn(agent="a", chat_id="c", parent_chat_id="outer")
    message = ChatMessage.model_validate(
        {
            "id": "m",
            "role": "assistant",
            "status": "pending",
            "tool_invocations": [
                {"id": "i1", "type": "app", "status": "failed", "function": {"name": "render"}},
                {
                    "id": "i2",
                    "type": "hook",
                    "status": "cancelled",
                    "result": "stopped",
                    "function": {"name": "ping"},
                },
            ],
        }
    )
    events, _ = turn.on_item(MessageChanged(message))
    failed = [e for e in events if isinstance(e, ToolCallFailed)]
    assert [(f.name, f.error, f.reason, f.kind) for f in failed] == [
        ("render", "the call was failed", "server", "app"),
        ("ping", "stopped", "server", "hook"),
    ]
    assert all(e.parent_chat_id == "outer" for e in events)
    assert not any(isinstance(e, MessageCompleted) for e in events)  # still pending
    run = AgentRun(id="r", state="failed", error="model overloaded")
    errors, _ = turn.on_item(RunChanged(run))
    assert [(e.type, e.message) for e in errors if isinstance(e, ErrorEvent)] == [
        ("error", "model overloaded")
    ]
    assert turn.on_item(RunChanged(run)) == ([], [])
    assert turn.on_item(RunChanged(AgentRun(id="r2", state="working"))) == ([], [])
    silent, _ = turn.on_item(RunChanged(AgentRun(id="r3", state="failed")))
    assert isinstance(silent[0], ErrorEvent) and silent[0].message == "the agent's run failed"
    assert turn.text == ""


def test_a_client_call_named_only_by_an_interrupt_is_requested_and_run() -> None:
    turn = Turn(agent="a", chat_id="c", tools={"get_weather": get_weather})
    due = InvocationDue(
        invocation=ChatMessage.model_validate(
            {
                "id": "m",
                "tool_invocations": [
                    {
                        "id": "i9",
                        "type": "client",
                        "status": "awaiting_input",
                        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                    }
                ],
            }
        ).tool_invocations[0],
        phase="input",
    )
    events, jobs = turn.on_item(due)
    assert [(e.type, getattr(e, "arguments", None)) for e in events] == [
        ("tool_call.requested", {"city": "Rome"})
    ]
    assert jobs == [RunTool(due.invocation, get_weather)]
    outcome = execute_sync(run_tool(due.invocation, get_weather))
    assert outcome == ToolOutcome(
        invocation_id="i9", name="get_weather", output='{"temp_c":18,"conditions":"cloudy"}'
    )
    unknown = InvocationDue(due.invocation.model_copy(update={"id": "i10", "type": ""}), "input")
    events, _ = turn.on_item(unknown)
    assert isinstance(events[0], ToolCallRequested) and events[0].kind == "client"
    ghost = InvocationDue(
        due.invocation.model_copy(
            update={
                "id": "i11",
                "type": "",
                "function": due.invocation.function.model_copy(update={"name": "ghost"}),
            }
        ),
        "input",
    )
    events, _ = turn.on_item(ghost)
    assert isinstance(events[0], ToolCallRequested) and events[0].kind == ""


def test_the_sub_agent_chats_of_the_turn_are_followed_once_each() -> None:
    from inferencesh._protocol.chat_view import ChatChanged
    from inferencesh.agent.machine import FollowChild
    from inferencesh.models.chat import Chat

    turn = Turn(agent="lead", chat_id="chat_p")
    asked = ChatMessage.model_validate(
        {
            "id": "msg_1",
            "chat_id": "chat_p",
            "role": "assistant",
            "tool_invocations": [
                {
                    "id": "tinv_r",
                    "type": "agent",
                    "status": "in_progress",
                    "function": {"name": "research"},
                    "execution_id": "chat_done",
                },
                {
                    "id": "tinv_s",
                    "type": "agent",
                    "status": "in_progress",
                    "function": {"name": "summarize"},
                    "execution_id": "chat_nameless",
                },
            ],
        }
    )
    turn.on_item(MessageChanged(asked))

    def child(chat_id: str, *, status: str, **extra: Any) -> Any:
        run = {"id": f"run_{chat_id}", "state": "working" if status == "busy" else "completed"}
        return {"id": chat_id, "status": status, "parent_id": "chat_p", "active_run": run, **extra}

    chat = Chat.model_validate(
        {
            "id": "chat_p",
            "status": "busy",
            "children": [
                child("chat_done", status="idle", name="researcher"),
                child("chat_nameless", status="busy"),
                child(
                    "chat_unlinked", status="busy", agent={"namespace": "acme", "name": "helper"}
                ),
                child("chat_old", status="idle"),
            ],
        }
    )
    events, jobs = turn.on_item(ChatChanged(chat))
    assert events == []
    assert jobs == [
        FollowChild(chat.children[0], "researcher", "tinv_r"),  # named by a call, though ended
        FollowChild(chat.children[1], "summarize", "tinv_s"),  # no name: its call's
        FollowChild(chat.children[2], "acme/helper", None),  # named by none, but running now
    ]
    assert turn.on_item(ChatChanged(chat)) == ([], [])  # each is followed once
    # A call that names its chat after the chat was seen: followed then.
    late = Chat.model_validate(
        {**chat.model_dump(), "children": [child("chat_late", status="idle")]}
    )
    assert turn.on_item(ChatChanged(late)) == ([], [])
    naming = asked.model_copy(
        update={
            "id": "msg_2",
            "tool_invocations": [
                asked.tool_invocations[0].model_copy(
                    update={"id": "tinv_l", "execution_id": "chat_late"}
                )
            ],
        }
    )
    events, jobs = turn.on_item(MessageChanged(naming))
    assert jobs == [FollowChild(late.children[0], "research", "tinv_l")]
