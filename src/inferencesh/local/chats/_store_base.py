"""The state and the private moves of `ChatStore` (every method here runs under its lock)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from inferencesh.local.chats._config import AgentConfig
from inferencesh.local.chats._conversation import copy_message
from inferencesh.local.chats._records import (
    Chat,
    Invocation,
    Run,
    base_dto,
)
from inferencesh.local.core._envelope import ApiError
from inferencesh.local.core._ids import Clock, new_id
from inferencesh.local.core._json import dumps
from inferencesh.local.core._streams import DEFAULT_MAX_BUFFERED, StreamItem, Topic

__all__ = ["Followup", "Plan", "StoreBase", "line"]


@dataclass(frozen=True, kw_only=True)
class Followup:
    """Call the model again for `run_id`: every tool call of its step has ended."""

    run_id: str


@dataclass(kw_only=True)
class Plan:
    """What the engine should start after a change."""

    server: list[str] = field(default_factory=list[str])
    """Invocations of server-side tools to run now."""
    timeouts: list[tuple[str, float]] = field(default_factory=list[tuple[str, float]])
    """Approvals to deny after so many seconds."""
    followup: Followup | None = None


def line(event: str, data: Mapping[str, Any]) -> StreamItem:
    """One typed stream event."""
    return StreamItem(dumps({"event": event, "data": data}))


class StoreBase:
    """Indexes of chats, runs, invocations and interrupts, and how they change."""

    def __init__(
        self,
        *,
        clock: Clock,
        max_chats: int = 1000,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        if max_chats < 1:
            raise ValueError(f"max_chats must be >= 1, got {max_chats}")
        self.clock = clock
        self.max_chats = max_chats
        """Chats kept; past it the oldest idle chats are forgotten."""
        self._on_change = on_change
        self.on_stream_open: Callable[[str], None] = lambda chat_id: None
        """Called (outside the lock) when a stream starts following a chat."""
        self.on_run_end: Callable[[str], None] = lambda run_id: None
        """Called (under the lock, so it must not block) when a run ends."""
        self._lock = threading.RLock()
        self._chats: dict[str, Chat] = {}
        self._runs: dict[str, Run] = {}
        self._invocations: dict[str, Invocation] = {}
        self._interrupts: dict[str, tuple[Chat, dict[str, Any]]] = {}
        self._seq = 0
        self.max_stream_buffer: int | None = DEFAULT_MAX_BUFFERED
        """Bytes a chat stream may fall behind before it is dropped (for chats made later)."""

    # -- lookups (404s) ----------------------------------------------------------------------

    def _chat(self, chat_id: str) -> Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ApiError(404, "not_found", f"chat {chat_id} not found")
        return chat

    def _message(self, chat: Chat, message_id: str) -> dict[str, Any]:
        for message in reversed(chat.messages):
            if message["id"] == message_id:
                return message
        raise KeyError(message_id)

    def _invocation(self, invocation_id: str) -> Invocation:
        invocation = self._invocations.get(invocation_id)
        if invocation is None:
            raise ApiError(404, "not_found", f"tool invocation {invocation_id} not found")
        return invocation

    def _awaiting_approval(self, invocation_id: str) -> Invocation:
        invocation = self._invocation(invocation_id)
        if invocation.status != "awaiting_approval":
            raise ApiError(
                409,
                "invalid_transition",
                f"tool invocation {invocation_id} is {invocation.status}; only an invocation "
                "awaiting approval can be approved or rejected",
                extra={"current_status": invocation.status},
            )
        return invocation

    # -- DTOs ------------------------------------------------------------------------------

    def _chat_dto(self, chat: Chat, *, messages: bool, children: bool = True) -> dict[str, Any]:
        run = chat.last_run
        dto: dict[str, Any] = {
            **chat.dto,
            "context": dict(chat.dto["context"]),
            "agent_data": _copy_data(chat.dto["agent_data"]),
            "status": chat.status(),
            "active_run": None if run is None else dict(run.dto),
            "pending_interrupts": chat.pending_interrupts(),
            "children": [],
        }
        if children:
            dto["children"] = [
                self._chat_dto(self._chats[c], messages=False, children=False)
                for c in chat.children
                if c in self._chats
            ]
        if messages:
            dto["chat_messages"] = [copy_message(m) for m in chat.messages]
        return dto

    # -- creating --------------------------------------------------------------------------

    def _new_chat(
        self, config: AgentConfig, agent: Mapping[str, Any], parent_id: str | None
    ) -> Chat:
        now = self.clock.now_iso()
        chat_id = new_id("chat")
        dto: dict[str, Any] = {
            **base_dto(chat_id, "chat", now),
            "parent_id": parent_id,
            "status": "idle",
            "output": None,
            "context": {},
            "agent_id": agent.get("agent_id"),
            "agent_version_id": agent.get("agent_version_id"),
            "name": config.name,
            "description": config.description,
            "agent_data": {"plan_steps": [], "memory": {}, "always_allowed_tools": []},
            "work_dir": "",
        }
        if agent.get("agent"):
            dto["agent"] = agent["agent"]
        self._seq += 1
        chat = Chat(dto=dto, config=config, seq=self._seq, topic=Topic(self.max_stream_buffer))
        self._chats[chat_id] = chat
        return chat

    def _add_message(
        self,
        chat: Chat,
        run: Run,
        role: str,
        content: list[dict[str, Any]],
        status: str,
        **extra: Any,
    ) -> dict[str, Any]:
        message_id = new_id("msg")
        message: dict[str, Any] = {
            **base_dto(message_id, "msg", self.clock.now_iso()),
            "chat_id": chat.id,
            "agent_run_id": run.id,
            "order": len(chat.messages) + 1,
            "status": status,
            "role": role,
            "content": content,
            **extra,
        }
        chat.messages.append(message)
        return message

    def _new_invocation(
        self,
        chat: Chat,
        run: Run,
        message_id: str,
        call_id: str,
        name: str,
        arguments: dict[str, Any],
    ) -> Invocation:
        tool = chat.config.tool(name)
        invocation_id = new_id("tinv")
        dto: dict[str, Any] = {
            **base_dto(invocation_id, "tinv", self.clock.now_iso()),
            "chat_message_id": message_id,
            "tool_invocation_id": call_id,
            "type": tool.kind if tool is not None else "internal",
            "display_name": tool.display_name if tool is not None else name,
            "function": {"name": name, "arguments": arguments},
            "status": "pending",
        }
        invocation = Invocation(
            dto=dto, tool=tool, chat_id=chat.id, run_id=run.id, message_id=message_id
        )
        self._invocations[invocation_id] = invocation
        return invocation

    # -- publishing ------------------------------------------------------------------------

    def _touch(self, chat: Chat) -> None:
        chat.dto["updated_at"] = self.clock.now_iso()

    def _publish(self, chat: Chat, message: dict[str, Any]) -> None:
        chat.topic.publish(line("chat_messages", message))
        self._on_change()

    def _publish_run(self, chat: Chat, run: Run) -> None:
        chat.topic.publish(line("agent_runs", run.dto))
        self._publish_chat(chat)

    def _publish_chat(self, chat: Chat) -> None:
        chat.topic.publish(line("chats", self._chat_dto(chat, messages=False)))
        self._on_change()

    def _evict(self) -> None:
        """Forget the oldest idle chats past `max_chats` (busy chats are kept)."""
        excess = len(self._chats) - self.max_chats
        if excess <= 0:
            return
        # Oldest first, and stop at the last one needed: the old end is nearly all idle, and
        # checking every kept chat on each new one cost more than the rest of a turn's bookkeeping.
        victims: list[Chat] = []
        for chat in self._chats.values():
            if not chat.busy:
                victims.append(chat)
                if len(victims) == excess:
                    break
        for chat in victims:
            del self._chats[chat.id]
            for run in chat.runs:
                self._runs.pop(run.id, None)
            for message in chat.messages:
                invocations: list[dict[str, Any]] = message.get("tool_invocations") or []
                for invocation in invocations:
                    self._invocations.pop(invocation["id"], None)
            for interrupt in chat.interrupts:
                self._interrupts.pop(interrupt["id"], None)
            chat.topic.close()


def _copy_data(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **data,
        "plan_steps": [dict(s) for s in data.get("plan_steps", [])],
        "memory": dict(data.get("memory", {})),
        "always_allowed_tools": list(data.get("always_allowed_tools", [])),
    }
