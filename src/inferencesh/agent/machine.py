"""One agent turn: what the chat follower saw becomes events, and the work the runner owes.

`Turn` is sans-IO. It is fed the follower's items (`_protocol/chats.py`) and the outcomes of
the runner's own work, and returns the public events to yield plus the jobs to run (a client
tool call, an approval decision). Each event happens once per thing it reports: a call is
requested once, settles once (by the local outcome or by the server, whichever comes first),
a message completes once. It may be fed from several threads (the sync runner's workers report
their outcomes while the chat is followed on another): each call holds its lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

from inferencesh._protocol.chats import (
    ChatChanged,
    ChatItem,
    DeltaReceived,
    InvocationDue,
    MessageChanged,
    RunChanged,
)
from inferencesh.agent.dispatch import ApprovalOutcome, ToolOutcome
from inferencesh.agent.events import (
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
from inferencesh.models.chat import Chat, ChatMessage, ToolInvocation
from inferencesh.tools import ApprovalRequest, Tool

__all__ = ["DecideApproval", "Job", "RunTool", "Turn"]


@dataclass(frozen=True, slots=True)
class RunTool:
    """Run this client-tool call (the tool is None when this process has no such tool)."""

    invocation: ToolInvocation
    tool: Tool | None


@dataclass(frozen=True, slots=True)
class DecideApproval:
    """Decide this call waiting for approval."""

    request: ApprovalRequest


Job: TypeAlias = RunTool | DecideApproval


class Turn:
    """Events and jobs of one turn of one agent's chat; see the module docstring."""

    def __init__(
        self,
        *,
        agent: str,
        chat_id: str,
        tools: Mapping[str, Tool] | None = None,
        parent_chat_id: str | None = None,
    ) -> None:
        self.agent = agent
        self.chat_id = chat_id
        self.parent_chat_id = parent_chat_id
        self._tools: Mapping[str, Tool] = tools or {}
        self._lock = threading.Lock()
        self._requested: set[str] = set()
        self._settled: set[str] = set()
        self._completed_messages: set[str] = set()
        self._failed_runs: set[str] = set()
        self.messages: dict[str, ChatMessage] = {}
        """This turn's messages by id, as last seen."""
        self.chat: Chat | None = None
        """The chat as last seen."""
        self.finished = False
        self.paused = False
        """The turn ended waiting for something this SDK cannot give."""

    def on_item(self, item: ChatItem) -> tuple[list[AgentEvent], list[Job]]:
        """Apply one follower item: the events it makes and the jobs it asks for."""
        with self._lock:
            return self._on_item(item)

    def _on_item(self, item: ChatItem) -> tuple[list[AgentEvent], list[Job]]:
        if isinstance(item, DeltaReceived):
            return [self._delta(item)], []
        if isinstance(item, MessageChanged):
            return self._message(item.message), []
        if isinstance(item, InvocationDue):
            return self._due(item)
        if isinstance(item, RunChanged):
            run = item.run
            if run.state == "failed" and run.id not in self._failed_runs:
                self._failed_runs.add(run.id)
                return [self._event(ErrorEvent, message=run.error or "the agent's run failed")], []
            return [], []
        if isinstance(item, ChatChanged):
            self.chat = item.chat
            return [], []
        self.chat = item.chat
        self.finished = True
        self.paused = item.paused
        return [self._event(TurnFinished, chat=item.chat, paused=item.paused)], []

    def on_tool_outcome(self, outcome: ToolOutcome) -> list[AgentEvent]:
        """The runner ran a call: it completed or failed (told once, whoever tells first)."""
        with self._lock:
            return self._on_tool_outcome(outcome)

    def _on_tool_outcome(self, outcome: ToolOutcome) -> list[AgentEvent]:
        if outcome.invocation_id in self._settled:
            return []
        self._settled.add(outcome.invocation_id)
        common = {"invocation_id": outcome.invocation_id, "name": outcome.name}
        if outcome.failure is None:
            return [self._event(ToolCallCompleted, result=outcome.output, **common)]
        return [self._event(ToolCallFailed, error=outcome.output, reason=outcome.failure, **common)]

    def on_approval_outcome(self, outcome: ApprovalOutcome) -> list[AgentEvent]:
        """The runner decided a call waiting for approval."""
        with self._lock:
            return self._on_approval_outcome(outcome)

    def _on_approval_outcome(self, outcome: ApprovalOutcome) -> list[AgentEvent]:
        common = {"invocation_id": outcome.invocation_id, "name": outcome.name}
        if outcome.approved:
            by = "callback" if outcome.decided_by == "callback" else "policy"
            return [self._event(ToolCallApproved, decided_by=by, **common)]
        self._settled.add(outcome.invocation_id)  # the server's "failed" echo says no more
        return [
            self._event(
                ToolCallDenied, reason=outcome.reason, decided_by=outcome.decided_by, **common
            )
        ]

    @property
    def text(self) -> str:
        """The text of the turn's last assistant message."""
        replies = [m for m in self.messages.values() if m.role == "assistant" and m.text]
        return max(replies, key=lambda m: m.order).text if replies else ""

    # -- internals ------------------------------------------------------------------------

    def _event(self, cls: type[AgentEvent], **fields: object) -> AgentEvent:
        return cls(
            agent=self.agent,
            chat_id=self.chat_id,
            parent_chat_id=self.parent_chat_id,
            **fields,  # pyright: ignore[reportArgumentType]
        )

    def _delta(self, item: DeltaReceived) -> AgentEvent:
        text, reasoning = item.delta.get("response"), item.delta.get("reasoning")
        return self._event(
            MessageDelta,
            message_id=item.message_id,
            text=text if isinstance(text, str) else "",
            reasoning=reasoning if isinstance(reasoning, str) else "",
            delta=item.delta,
        )

    def _message(self, message: ChatMessage) -> list[AgentEvent]:
        self.messages[message.id] = message
        events: list[AgentEvent] = []
        for invocation in message.tool_invocations:
            events += self._requested_once(invocation)
            if invocation.is_settled and invocation.id not in self._settled:
                self._settled.add(invocation.id)
                events.append(self._server_settled(invocation))
        if message.role == "assistant" and message.is_final:
            if message.id not in self._completed_messages:
                self._completed_messages.add(message.id)
                events.append(self._event(MessageCompleted, message=message))
        return events

    def _server_settled(self, invocation: ToolInvocation) -> AgentEvent:
        common = {"invocation_id": invocation.id, "name": invocation.name, "kind": invocation.type}
        if invocation.status == "completed":
            return self._event(ToolCallCompleted, result=invocation.result or "", **common)
        return self._event(
            ToolCallFailed,
            error=invocation.result or f"the call was {invocation.status}",
            reason="server",
            **common,
        )

    def _requested_once(self, invocation: ToolInvocation) -> list[AgentEvent]:
        if invocation.id in self._requested:
            return []
        self._requested.add(invocation.id)
        return [
            self._event(
                ToolCallRequested,
                invocation_id=invocation.id,
                call_id=invocation.tool_invocation_id,
                name=invocation.name,
                arguments=invocation.function.argument_object(),
                kind=self._kind(invocation),
            )
        ]

    def _kind(self, invocation: ToolInvocation) -> str:
        if invocation.type:
            return invocation.type
        tool = self._tools.get(invocation.name)
        return tool.kind if tool is not None else ""

    def _due(self, item: InvocationDue) -> tuple[list[AgentEvent], list[Job]]:
        invocation = item.invocation
        events = self._requested_once(invocation)
        tool = self._tools.get(invocation.name)
        if item.phase == "input":
            return events, [RunTool(invocation, tool)]
        request = ApprovalRequest(
            tool_name=invocation.name,
            arguments=invocation.function.argument_object(),
            invocation_id=invocation.id,
            kind=self._kind(invocation),
            tool=tool,
            chat_id=self.chat_id,
            agent=self.agent,
            invocation=invocation,
        )
        events.append(
            self._event(
                ApprovalRequested,
                invocation_id=invocation.id,
                name=invocation.name,
                request=request,
            )
        )
        return events, [DecideApproval(request)]
