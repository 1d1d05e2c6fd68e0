"""What the client knows of one turn of a chat, from whatever the server said of it.

`ChatView` applies the chat, its messages, its run and token deltas (from a stream line or a
fetched chat) and emits `ChatItem`s, facts about the turn that the agent runner turns into
events and work. `ChatWatch` (`chat_watch.py`) follows the chat and feeds it.

Guarantees, whatever order things arrive in:
- nothing is emitted twice, nor an earlier state after a later one: a message, chat or run
  is emitted only when it differs from what was last emitted and is not older (by its
  `updated_at`), so a snapshot replayed after a reconnect is dropped; a delta is dropped when
  its `seq` was already seen for its message, or its message is already final;
- a tool invocation is handed out (`InvocationDue`) at most once per phase (approval, input),
  also across reconnects, replays and other watches sharing the same `handed_out` ledger;
- the turn ends on status, never on content: when the chat is not busy, the turn's run is
  over and no invocation handed out here is still being answered;
- the turn's end is told (`TurnEnded`) only from a complete view: a fetched chat, or a stream
  that provably showed the whole turn (`_shown_whole_turn`);
- what does not fit the models raises `APIResponseValidationError` with its response.
"""

from __future__ import annotations

from collections.abc import MutableSet
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from inferencesh.errors import APIResponseValidationError
from inferencesh.models.chat import (
    ACTIVE_RUN_STATES,
    BUSY_CHAT_STATUSES,
    FINAL_MESSAGE_STATUSES,
    SETTLED_INVOCATION_STATUSES,
    AgentRun,
    Chat,
    ChatMessage,
    Interrupt,
    ToolInvocation,
)

__all__ = [
    "ChatChanged",
    "ChatItem",
    "ChatView",
    "DeltaReceived",
    "InvocationDue",
    "MessageChanged",
    "RunChanged",
    "TurnEnded",
]

if TYPE_CHECKING:
    import httpx2

