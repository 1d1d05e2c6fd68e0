"""What an agent's stream yields: typed events, each with a dotted `type` and its agent.

Every event says which agent it came from (`agent`, `chat_id`); events of a nested agent (a
sub-agent used as a tool) carry that agent's name and chat, and `parent_chat_id` points at the
chat that called it. The `type` strings are part of the public API and never change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from inferencesh.models.chat import Chat, ChatMessage
from inferencesh.tools import ApprovalRequest

__all__ = [
    "AgentEvent",
    "ApprovalRequested",
    "ErrorEvent",
    "MessageCompleted",
    "MessageDelta",
    "ToolCallApproved",
    "ToolCallCompleted",
    "ToolCallDenied",
    "ToolCallFailed",
    "ToolCallRequested",
    "TurnFinished",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Event:
    agent: str
    """The name of the agent the event came from (a sub-agent's, for nested agents)."""
    chat_id: str
    """The chat of that agent."""
    parent_chat_id: str | None = None
    """For a nested agent, the chat of the agent that called it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageDelta(_Event):
    """A piece of the reply as the model writes it (the full text follows in `MessageCompleted`)."""

    type: Literal["message.delta"] = "message.delta"
    message_id: str
    text: str = ""
    """New reply text (may be empty when the delta carried only reasoning or tool calls)."""
    reasoning: str = ""
    """New reasoning text, for models that stream it."""
    delta: dict[str, Any] = field(default_factory=dict[str, Any])
    """The raw delta, as the server sent it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageCompleted(_Event):
    """An assistant message is complete (ready, failed or cancelled)."""

    type: Literal["message.completed"] = "message.completed"
    message: ChatMessage

    @property
    def text(self) -> str:
        """The message's text."""
        return self.message.text


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCallRequested(_Event):
    """The model called a tool."""

    type: Literal["tool_call.requested"] = "tool_call.requested"
    invocation_id: str
    """The server's id of the call (what results and approvals are posted to)."""
    call_id: str = ""
    """The model's own id of the call."""
    name: str
    arguments: dict[str, Any] = field(default_factory=dict[str, Any])
    kind: str = "client"
    """`client` runs in this process; `app`, `agent`, `hook`, `http`, `mcp`... on the server."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ApprovalRequested(_Event):
    """A call waits for an approval decision (the tool's policy, then the approval callback)."""

    type: Literal["approval.requested"] = "approval.requested"
    invocation_id: str
    name: str
    request: ApprovalRequest


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCallApproved(_Event):
    """A call was approved and may run."""

    type: Literal["tool_call.approved"] = "tool_call.approved"
    invocation_id: str
    name: str
    decided_by: Literal["policy", "callback"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCallDenied(_Event):
    """A call was refused; `reason` is what the model is told."""

    type: Literal["tool_call.denied"] = "tool_call.denied"
    invocation_id: str
    name: str
    reason: str
    decided_by: Literal["policy", "callback", "runner"]
    """`runner`: nobody decided (no callback, an error, a timeout), so it was refused."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCallCompleted(_Event):
    """A call produced its result (here for client tools, on the server for the others)."""

    type: Literal["tool_call.completed"] = "tool_call.completed"
    invocation_id: str
    name: str
    result: str
    kind: str = "client"


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCallFailed(_Event):
    """A call failed; `error` is what the model is told."""

    type: Literal["tool_call.failed"] = "tool_call.failed"
    invocation_id: str
    name: str
    error: str
    reason: Literal["not_available", "invalid_arguments", "tool_error", "exception", "server"]
    """Why: no such tool here, arguments the model must fix, a `ToolError`, another
    exception in the handler, or a failure the server reported (server-side tools)."""
    kind: str = "client"


@dataclass(frozen=True, kw_only=True, slots=True)
class TurnFinished(_Event):
    """The turn is over: the chat and its run say so and no call is left to answer."""

    type: Literal["turn.finished"] = "turn.finished"
    chat: Chat
    paused: bool = False
    """The run waits for something this SDK cannot give (e.g. a widget or a sign-in)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ErrorEvent(_Event):
    """The agent's run or one of its messages failed on the server."""

    type: Literal["error"] = "error"
    message: str


AgentEvent: TypeAlias = (
    MessageDelta
    | MessageCompleted
    | ToolCallRequested
    | ApprovalRequested
    | ToolCallApproved
    | ToolCallDenied
    | ToolCallCompleted
    | ToolCallFailed
    | TurnFinished
    | ErrorEvent
)
"""Any event an agent's stream yields; match on `type` (or the class)."""
