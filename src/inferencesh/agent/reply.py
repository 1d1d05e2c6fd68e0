"""What a finished turn gives back: the answer, the turn's messages and its tool calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inferencesh.agent.machine import Turn
from inferencesh.models.chat import Chat, ChatMessage

__all__ = ["AgentReply", "ToolCallRecord", "reply_of"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCallRecord:
    """One tool call of the turn, as it ended."""

    invocation_id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict[str, Any])
    kind: str = "client"
    status: str = ""
    """`completed`, `failed`, `cancelled`, ... (the server's last word on the call)."""
    result: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentReply:
    """The end of one turn: `text` is the agent's answer."""

    text: str
    """The text of the turn's last assistant message."""
    chat_id: str
    messages: list[ChatMessage] = field(default_factory=list[ChatMessage])
    """The turn's messages (assistant and tool), in order."""
    tool_calls: list[ToolCallRecord] = field(default_factory=list[ToolCallRecord])
    chat: Chat | None = None
    """The chat as the turn ended."""
    paused: bool = False
    """The run waits for something this SDK cannot give (a widget, a sign-in)."""

    @property
    def output(self) -> Any:
        """The structured result, when the agent produced one (`run(output_type=...)`)."""
        return self.chat.output if self.chat is not None else None


def reply_of(turn: Turn) -> AgentReply:
    """The reply of a turn that ended (or of what was seen of it)."""
    messages = sorted(turn.messages.values(), key=lambda m: m.order)
    calls = [
        ToolCallRecord(
            invocation_id=i.id,
            name=i.name,
            arguments=i.function.argument_object(),
            kind=i.type,
            status=i.status,
            result=i.result,
        )
        for m in messages
        for i in m.tool_invocations
    ]
    return AgentReply(
        text=turn.text,
        chat_id=turn.chat_id,
        messages=messages,
        tool_calls=calls,
        chat=turn.chat,
        paused=turn.paused,
    )
