"""The one small interface every model of the emulator implements.

A model gets the conversation (`ModelRequest`: system prompt, messages, tool schemas, the
LLM settings of `core_app.input`) and answers one turn (`ModelReply`: text and/or tool
calls). While it works it may stream token deltas through `emit`, in the LLMDelta shape the
clients merge (`{"response": "..."}`, `{"tool_calls": [...]}`); deltas are cosmetic, the
reply is what counts.
"""

from __future__ import annotations

import json
import secrets
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "Emit",
    "Model",
    "ModelError",
    "ModelMessage",
    "ModelReply",
    "ModelRequest",
    "ToolCall",
    "ToolSpec",
    "json_list",
    "json_object",
    "new_call_id",
    "reply_from_turn",
    "stream_reply",
]

Emit = Callable[[dict[str, Any]], None]
"""Sends one LLMDelta to the chat's streams (thread-safe, never blocks)."""


class ModelError(Exception):
    """The model could not answer; the run fails with this message."""


@dataclass(frozen=True, kw_only=True)
class ToolCall:
    """A tool call the model made."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict[str, Any])
    id: str = ""
    """The model's call id (`tool_invocation_id` on the wire); the emulator fills it if empty."""


@dataclass(frozen=True, kw_only=True)
class ToolSpec:
    """A tool as the model sees it: a function name, a description and a JSON schema."""

    name: str
    description: str
    parameters: dict[str, Any]
    kind: str
    """`client`, `app`, `agent`, `hook`, `http`, `mcp` or `internal`."""


@dataclass(frozen=True, kw_only=True)
class ModelMessage:
    """One message of the conversation, in the shape chat-completion APIs take."""

    role: Literal["user", "assistant", "tool"]
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    """Calls the assistant made in this message."""
    tool_call_id: str | None = None
    """For `tool` messages: the call this result answers."""
    name: str | None = None
    """For `tool` messages: the tool's name."""


@dataclass(frozen=True, kw_only=True)
class ModelRequest:
    """Everything a model gets for one turn."""

    chat_id: str
    call_index: int
    """How many model calls this chat made before this one (0 for the first)."""
    system_prompt: str
    messages: tuple[ModelMessage, ...]
    tools: tuple[ToolSpec, ...]
    settings: Mapping[str, Any]
    """`core_app.input`: the LLM settings (temperature, ...) and, for `local/scripted`, `script`."""
    ref: str
    """The `core_app` ref the agent named."""
    output_schema: Mapping[str, Any] | None = None
    """The agent's `output_schema` (the `finish` tool takes it), if any."""

    def tool(self, name: str) -> ToolSpec | None:
        """The tool called `name`, if the agent has it."""
        return next((t for t in self.tools if t.name == name), None)

    @property
    def last_user_text(self) -> str:
        """The text of the latest user message ("" if none)."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return ""


@dataclass(frozen=True, kw_only=True)
class ModelReply:
    """One model turn: text, tool calls, or both."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: dict[str, int] | None = None


@runtime_checkable
class Model(Protocol):
    """What the emulator calls for each model turn of a chat."""

    async def complete(self, request: ModelRequest, emit: Emit) -> ModelReply:
        """Answer one turn; stream deltas through `emit` meanwhile (optional).

        Raises:
            ModelError: the turn failed (the agent run fails with the message).
        """
        ...


def reply_from_turn(turn: Mapping[str, Any], *, where: str = "turn") -> ModelReply:
    """A reply from the wire form of a model turn: `{"text": ..., "tool_calls": [...]}`.

    Each call is `{"name": ..., "arguments": {...}}` (arguments may be a JSON string).

    Raises:
        ModelError: the turn is malformed.
    """
    text = turn.get("text", "")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ModelError(f"{where}: text must be a string")
    raw_calls = json_list(turn.get("tool_calls") or [])
    if raw_calls is None:
        raise ModelError(f"{where}: tool_calls must be a list")
    calls: list[ToolCall] = []
    for i, raw in enumerate(raw_calls):
        call = json_object(raw)
        if call is None:
            raise ModelError(f"{where}: tool_calls[{i}] must be an object")
        name = call.get("name")
        if not isinstance(name, str) or not name:
            raise ModelError(f"{where}: tool_calls[{i}].name must be a non-empty string")
        raw_arguments: Any = call.get("arguments") or {}
        if isinstance(raw_arguments, str):
            try:
                raw_arguments = json.loads(raw_arguments) if raw_arguments.strip() else {}
            except ValueError as exc:
                raise ModelError(f"{where}: tool_calls[{i}].arguments is not JSON") from exc
        arguments = json_object(raw_arguments)
        if arguments is None:
            raise ModelError(f"{where}: tool_calls[{i}].arguments must be an object")
        call_id = str(call.get("id") or "") or new_call_id()
        calls.append(ToolCall(name=name, arguments=arguments, id=call_id))
    if not text and not calls:
        raise ModelError(f"{where}: a turn needs text or tool_calls")
    return ModelReply(text=text, tool_calls=tuple(calls))


def json_list(value: object) -> list[Any] | None:
    """`value` as a JSON array, or None if it is not one."""
    return typing.cast(list[Any], value) if isinstance(value, list) else None


def json_object(value: object) -> dict[str, Any] | None:
    """`value` as a JSON object (string keys), or None if it is not one."""
    if not isinstance(value, Mapping):
        return None
    return {str(k): v for k, v in typing.cast(Mapping[Any, Any], value).items()}


def new_call_id() -> str:
    """A fresh model call id, shaped like the ids LLM providers hand out."""
    return f"call_{secrets.token_hex(8)}"


def stream_reply(reply: ModelReply, emit: Emit, *, chunk: int = 24) -> None:
    """Emit `reply` as deltas, the way a streaming LLM would: text in pieces, then each call."""
    text = reply.text
    for start in range(0, len(text), chunk):
        emit({"response": text[start : start + chunk]})
    for index, call in enumerate(reply.tool_calls):
        emit(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                    }
                ]
            }
        )


def schema_text(tools: Sequence[ToolSpec]) -> str:
    """A compact listing of tools (for error messages)."""
    return ", ".join(t.name for t in tools) or "none"