_HANDLED_INTERRUPTS = frozenset({"tool_approval", "client_tool"})
_ModelT = TypeVar("_ModelT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ChatChanged:
    """The chat's state changed (status, active run, interrupts, output)."""

    chat: Chat


@dataclass(frozen=True, slots=True)
class RunChanged:
    """The turn's agent run changed state."""

    run: AgentRun


@dataclass(frozen=True, slots=True)
class MessageChanged:
    """A message of this turn appeared or changed."""

    message: ChatMessage


@dataclass(frozen=True, slots=True)
class DeltaReceived:
    """A token delta for a message still being written (cosmetic: the message follows)."""

    message_id: str
    delta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InvocationDue:
    """A tool call waits for this client: its input (`input`) or a decision (`approval`)."""

    invocation: ToolInvocation
    phase: Literal["input", "approval"]
    interrupt: Interrupt | None = None


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """The turn is over; `paused` when the run waits for something this SDK cannot give."""

    chat: Chat
    paused: bool = False


ChatItem: TypeAlias = (
    ChatChanged | RunChanged | MessageChanged | DeltaReceived | InvocationDue | TurnEnded
)


def _timestamp(payload: dict[str, Any]) -> datetime | None:
    value = payload.get("updated_at")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _older(payload: dict[str, Any], known: dict[str, Any]) -> bool:
    """Whether `payload` is an earlier state than `known` (both say when they were updated)."""
    new, old = _timestamp(payload), _timestamp(known)
    return new is not None and old is not None and new < old


class ChatView:
    """What is known of one turn of a chat; see the module docstring."""

    def __init__(
        self,
        chat_id: str,
        *,
        run_id: str | None = None,
        assistant_message_id: str | None = None,
        expect_turn: bool = False,
        handed_out: MutableSet[str] | None = None,
    ) -> None:
        """Know nothing yet of the turn of chat `chat_id`; see `ChatWatch` for the arguments."""
        self.chat_id = chat_id
        self._response: httpx2.Response | None = None
        self.run_id = run_id
        self._assistant_id = assistant_message_id
        self._expect_turn = expect_turn or run_id is not None or assistant_message_id is not None
        self._handed_out: MutableSet[str] = set() if handed_out is None else handed_out
        self._pending: set[str] = set()
        self._chat: dict[str, Any] | None = None
        self._emitted_chat: dict[str, Any] | None = None
        self._emitted_run: dict[str, Any] | None = None
        self._messages: dict[str, dict[str, Any]] = {}
        self._emitted_messages: dict[str, dict[str, Any]] = {}
        self._final_messages: set[str] = set()
        self._max_seq: dict[str, int] = {}
        self._busy_seen = False
        self._run_over = False
        self._ended = False
        self._resuming = False
        self.finished = False
        self.chat: Chat | None = None
        """The chat as last seen (None before the first observation)."""

    # -- applying what the server said ----------------------------------------------------

    def _delta(self, payload: dict[str, Any]) -> list[ChatItem]:
        resource: object = payload.get("resource_id")
        delta: object = payload.get("delta")
        if not isinstance(resource, str) or not isinstance(delta, dict):
            return []
        if resource in self._final_messages:
            return []  # replayed after the message was complete
        seq: object = payload.get("seq")
        if isinstance(seq, int):
            if seq <= self._max_seq.get(resource, -1):
                return []  # replayed after a reconnect
            self._max_seq[resource] = seq
        return [DeltaReceived(resource, delta)]  # pyright: ignore[reportUnknownArgumentType]

    def _message(self, payload: dict[str, Any]) -> list[ChatItem]:
        message_id = payload.get("id")
        if not isinstance(message_id, str):
            return []
        chat_id = payload.get("chat_id")
        if chat_id and chat_id != self.chat_id:
            return []  # another chat's message (e.g. a sub-agent's): not this turn's
        previous = self._messages.get(message_id)
        if previous is not None and _older(payload, previous):
            return []  # a replay of an earlier state
        merged = {**(previous or {}), **payload}
        self._messages[message_id] = merged
        if not self._in_turn(merged) or merged == self._emitted_messages.get(message_id):
            return []
        message = self._model(ChatMessage, merged)
        self._emitted_messages[message_id] = merged
        if message.status in FINAL_MESSAGE_STATUSES:
            self._final_messages.add(message_id)
        items: list[ChatItem] = [MessageChanged(message)]
        for invocation in message.tool_invocations:
            items += self._due(invocation, None)
        return items

    def _run(self, payload: dict[str, Any]) -> list[ChatItem]:
        run_id = payload.get("id")
        if not isinstance(run_id, str) or (payload.get("chat_id") or self.chat_id) != self.chat_id:
            return []
        chat: dict[str, Any] = dict(self._chat) if self._chat is not None else {"id": self.chat_id}
        current: object = chat.get("active_run")
        if isinstance(current, dict) and current.get("id") == run_id and _older(payload, current):  # pyright: ignore[reportUnknownMemberType,reportUnknownArgumentType]
            return []
        chat["active_run"] = payload  # what the JS client does: the run is the chat's
        self._chat = chat
        runs = self._run_items(payload)
        if self.chat is not None:
            for item in runs:
                self.chat = self.chat.model_copy(update={"active_run": item.run})
        return list[ChatItem](runs)

    def _chat_update(self, payload: dict[str, Any], *, partial: bool) -> list[ChatItem]:
        if (payload.get("id") or self.chat_id) != self.chat_id:
            return []
        if self._chat is not None and _older(payload, self._chat):
            return []  # a replay of an earlier state
        chat = {**self._chat, **payload} if partial and self._chat is not None else dict(payload)
        chat.setdefault("id", self.chat_id)
        self._chat = chat
        model = self._model(Chat, chat)
        self.chat = model
        items: list[ChatItem] = []
        run: object = chat.get("active_run")
        if isinstance(run, dict):
            items += self._run_items(run)  # pyright: ignore[reportUnknownArgumentType]
        if chat != self._emitted_chat:
            self._emitted_chat = chat
            items.append(ChatChanged(model))
        for interrupt in model.pending_interrupts:
            items += self._due_from_interrupt(interrupt)
        return items

    def _learn_run(self, run: dict[str, Any]) -> None:
        # Following a turn already under way (or, resuming, the last one, even if it ended).
        if self.run_id is None and (self._resuming or run.get("state") in ACTIVE_RUN_STATES):
            self.run_id = str(run.get("id"))

    def _run_items(self, run: dict[str, Any]) -> list[RunChanged]:
        self._learn_run(run)
        if run.get("id") != self.run_id:
            return []  # an earlier turn's run (the snapshot before ours began)
        if run.get("state") in ACTIVE_RUN_STATES:
            self._busy_seen = True
        else:
            self._run_over = True
        if run == self._emitted_run:
            return []
        model = self._model(AgentRun, run)
        self._emitted_run = run
        return [RunChanged(model)]

    def _due(self, invocation: ToolInvocation, interrupt: Interrupt | None) -> list[ChatItem]:
        if invocation.status == "awaiting_approval":
            phase: Literal["input", "approval"] = "approval"
        elif invocation.status == "awaiting_input" and invocation.type == "client":
            phase = "input"
        else:
            return []
        key = f"{phase}:{invocation.id}"
        if key in self._handed_out:
            return []
        self._handed_out.add(key)
        self._pending.add(invocation.id)
        return [InvocationDue(invocation, phase, interrupt)]

    def _due_from_interrupt(self, interrupt: Interrupt) -> list[ChatItem]:
        # A snapshot may name a waiting call only through the chat's interrupts.
        if interrupt.status != "pending" or interrupt.reason not in _HANDLED_INTERRUPTS:
            return []
        if interrupt.resource_type != "tool_invocation" or not interrupt.resource_id:
            return []
        meta = interrupt.meta
        status = "awaiting_approval" if interrupt.reason == "tool_approval" else "awaiting_input"
        invocation = ToolInvocation.model_validate(
            {
                "id": interrupt.resource_id,
                "type": "client" if status == "awaiting_input" else str(meta.get("type", "")),
                "status": status,
                "function": {
                    "name": str(meta.get("tool_name", "")),
                    "arguments": meta.get("arguments"),
                },
            }
        )
        return self._due(invocation, interrupt)

    def _in_turn(self, message: dict[str, Any]) -> bool:
        if message.get("role") == "user":
            return False  # the caller's own message
        run = message.get("agent_run_id")
        return self.run_id is None or run is None or run == self.run_id

    # -- when the turn ends ---------------------------------------------------------------

    def _check_end(self, *, complete_view: bool) -> list[ChatItem]:
        """`TurnEnded` once the turn is over, seen in a complete view.

        A fetched chat is one; so is a stream that showed the whole turn. Over on a stream
        that may have missed something: stop reading (`finished`); `on_stream_end` fetches.
        """
        if self._ended or self._pending or self.chat is None:
            return []
        over, paused = self._turn_over(self.chat)
        if not over:
            return []
        self.finished = True
        if not complete_view and (paused or not self._shown_whole_turn()):
            return []
        self._ended = True
        return [TurnEnded(self.chat, paused=paused)]

    def _shown_whole_turn(self) -> bool:
        """Whether every message of the turn was seen, each in its final state.

        Then `GET /chats/{id}` would tell nothing new, and the turn ends without it (a round
        trip less a turn). Proof, from the messages alone: the turn's first assistant message
        (named by the `POST /agents/run` answer) and each message after it, with no `order`
        missing, every one final with every tool call settled, the last one the assistant's.
        A message finished while no stream was open (before the first connect, or between two)
        is in no snapshot: it leaves a hole in the orders, or the view was fetched anyway.
        """
        first = self._messages.get(self._assistant_id) if self._assistant_id else None
        start = first.get("order") if first is not None else None
        if not isinstance(start, int):
            return False
        by_order: dict[int, dict[str, Any]] = {}
        for message in self._messages.values():
            order = message.get("order")
            if not isinstance(order, int) or order < start:
                continue
            if order in by_order or not self._settled(message):
                return False
            by_order[order] = message
        last = max(by_order)
        return len(by_order) == last - start + 1 and by_order[last].get("role") == "assistant"

    @staticmethod
    def _settled(message: dict[str, Any]) -> bool:
        if message.get("status") not in FINAL_MESSAGE_STATUSES:
            return False
        calls: object = message.get("tool_invocations")
        if not isinstance(calls, list):
            return calls is None
        return all(
            isinstance(call, dict) and call.get("status") in SETTLED_INVOCATION_STATUSES  # pyright: ignore[reportUnknownMemberType]
            for call in calls  # pyright: ignore[reportUnknownVariableType]
        )

    def _turn_over(self, chat: Chat) -> tuple[bool, bool]:
        """Whether the turn is over (nothing of it handed out is unanswered), and paused."""
        current = chat.active_run
        ours = current if current is not None and current.id == self.run_id else None
        if ours is not None and ours.state in ("input_required", "auth_required"):
            return not self._can_answer(chat), True
        if self._run_over:  # our run ended; the chat may already be busy with a later one
            return chat.status not in BUSY_CHAT_STATUSES or ours is None, False
        if chat.status in BUSY_CHAT_STATUSES or (ours is not None and ours.is_active):
            return False, False
        settled = (
            ours is not None
            or self._busy_seen
            or not self._expect_turn
            or (self._assistant_id is not None and self._assistant_id in self._final_messages)
        )
        return settled, False  # not settled: the last turn's idle snapshot, ours not begun

    def _can_answer(self, chat: Chat) -> bool:
        # Paused on something this client answers (a client tool, an approval), or not paused
        # on anything named yet: keep following; otherwise the turn waits for someone else.
        reasons = {i.reason for i in chat.pending_interrupts if i.status == "pending"}
        return not reasons or bool(reasons & _HANDLED_INTERRUPTS)

    def _model(self, model: type[_ModelT], data: dict[str, Any]) -> _ModelT:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            message = f"the API sent a {model.__name__} this client cannot read: {exc}"
            if self._response is None:  # fed by hand, not read from the API
                raise ValueError(message) from exc
            raise APIResponseValidationError(message, response=self._response) from exc
