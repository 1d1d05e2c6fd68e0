"""The private state moves of `ChatStore`: tool invocations, interrupts and runs.

Every method runs under the store's lock and checks its move against the state machines of
`_records.py`; each change is published as it happens.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from inferencesh.local.chats._records import (
    INVOCATION_TERMINAL,
    Chat,
    Invocation,
    Run,
    base_dto,
    check_transition,
)
from inferencesh.local.chats._store_base import Followup, Plan, StoreBase
from inferencesh.local.core._ids import iso, new_id

__all__ = ["StoreMoves"]


class StoreMoves(StoreBase):
    """How invocations, interrupts and runs change."""

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

    def _link_execution(self, invocation: Invocation, execution_id: str) -> None:
        """Name what runs the call (a sub-agent's chat), so its chat's followers find it."""
        invocation.dto["execution_id"] = execution_id
        invocation.dto["updated_at"] = self.clock.now_iso()
        chat = self._chats[invocation.chat_id]
        self._publish(chat, self._message(chat, invocation.message_id))

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
        chat.stream_opens_at_last_end = chat.stream_opens
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
