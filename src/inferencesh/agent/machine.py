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

from inferencesh._protocol.chat_view import (
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
from inferencesh.models.chat import BUSY_CHAT_STATUSES, Chat, ChatMessage, ToolInvocation
from inferencesh.tools import ApprovalRequest, Tool

__all__ = ["DecideApproval", "FollowChild", "Job", "RunTool", "Turn"]


@dataclass(frozen=True, slots=True)
class RunTool:
    """Run this client-tool call (the tool is None when this process has no such tool)."""

    invocation: ToolInvocation
    tool: Tool | None


@dataclass(frozen=True, slots=True)
class DecideApproval:
    """Decide this call waiting for approval."""

    request: ApprovalRequest


@dataclass(frozen=True, slots=True)
class FollowChild:
    """Follow this sub-agent's chat, a child of the turn's chat run by the server.

    Its events appear on the turn's stream as `agent`'s, with the turn's chat as their
    `parent_chat_id`; an event of the call it answers (`invocation_id`, when the server
    links the two) is told after the child's turn.
    """

    chat: Chat
    agent: str
    invocation_id: str | None


Job: TypeAlias = RunTool | DecideApproval | FollowChild


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
        self._requested: dict[str, str] = {}
        """The calls of this turn told so far: their names by invocation id."""
        self._children: set[str] = set()
        self._executions: dict[str, str] = {}
        """This turn's calls by what runs them (`execution_id`: a sub-agent's chat)."""
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
            known = len(self._executions)
            events = self._message(item.message)
            if len(self._executions) > known and self.chat is not None:
                # A call names its sub-agent's chat after the chat itself was seen.
                return events, self._new_children(self.chat)
            return events, []
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
            return [], self._new_children(item.chat)
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
            if invocation.execution_id:
                self._executions[invocation.execution_id] = invocation.id
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
        self._requested[invocation.id] = invocation.name
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

    def _new_children(self, chat: Chat) -> list[Job]:
        """The sub-agent chats of this turn not followed yet.

        A child chat belongs to this turn when one of this turn's calls names it as what runs
        it (`execution_id`), or, named by none yet, while it runs (only one turn of a chat
        runs at a time; a server that names none loses a child that ended before it was
        seen). A child seen before its call names it is looked at again on the next change.
        """
        jobs: list[Job] = []
        for child in chat.children:
            if child.id in self._children:
                continue
            link = self._executions.get(child.id)
            run = child.active_run
            running = child.status in BUSY_CHAT_STATUSES or (run is not None and run.is_active)
            if link is None and not running:
                continue
            self._children.add(child.id)
            name = _agent_name(child) or (self._requested.get(link, "") if link else "")
            jobs.append(FollowChild(child, name or "sub-agent", link))
        return jobs

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


def _agent_name(chat: Chat) -> str:
    """The name a sub-agent's events carry: its chat's name, else its template's ref."""
    if chat.name:
        return chat.name
    agent: object = getattr(chat, "agent", None)  # the template, when the chat has one
    if isinstance(agent, dict):
        namespace, name = agent.get("namespace"), agent.get("name")  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
        if isinstance(name, str) and name:
            return f"{namespace}/{name}" if isinstance(namespace, str) and namespace else name
    return ""
