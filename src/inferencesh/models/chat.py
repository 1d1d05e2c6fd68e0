"""Chats with agents: the chat, its messages, tool invocations, interrupts and agent runs.

Statuses and states are plain strings (the server may add new ones); the constants below list
the values this SDK acts on.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, TypeAlias

from pydantic import Field, field_validator

from inferencesh.models._base import APIModel

__all__ = [
    "ACTIVE_RUN_STATES",
    "BUSY_CHAT_STATUSES",
    "FINAL_MESSAGE_STATUSES",
    "SETTLED_INVOCATION_STATUSES",
    "AgentRun",
    "Chat",
    "ChatMessage",
    "ChatStatus",
    "ChatStatusInfo",
    "Interrupt",
    "MessageContent",
    "ToolCall",
    "ToolCallFunction",
    "ToolInvocation",
    "TurnResponse",
]

ChatStatus: TypeAlias = Literal["busy", "idle", "awaiting_input", "waiting", "completed"]
"""The chat statuses the protocol names (others are kept as they come)."""

BUSY_CHAT_STATUSES = frozenset({"busy", "awaiting_input", "waiting"})
"""Chat statuses in which a turn is still going on."""
ACTIVE_RUN_STATES = frozenset({"submitted", "working", "input_required", "auth_required"})
"""Agent run states in which the run is not over."""
FINAL_MESSAGE_STATUSES = frozenset({"ready", "failed", "cancelled"})
"""Message statuses after which the message no longer changes (its deltas are done)."""
SETTLED_INVOCATION_STATUSES = frozenset({"completed", "failed", "cancelled"})
"""Tool invocation statuses after which the call has its result."""


def _null_is_empty_list(value: object) -> object:
    return [] if value is None else value


class ToolCallFunction(APIModel):
    """The function a model called: its name and arguments."""

    name: str = ""
    arguments: Any = None
    """A JSON object as the server sends it (a JSON string from some servers)."""

    def argument_object(self) -> dict[str, Any]:
        """The arguments as a dict (`{}` unless they are a JSON object, or the text of one).

        `arguments` keeps the raw value, which the tool's validator reports to the model.
        """
        raw = self.arguments
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                return {}
        if isinstance(raw, dict):
            return dict(raw)  # pyright: ignore[reportUnknownArgumentType]
        return {}


class ToolCall(APIModel):
    """One call inside a message's `tool` content block."""

    id: str = ""
    type: str = "function"
    function: ToolCallFunction = Field(default_factory=ToolCallFunction)


class MessageContent(APIModel):
    """One block of a message: text, reasoning, an image, a file, tool calls or an event."""

    type: str = "text"
    text: str | None = None
    error: str | None = None
    image: Any = None
    file: Any = None
    tool_calls: list[ToolCall] = Field(default_factory=list[ToolCall])
    event: Any = None

    _null_lists = field_validator("tool_calls", mode="before")(_null_is_empty_list)


class ToolInvocation(APIModel):
    """The server's record of one tool call; `id` is what `/tools/{id}` takes."""

    id: str
    tool_invocation_id: str = ""
    """The model's call id (a tool message's `tool_call_id` points at it)."""
    chat_message_id: str = ""
    type: str = "client"
    """`client` runs in the SDK; `app`, `agent`, `hook`, `http`, `mcp`, ... on the server."""
    display_name: str | None = None
    action: str | None = None
    execution_id: str | None = None
    function: ToolCallFunction = Field(default_factory=ToolCallFunction)
    status: str = "pending"
    """`pending`, `in_progress`, `awaiting_input`, `awaiting_approval`, `waiting`,
    `completed`, `failed` or `cancelled`."""
    result: str | None = None
    data: Any = None
    widget: Any = None

    @property
    def name(self) -> str:
        """The tool's name, as the model called it."""
        return self.function.name

    @property
    def is_settled(self) -> bool:
        """Whether the call has its result (completed, failed or cancelled)."""
        return self.status in SETTLED_INVOCATION_STATUSES


