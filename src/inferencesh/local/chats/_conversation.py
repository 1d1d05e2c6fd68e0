"""A chat's messages as the conversation a model reads, and safe copies of messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inferencesh.local.models._base import ModelMessage, ToolCall

__all__ = ["conversation", "copy_message"]

_UNANSWERED = "The tool call was cancelled before it returned a result."


def copy_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A copy that later changes of the message do not touch.

    Content lists are replaced, never changed in place; invocations change in place.
    """
    out = {**message, "content": list(message["content"])}
    if "tool_invocations" in message:
        out["tool_invocations"] = [dict(i) for i in message["tool_invocations"]]
    return out


def _text(content: list[dict[str, Any]]) -> str:
    return "".join(str(c.get("text") or "") for c in content if c.get("type") == "text")


def conversation(messages: list[dict[str, Any]]) -> tuple[ModelMessage, ...]:
    """The chat as model messages: user and tool text, assistant text with its tool calls.

    Attachments are mentioned by uri. Assistant messages still pending, failed or cancelled
    are left out; a tool call that never got a result (its run was stopped) gets one saying
    so, since chat-completion APIs refuse a call without a result.
    """
    answered = {m.get("tool_call_id") for m in messages if m["role"] == "tool"}
    names: dict[str, str] = {}
    out: list[ModelMessage] = []
    for message in messages:
        role, content = message["role"], message["content"]
        if role == "user":
            text = _text(content)
            files = [str(c.get(c["type"])) for c in content if c.get("type") in ("image", "file")]
            if files:
                text += "".join(f"\n[attached: {uri}]" for uri in files)
            out.append(ModelMessage(role="user", content=text))
        elif role == "assistant" and message["status"] == "ready":
            calls: list[ToolCall] = []
            for part in content:
                raw_calls: list[dict[str, Any]] = part.get("tool_calls") or []
                for call in raw_calls:
                    function: dict[str, Any] = call["function"]
                    names[call["id"]] = function["name"]
                    calls.append(
                        ToolCall(
                            name=function["name"], arguments=function["arguments"], id=call["id"]
                        )
                    )
            out.append(
                ModelMessage(role="assistant", content=_text(content), tool_calls=tuple(calls))
            )
            for call in calls:
                if call.id not in answered:
                    out.append(
                        ModelMessage(
                            role="tool", content=_UNANSWERED, tool_call_id=call.id, name=call.name
                        )
                    )
        elif role == "tool":
            call_id = message.get("tool_call_id")
            text = _text(content)
            files = [str(c.get(c["type"])) for c in content if c.get("type") in ("image", "file")]
            text += "".join(f"\n[attached: {uri}]" for uri in files)
            out.append(
                ModelMessage(
                    role="tool", content=text, tool_call_id=call_id, name=names.get(call_id or "")
                )
            )
    return tuple(out)
