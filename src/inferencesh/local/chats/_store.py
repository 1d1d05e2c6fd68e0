"""`ChatStore`: chats, their messages, runs, tool invocations and interrupts.

All state changes happen here, under one lock, and each is published to the chat's stream
subscribers while the lock is held, so every stream sees changes in the order they happened:
`chat_messages` (the whole message), `agent_runs` (the run), `chats` (status, active run,
pending interrupts, output). The store decides what happens next and returns it (`Plan`,
`Followup`); the turn engine carries that out. So a decision such as "this was the last tool
result of the step: call the model again" is taken exactly once, by whoever made the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inferencesh.local.chats._config import AgentConfig, ToolDef
from inferencesh.local.chats._conversation import conversation, copy_message
from inferencesh.local.chats._internal import run_internal
from inferencesh.local.chats._records import (
    INVOCATION_TERMINAL,
    Chat,
    Invocation,
    Run,
    Step,
    base_dto,
    check_transition,
)
from inferencesh.local.chats._store_base import Followup, Plan
from inferencesh.local.chats._store_reads import StoreReads
from inferencesh.local.core._envelope import ApiError
from inferencesh.local.core._ids import new_id
from inferencesh.local.core._json import dumps
from inferencesh.local.core._streams import StreamItem
from inferencesh.local.models._base import ModelReply, ModelRequest, ToolSpec

__all__ = ["ChatStore", "Followup", "Plan", "StepCall"]


@dataclass(frozen=True, kw_only=True)
class StepCall:
    """A model call to make: the request, and the assistant message it fills."""

    request: ModelRequest
    message_id: str


class ChatStore(StoreReads):
    """Every chat of one emulator (thread-safe)."""

    # -- turns -----------------------------------------------------------------------------

    def open_turn(
        self,
        *,
        chat_id: str | None,
        config: AgentConfig | None,
        agent: Mapping[str, Any],
        context: Mapping[str, str] | None,
        content: list[dict[str, Any]],
        base_url: str,
        parent_id: str | None = None,
        invocation_id: str | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any], str]:
        """Post a user message and start a run: the user and assistant messages, and the run id.

        A new chat needs `config`; an existing one keeps its agent unless `config` is given
        (ad-hoc clients send their config with every message: the latest one counts). A
        sub-agent's chat names its parent (`parent_id`); the call it answers (`invocation_id`)
        names it as its `execution_id`.

        Raises:
            ApiError: 404 unknown chat, 400 no agent for a new chat, 409 the chat is busy.
        """
        with self._lock:
            if chat_id is not None:
                chat = self._chat(chat_id)
                if chat.busy:
                    raise ApiError(
                        409,
                        "conflict",
                        f"chat {chat_id} is busy with run {chat.runs[-1].id}: wait for it to "
                        "end (or stop it) before sending another message",
                    )
                if config is not None:
                    chat.config = config
            elif config is None:
                raise ApiError(400, "invalid_request", "a new chat needs an agent or agent_config")
            else:
                chat = self._new_chat(config, agent, parent_id)
            if context:
                chat.dto["context"] = {**chat.dto["context"], **context}
            now = self.clock.now_iso()
            run_id = new_id("run")
            run = Run(
                dto={
                    **base_dto(run_id, "run", now),
                    "agent_id": chat.dto["agent_id"],
                    "agent_version_id": chat.dto.get("agent_version_id"),
                    "chat_id": chat.id,
                    "state": "submitted",
                },
                chat_id=chat.id,
                pending_message=None,
                base_url=base_url,
                stream_opens_at_start=chat.stream_opens,
            )
            user = self._add_message(chat, run, "user", content, "ready")
            run.dto["user_message_id"] = user["id"]
            assistant = self._add_message(chat, run, "assistant", [], "pending")
            run.pending_message = assistant["id"]
            chat.runs.append(run)
            self._runs[run_id] = run
            if parent_id is not None and parent_id in self._chats:
                self._chats[parent_id].children.append(chat.id)
            self._touch(chat)
            self._publish(chat, user)
            self._publish(chat, assistant)
            self._publish_run(chat, run)
            if invocation_id is not None and invocation_id in self._invocations:
                self._link_execution(self._invocations[invocation_id], chat.id)
            if parent_id is not None and parent_id in self._chats:
                self._publish_chat(self._chats[parent_id])
            self._evict()
            return copy_message(user), copy_message(assistant), run_id

    def begin(self, run_id: str) -> bool:
        """`submitted` → `working`; False if the run ended meanwhile (stopped)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.state != "submitted":
                return False
            self._set_run_state(run, "working")
            return True

    def prepare_step(self, run_id: str, max_steps: int) -> StepCall | None:
        """The next model call of the run, or None if the run ended (or took too many steps)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or not run.active:
                return None
            chat = self._chats[run.chat_id]
            if run.steps >= max_steps:
                self._end_run(
                    chat, run, "failed", error=f"the agent made {max_steps} model calls in one run"
                )
                return None
            run.steps += 1
            message_id = run.pending_message
            if message_id is None:
                message = self._add_message(chat, run, "assistant", [], "pending")
                message_id = run.pending_message = str(message["id"])
                self._publish(chat, message)
            config = chat.config
            request = ModelRequest(
                chat_id=chat.id,
                call_index=chat.model_calls,
                system_prompt=config.system_prompt,
                messages=conversation(chat.messages),
                tools=tuple(_spec(t) for t in config.tools),
                settings=config.core_input,
                ref=config.core_ref,
                output_schema=config.output_schema,
            )
            chat.model_calls += 1
            return StepCall(request=request, message_id=message_id)

    def delta(self, run_id: str, message_id: str, delta: dict[str, Any]) -> None:
        """Send a token delta for an assistant message (not stored)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or not run.active:
                return
            chat = self._chats[run.chat_id]
            chat.delta_seq += 1
            data = {"delta": delta, "seq": chat.delta_seq, "resource_id": message_id}
            chat.topic.publish(StreamItem(dumps({"event": "delta", "data": data})))

    def apply_reply(self, run_id: str, message_id: str, reply: ModelReply) -> Plan | None:
        """Record the model's turn; what to start next (None if the run ended meanwhile)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or not run.active:
                return None
            chat = self._chats[run.chat_id]
            message = self._message(chat, message_id)
            content: list[dict[str, Any]] = []
            if reply.text:
                content.append({"type": "text", "text": reply.text})
            if reply.tool_calls:
                calls = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments},
                    }
                    for c in reply.tool_calls
                ]
                content.append({"type": "tool", "tool_calls": calls})
            message["content"] = content
            message["status"] = "ready"
            message["updated_at"] = self.clock.now_iso()
            run.pending_message = None
            if not reply.tool_calls:
                self._publish(chat, message)
                self._end_run(chat, run, "completed")
                return Plan()
            plan = Plan()
            step = Step(message_id=message_id)
            run.step = step
            invocations: list[Invocation] = []
            for call in reply.tool_calls:
                invocation = self._new_invocation(
                    chat, run, message_id, call.id, call.name, call.arguments
                )
                invocations.append(invocation)
                step.invocations.append(invocation.id)
                self._route(chat, run, invocation, plan)
            message["tool_invocations"] = [i.dto for i in invocations]
            self._publish(chat, message)
            for invocation in invocations:
                if invocation.status in INVOCATION_TERMINAL:
                    self._add_tool_message(chat, run, invocation)
            self._refresh_run(chat, run)
            plan.followup = self._step_done(chat, run)
            return plan

    def _route(self, chat: Chat, run: Run, invocation: Invocation, plan: Plan) -> None:
        """Where a new tool call goes: refused, to an approval, to the client, or to run."""
        tool = invocation.tool
        if tool is None:
            names = ", ".join(t.name for t in chat.config.tools) or "none"
            name = invocation.dto["function"]["name"]
            why = f"Tool {name!r} is not available (available tools: {names})."
            self._settle(invocation, "failed", why)
        elif tool.require_approval and not self._always_allowed(chat, tool.name):
            self._move(invocation, "awaiting_approval")
            self._interrupt(chat, run, invocation, "tool_approval", "tool", tool.approval_timeout)
            if tool.approval_timeout:
                plan.timeouts.append((invocation.id, tool.approval_timeout))
        elif tool.kind == "client":
            self._move(invocation, "awaiting_input")
            self._interrupt(chat, run, invocation, "client_tool", "agent", None)
        else:
            self._move(invocation, "in_progress")
            plan.server.append(invocation.id)

    # -- tool results, approvals -------------------------------------------------------------

    def submit_result(
        self, invocation_id: str, result: str, attachments: list[dict[str, Any]] | None = None
    ) -> Followup | None:
        """A client tool's result (exactly once per invocation).

        Raises:
            ApiError: 404 unknown invocation; 409 `invalid_transition` if it is not awaiting
                a result (not a client tool, waiting for approval, or already answered).
        """
        with self._lock:
            invocation = self._invocation(invocation_id)
            if invocation.status != "awaiting_input":
                raise ApiError(
                    409,
                    "invalid_transition",
                    f"tool invocation {invocation_id} is {invocation.status}; only an invocation "
                    "awaiting input takes a result",
                    extra={"current_status": invocation.status},
                )
            return self._finish(invocation, "completed", result, attachments)

    def run_internal(self, invocation_id: str) -> Followup | None:
        """Run an internal tool (plan, memory, skills, finish) on its chat's data."""
        with self._lock:
            invocation = self._invocations.get(invocation_id)
            if invocation is None or invocation.status != "in_progress" or invocation.tool is None:
                return None
            chat = self._chats[invocation.chat_id]
            outcome = run_internal(
                str(invocation.tool.config.get("operation", invocation.tool.name)),
                invocation.dto["function"]["arguments"],
                chat.dto["agent_data"],
                chat.config.skills,
            )
            run = self._runs[invocation.run_id]
            if outcome.finished and run.step is not None:
                run.step.finished = True
                run.step.finish_output = outcome.output
            return self._finish(invocation, "completed" if outcome.ok else "failed", outcome.result)

    def finish_server_tool(self, invocation_id: str, ok: bool, result: str) -> Followup | None:
        """A server-side tool ended (a no-op if its invocation was cancelled meanwhile)."""
        with self._lock:
            invocation = self._invocations.get(invocation_id)
            if invocation is None or invocation.status != "in_progress":
                return None
            return self._finish(invocation, "completed" if ok else "failed", result)

    def approve(self, invocation_id: str) -> Plan:
        """Allow a tool call waiting for approval.

        A client tool then awaits its result; a server tool runs.

        Raises:
            ApiError: 404 unknown invocation; 409 it is not awaiting approval.
        """
        with self._lock:
            invocation = self._awaiting_approval(invocation_id)
            return self._allow(invocation)

    def reject(self, invocation_id: str, reason: str) -> Followup | None:
        """Deny a tool call waiting for approval; the model sees `reason`.

        Raises:
            ApiError: 404 unknown invocation; 409 it is not awaiting approval.
        """
        with self._lock:
            invocation = self._awaiting_approval(invocation_id)
            return self._deny(invocation, "resolved", reason)

    def resolve_interrupt(
        self, interrupt_id: str, decision: str
    ) -> tuple[dict[str, Any], Plan | Followup | None]:
        """`allow` or `deny` a pending approval by its interrupt; the InterruptDTO after it.

        Raises:
            ApiError: 400 bad decision, 404 unknown interrupt, 409 not pending or not an
                approval (a client tool's interrupt ends with the tool's result).
        """
        if decision not in ("allow", "deny"):
            raise ApiError(400, "invalid_request", "decision must be 'allow' or 'deny'")
        with self._lock:
            found = self._interrupts.get(interrupt_id)
            if found is None:
                raise ApiError(404, "not_found", f"interrupt {interrupt_id} not found")
            _chat, interrupt = found
            check_transition("interrupt", interrupt_id, interrupt["status"], "resolved")
            if interrupt["reason"] != "tool_approval":
                raise ApiError(
                    409,
                    "invalid_transition",
                    f"interrupt {interrupt_id} waits for a client tool's result: post it to "
                    f"/tools/{interrupt['resource_id']}",
                )
            invocation = self._invocations[interrupt["resource_id"]]
            if decision == "allow":
                outcome: Plan | Followup | None = self._allow(invocation)
            else:
                outcome = self._deny(invocation, "resolved", "")
            return dict(interrupt), outcome

    def expire_approval(self, invocation_id: str, seconds: float) -> Followup | None:
        """Deny an approval nobody answered in time (no-op if it was answered)."""
        with self._lock:
            invocation = self._invocations.get(invocation_id)
            if invocation is None or invocation.status != "awaiting_approval":
                return None
            return self._deny(invocation, "expired", f"nobody approved it within {seconds:g} s")

    def always_allow(self, chat_id: str, invocation_id: str, tool_name: str | None) -> Plan | None:
        """Allow a tool for the rest of the chat (and the waiting call, if it is one).

        Raises:
            ApiError: 404 unknown chat or invocation, 400 no tool name.
        """
        with self._lock:
            chat = self._chat(chat_id)
            invocation = self._invocations.get(invocation_id)
            name = tool_name or (invocation.dto["function"]["name"] if invocation else None)
            if not name:
                raise ApiError(400, "invalid_request", "tool_name is required")
            allowed: list[str] = chat.dto["agent_data"].setdefault("always_allowed_tools", [])
            if name not in allowed:
                allowed.append(name)
            self._touch(chat)
            if (
                invocation is not None
                and invocation.chat_id == chat_id
                and invocation.status == "awaiting_approval"
            ):
                return self._allow(invocation)
            self._publish_chat(chat)
            return None

    def stop(self, chat_id: str) -> str | None:
        """Stop the chat's run: the run `canceled`, open messages and calls `cancelled`.

        Returns the stopped run's id (None when the chat was idle: nothing to stop).

        Raises:
            ApiError: 404 for an unknown chat.
        """
        with self._lock:
            chat = self._chat(chat_id)
            run = chat.last_run
            if run is None or not run.active:
                return None
            self._end_run(chat, run, "canceled")
            return run.id

    def fail_run(self, run_id: str, error: str) -> None:
        """End a run as failed (the model raised); no-op if it already ended."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None and run.active:
                self._end_run(self._chats[run.chat_id], run, "failed", error=error)

    def complete_run(self, run_id: str) -> None:
        """End a run as completed (no-op if it already ended)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None and run.active:
                self._end_run(self._chats[run.chat_id], run, "completed")


def _spec(tool: ToolDef) -> ToolSpec:
    return ToolSpec(
        name=tool.name, description=tool.description, parameters=tool.parameters, kind=tool.kind
    )
