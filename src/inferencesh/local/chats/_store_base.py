"""The state and the private moves of `ChatStore` (every method here runs under its lock)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from inferencesh.local.chats._config import AgentConfig
from inferencesh.local.chats._conversation import copy_message
from inferencesh.local.chats._records import (
    INVOCATION_TERMINAL,
    Chat,
    Invocation,
    Run,
    base_dto,
    check_transition,
)
from inferencesh.local.core._envelope import ApiError
from inferencesh.local.core._ids import Clock, iso, new_id
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

    def _interrupt(
        self,
        chat: Chat,
        run: Run,
        invocation: Invocation,
        reason: str,
        source: str,
        timeout: float | None,
    ) -> None:
        now = self.clock.now()
        interrupt_id = new_id("int")
        function = invocation.dto["function"]
        interrupt: dict[str, Any] = {
            **base_dto(interrupt_id, "int", self.clock.now_iso()),
            "run_id": run.id,
            "chat_id": chat.id,
            "reason": reason,
            "source": source,
            "resource_id": invocation.id,
            "resource_type": "tool_invocation",
            "status": "pending",
            "meta": {
                "tool_invocation_id": invocation.id,
                "tool_name": function["name"],
                "arguments": function["arguments"],
            },
        }
        if timeout:
            interrupt["expires_at"] = iso(now + timedelta(seconds=timeout))
        chat.interrupts.append(interrupt)
        self._interrupts[interrupt_id] = (chat, interrupt)
        invocation.interrupt_id = interrupt_id

    def _close_interrupt(
        self, invocation: Invocation, status: str, resolution: str | None, data: Any = None
    ) -> None:
        if invocation.interrupt_id is None:
            return
        _chat, interrupt = self._interrupts[invocation.interrupt_id]
        if interrupt["status"] != "pending":
            return
        check_transition("interrupt", interrupt["id"], interrupt["status"], status)
        now = self.clock.now_iso()
        interrupt.update(status=status, updated_at=now, resolved_at=now)
        if resolution is not None:
            interrupt["resolution"] = resolution
        if data is not None:
            interrupt["resolved_data"] = data

    # -- invocations -------------------------------------------------------------------------

    def _move(self, invocation: Invocation, status: str) -> None:
        check_transition("tool invocation", invocation.id, invocation.status, status)
        invocation.dto["status"] = status
        invocation.dto["updated_at"] = self.clock.now_iso()

    def _settle(self, invocation: Invocation, status: str, result: str) -> None:
        self._move(invocation, status)
        invocation.dto["result"] = result

    def _finish(
        self,
        invocation: Invocation,
        status: str,
        result: str,
        attachments: list[dict[str, Any]] | None = None,
    ) -> Followup | None:
        """End an invocation; its tool message; the run's next step if it was the last one."""
        self._settle(invocation, status, result)
        self._close_interrupt(invocation, "resolved", "allow" if status == "completed" else "deny")
        chat = self._chats[invocation.chat_id]
        run = self._runs[invocation.run_id]
        self._publish(chat, self._message(chat, invocation.message_id))
        self._add_tool_message(chat, run, invocation, attachments)
        self._refresh_run(chat, run)
        return self._step_done(chat, run)

    def _add_tool_message(
        self,
        chat: Chat,
        run: Run,
        invocation: Invocation,
        attachments: list[dict[str, Any]] | None = None,
    ) -> None:
        content: list[dict[str, Any]] = [{"type": "text", "text": invocation.dto.get("result", "")}]
        for file in attachments or []:
            kind = "image" if str(file.get("content_type", "")).startswith("image/") else "file"
            content.append({"type": kind, kind: file.get("uri", "")})
        message = self._add_message(
            chat,
            run,
            "tool",
            content,
            "ready",
            tool_call_id=invocation.dto["tool_invocation_id"],
        )
        self._publish(chat, message)

    def _allow(self, invocation: Invocation) -> Plan:
        chat = self._chats[invocation.chat_id]
        run = self._runs[invocation.run_id]
        self._close_interrupt(invocation, "resolved", "allow")
        plan = Plan()
        if invocation.dto["type"] == "client":
            self._move(invocation, "awaiting_input")
            self._interrupt(chat, run, invocation, "client_tool", "agent", None)
        else:
            self._move(invocation, "in_progress")
            plan.server.append(invocation.id)
        self._publish(chat, self._message(chat, invocation.message_id))
        self._refresh_run(chat, run)
        return plan

    def _deny(self, invocation: Invocation, how: str, reason: str) -> Followup | None:
        self._close_interrupt(invocation, how, "deny", {"reason": reason} if reason else None)
        why = reason.strip() or "no reason given"
        text = f"The user did not approve this tool call ({why}); it was not run."
        if how == "expired":
            text = f"This tool call was not approved in time ({why}); it was not run."
        return self._finish(invocation, "failed", text)

    def _always_allowed(self, chat: Chat, tool: str) -> bool:
        return chat.config.allow_all_tools or tool in chat.dto["agent_data"].get(
            "always_allowed_tools", []
        )

    # -- runs --------------------------------------------------------------------------------

    def _step_done(self, chat: Chat, run: Run) -> Followup | None:
        step = run.step
        if step is None or not run.active:
            return None
        if any(self._invocations[i].status not in INVOCATION_TERMINAL for i in step.invocations):
            return None
        run.step = None
        if step.finished:
            self._end_run(chat, run, "completed", output=step.finish_output)
            return None
        return Followup(run_id=run.id)

    def _refresh_run(self, chat: Chat, run: Run) -> None:
        """Set the run's state from its open tool calls: waiting on any → `input_required`."""
        if not run.active:
            self._publish_chat(chat)
            return
        waiting = [
            self._invocations[i]
            for i in (run.step.invocations if run.step else [])
            if self._invocations[i].status in ("awaiting_input", "awaiting_approval")
        ]
        for key in ("interrupt_reason", "interrupt_tool_id", "tool_invocation_id"):
            run.dto.pop(key, None)
        if waiting:
            first = waiting[0]
            reason = "tool_approval" if first.status == "awaiting_approval" else "client_tool"
            run.dto.update(
                interrupt_reason=reason, tool_invocation_id=first.id, interrupt_tool_id=first.id
            )
        self._set_run_state(run, "input_required" if waiting else "working", force=True)

    def _set_run_state(self, run: Run, state: str, *, force: bool = False) -> None:
        chat = self._chats[run.chat_id]
        if run.state != state:
            check_transition("run", run.id, run.state, state)
            run.dto["state"] = state
        elif not force:
            return
        now = self.clock.now_iso()
        run.dto["updated_at"] = now
        self._touch(chat)
        self._publish_run(chat, run)

    def _end_run(
        self, chat: Chat, run: Run, state: str, *, output: Any = None, error: str | None = None
    ) -> None:
        """End a run; what it left open is cancelled (`failed` for a failed run's message)."""
        now = self.clock.now_iso()
        for invocation_id in run.step.invocations if run.step else []:
            invocation = self._invocations[invocation_id]
            if invocation.status not in INVOCATION_TERMINAL:
                self._close_interrupt(invocation, "cancelled", None)
                self._settle(
                    invocation, "cancelled", "The run ended before this tool call finished."
                )
                self._publish(chat, self._message(chat, invocation.message_id))
        if run.pending_message is not None:
            message = self._message(chat, run.pending_message)
            message["status"] = "failed" if state == "failed" else "cancelled"
            message["updated_at"] = now
            if error:
                message["content"] = [{"type": "text", "text": "", "error": error}]
            self._publish(chat, message)
            run.pending_message = None
        for key in ("interrupt_reason", "interrupt_tool_id", "tool_invocation_id"):
            run.dto.pop(key, None)
        check_transition("run", run.id, run.state, state)
        run.dto.update(state=state, updated_at=now, finished_at=now)
        if error:
            run.dto["error"] = error
        if output is not None:
            run.dto["output"] = output
            chat.dto["output"] = output
        run.step = None
        self._touch(chat)
        self._publish_run(chat, run)
        self.on_run_end(run.id)

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
        for chat in [c for c in self._chats.values() if not c.busy][:excess]:
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