class ChatMessage(APIModel):
    """One message of a chat (user, assistant, tool, ...)."""

    id: str
    chat_id: str = ""
    agent_run_id: str | None = None
    order: int = 0
    status: str = "pending"
    """`pending`, `queued`, `ready`, `failed` or `cancelled`."""
    role: str = "assistant"
    """`system`, `user`, `assistant`, `tool`, `injection`, `compaction` or `event`."""
    content: list[MessageContent] = Field(default_factory=list[MessageContent])
    tool_call_id: str | None = None
    tool_invocations: list[ToolInvocation] = Field(default_factory=list[ToolInvocation])
    task_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    _null_lists = field_validator("content", "tool_invocations", mode="before")(_null_is_empty_list)

    @property
    def text(self) -> str:
        """The text blocks of the message, joined."""
        return "".join(c.text for c in self.content if c.type == "text" and c.text)

    @property
    def is_final(self) -> bool:
        """Whether the message is done (ready, failed or cancelled)."""
        return self.status in FINAL_MESSAGE_STATUSES


class Interrupt(APIModel):
    """Something a run waits for: a tool approval, a client tool, a widget, a confirmation."""

    id: str
    run_id: str = ""
    chat_id: str = ""
    reason: str = ""
    """`wait`, `tool_approval`, `client_tool`, `widget`, `auth`, `confirmation`, `hook_gate`."""
    source: str = ""
    resource_id: str | None = None
    """For tool interrupts, the invocation's id."""
    resource_type: str | None = None
    status: str = "pending"
    resolution: str | None = None
    expires_at: datetime | None = None
    meta: dict[str, Any] = Field(default_factory=dict[str, Any])

    @field_validator("meta", mode="before")
    @classmethod
    def _meta_object(cls, value: object) -> object:
        # Some servers send `meta` as a JSON string; anything unreadable counts as empty.
        if value is None:
            return {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return {}
        return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


class AgentRun(APIModel):
    """One run of the agent on a chat (a turn, from the user's message to the answer)."""

    id: str
    chat_id: str = ""
    agent_id: str | None = None
    user_message_id: str | None = None
    state: str = "submitted"
    """`submitted`, `working`, `input_required`, `auth_required`, `completed`, `failed`,
    `canceled` or `rejected`."""
    error: str | None = None
    output: Any = None
    finished_at: datetime | None = None
    interrupt_reason: str | None = None
    tool_invocation_id: str | None = None

    @property
    def is_active(self) -> bool:
        """Whether the run is not over yet."""
        return self.state in ACTIVE_RUN_STATES


class Chat(APIModel):
    """A conversation with an agent."""

    id: str
    status: str = "idle"
    """`busy`, `idle`, `awaiting_input`, `waiting` or `completed`."""
    parent_id: str | None = None
    children: list[Chat] = Field(default_factory=list["Chat"])
    output: Any = None
    """The structured result, once the agent called its finish tool."""
    context: dict[str, Any] = Field(default_factory=dict[str, Any])
    agent_id: str | None = None
    name: str = ""
    description: str = ""
    chat_messages: list[ChatMessage] = Field(default_factory=list[ChatMessage])
    active_run: AgentRun | None = None
    pending_interrupts: list[Interrupt] = Field(default_factory=list[Interrupt])
    agent_data: Any = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    _null_lists = field_validator("children", "chat_messages", "pending_interrupts", mode="before")(
        _null_is_empty_list
    )

    @field_validator("context", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return {} if value is None else value

    @property
    def is_busy(self) -> bool:
        """Whether a turn is going on: the active run says so, else the chat's status."""
        if self.active_run is not None:
            return self.active_run.is_active
        return self.status in BUSY_CHAT_STATUSES


class ChatStatusInfo(APIModel):
    """The answer of `GET /chats/{id}/status`: cheap to poll."""

    id: str = ""
    status: str = ""
    updated_at: datetime | None = None


class TurnResponse(APIModel):
    """The answer of `POST /agents/run`: the user's message and the assistant's (pending)."""

    user_message: ChatMessage
    assistant_message: ChatMessage
