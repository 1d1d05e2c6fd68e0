"""Following one agent turn on a chat: the state machine both clients drive.

`ChatWatch` implements the stream-follower protocol (`follow.py`) for `GET /chats/{id}/stream`
(NDJSON: `chats`, `chat_messages`, `agent_runs`, `delta`, heartbeats), with the polling
fallback (`GET /chats/{id}/status`, then `GET /chats/{id}` when it changed). It emits
`ChatItem`s, facts about the turn that the agent runner turns into events and work.

Guarantees, whatever the network does:
- nothing is emitted twice, nor an earlier state after a later one: a message, chat or run
  is emitted only when it differs from what was last emitted and is not older (by its
  `updated_at`), so a snapshot replayed after a reconnect is dropped; a delta is dropped when
  its `seq` was already seen for its message, or its message is already final;
- a tool invocation is handed out (`InvocationDue`) at most once per phase (approval, input),
  also across reconnects, replays and other watches sharing the same `handed_out` ledger;
- the turn ends on status, never on content: when the chat is not busy, the turn's run is
  over and no invocation handed out here is still being answered (`settle()`); a stream that
  ends or breaks earlier is reconciled with `GET /chats/{id}` (a chat's snapshot on connect
  does not replay finished messages) and reconnected;
- reconnects are bounded (`max_reconnects` in a row without a new line raise `StreamError`;
  a stream open is tried once per reconnect), and the caller's deadline bounds every request
  and sleep (`AgentTimeoutError` once none is left);
- what does not fit the models raises `APIResponseValidationError` with its response.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, MutableSet
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Concatenate, Literal, ParamSpec, TypeAlias, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from inferencesh._config import ClientOptions
from inferencesh._protocol import endpoints
from inferencesh._protocol.deadline import Deadline
from inferencesh._protocol.follow import Action, Fetch, Finished, OpenStream, PollStatus, Sleep
from inferencesh._protocol.retry import RETRYABLE_STATUSES, RetryPolicy
from inferencesh._types import StreamMode
from inferencesh.errors import (
    AgentTimeoutError,
    APIResponseValidationError,
    APIStatusError,
    StreamError,
)
from inferencesh.models.chat import (
    ACTIVE_RUN_STATES,
    BUSY_CHAT_STATUSES,
    FINAL_MESSAGE_STATUSES,
    AgentRun,
    Chat,
    ChatMessage,
    Interrupt,
    ToolInvocation,
)

__all__ = [
    "ChatChanged",
    "ChatItem",
    "ChatWatch",
    "DeltaReceived",
    "InvocationDue",
    "MessageChanged",
    "RunChanged",
    "TurnEnded",
    "approve_request",
    "chat_path",
    "chat_request",
    "reject_request",
    "run_request",
    "stop_request",
    "tool_result_request",
]

if TYPE_CHECKING:
    import httpx2

_HANDLED_INTERRUPTS = frozenset({"tool_approval", "client_tool"})
_ModelT = TypeVar("_ModelT", bound=BaseModel)
_P = ParamSpec("_P")
_R = TypeVar("_R")


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


def chat_path(chat_id: str, suffix: str = "") -> str:
    """`/chats/{id}{suffix}` with the id escaped, so an id can never change the path."""
    if not chat_id:
        raise ValueError("chat_id must be a non-empty string")
    return f"/chats/{quote(chat_id, safe='')}{suffix}"


def tool_path(invocation_id: str, suffix: str = "") -> str:
    """`/tools/{id}{suffix}` with the id escaped."""
    if not invocation_id:
        raise ValueError("the invocation id must be a non-empty string")
    return f"/tools/{quote(invocation_id, safe='')}{suffix}"


def run_request(opts: ClientOptions, body: dict[str, Any]) -> endpoints.ApiRequest:
    """`POST /agents/run`: a message, and the run it starts. Never sent twice."""
    return endpoints.build(opts, "POST", "/agents/run", body=body, idempotent=False)


def chat_request(opts: ClientOptions, chat_id: str) -> endpoints.ApiRequest:
    """`GET /chats/{id}`: the chat, its messages included."""
    return endpoints.build(opts, "GET", chat_path(chat_id))


def stop_request(opts: ClientOptions, chat_id: str) -> endpoints.ApiRequest:
    """`POST /chats/{id}/stop`: end the running turn (stopping twice changes nothing)."""
    return endpoints.build(opts, "POST", chat_path(chat_id, "/stop"), idempotent=True)


# The server takes a result or a decision only while the call waits for one, so sending one
# again (after a connection broke) can never apply it twice: a second one is refused (409).


def tool_result_request(
    opts: ClientOptions, invocation_id: str, result: str
) -> endpoints.ApiRequest:
    """`POST /tools/{id}` with a client tool's result."""
    return endpoints.build(
        opts, "POST", tool_path(invocation_id), body={"result": result}, idempotent=True
    )


def approve_request(opts: ClientOptions, invocation_id: str) -> endpoints.ApiRequest:
    """`POST /tools/{id}/invoke`: the call may run."""
    return endpoints.build(opts, "POST", tool_path(invocation_id, "/invoke"), idempotent=True)


def reject_request(opts: ClientOptions, invocation_id: str, reason: str) -> endpoints.ApiRequest:
    """`POST /tools/{id}/reject` with the reason the model is told."""
    return endpoints.build(
        opts,
        "POST",
        tool_path(invocation_id, "/reject"),
        body={"reason": reason},
        idempotent=True,
    )


def _locked(
    method: Callable[Concatenate[ChatWatch, _P], _R],
) -> Callable[Concatenate[ChatWatch, _P], _R]:
    """Run `method` holding the watch's lock (the sync runner answers from worker threads)."""

    @functools.wraps(method)
    def locked(self: ChatWatch, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:  # pyright: ignore[reportPrivateUsage]
            return method(self, *args, **kwargs)

    return locked


class ChatWatch:
    """Decides how to follow one turn of a chat; see the module docstring.

    Safe to use from several threads: the driver follows the chat on one, while the runner's
    workers answer the calls it handed out (`settle`, `release`, `fail`) on others.
    """

    stream_ends = False
    """A chat's stream stays open after a turn (heartbeats until the client leaves)."""

    def __init__(
        self,
        opts: ClientOptions,
        chat_id: str,
        *,
        mode: StreamMode = "stream",
        run_id: str | None = None,
        assistant_message_id: str | None = None,
        expect_turn: bool = False,
        handed_out: MutableSet[str] | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        """Follow one turn of chat `chat_id`.

        Args:
            opts: The client's options (with the call's overrides).
            chat_id: The chat.
            mode: `"stream"` or `"poll"`.
            run_id: The turn's run, when known (from the `POST /agents/run` answer).
            assistant_message_id: The turn's assistant message, when known.
            expect_turn: A message was just sent: an idle chat ends the turn only once the
                turn was seen (implied by `run_id` or `assistant_message_id`).
            handed_out: The ledger of calls already handed out, shared by an agent's watches.
            deadline: The caller's overall deadline; its error names this chat from now on.
        """
        self._opts = opts
        self.chat_id = chat_id
        self._mode: StreamMode = mode
        self._deadline = deadline
        if deadline is not None:
            deadline.on_expiry = self._timeout_error
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
        self._reconnect_now = False
        self._last_status: tuple[Any, Any] | None = None
        self._failures = 0
        self._lines_since_connect = 0
        self._retry = RetryPolicy(max_retries=opts.max_reconnects, initial_delay=0.25)
        self._failure: BaseException | None = None
        self._lock = threading.RLock()
        self.finished = False
        self.chat: Chat | None = None
        """The chat as last seen (None before the first observation)."""

    # -- the follower protocol ------------------------------------------------------------

    @_locked
    def start(self) -> tuple[list[ChatItem], Action]:
        """Nothing is known before the first request: connect (or poll).

        Following a chat without sending a message (a resumed turn) starts with the whole
        chat instead: the turn under way, or the last one if it already ended.
        """
        if not self._expect_turn:
            self._resuming = True
            return [], Fetch(self._request(""))
        return [], self._connect()

    @_locked
    def on_lines(self, lines: list[dict[str, Any]]) -> list[ChatItem]:
        """Apply decoded stream lines; return the items they make."""
        self._raise_failure()
        items: list[ChatItem] = []
        for line in lines:
            if self.finished:
                break
            if line.get("type") == "heartbeat":
                continue
            self._lines_since_connect += 1
            event, data = line.get("event"), line.get("data")
            if not isinstance(data, dict):
                continue
            payload: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
            if event == "delta":
                items += self._delta(payload)
            elif event == "chat_messages":
                items += self._message(payload)
            elif event == "agent_runs":
                items += self._run(payload)
            elif event == "chats":
                items += self._chat_update(payload, partial="fields" in line)
            items += self._check_end(complete_view=False)
        return items

    @_locked
    def on_stream_end(self) -> Action:
        """The stream closed, or the turn looked over: ask the server where it is.

        A turn the stream says is over is confirmed with `GET /chats/{id}`, which has every
        message: a message finished while no stream was open is in no stream's snapshot.
        """
        if self._ended:
            return Finished()
        if not self.finished:
            self._count_attempt()
        return Fetch(self._request(""))

    @_locked
    def on_stream_error(self, exc: Exception) -> Action:
        """The stream broke, or could not be opened: reconnect after a backoff, or give up.

        An error answer that retrying cannot mend (404: no such chat...) and a `Retry-After`
        beyond `max_retry_after` are raised as they are.
        """
        if self.finished:
            return Finished() if self._ended else Fetch(self._request(""))
        if self._deadline is not None and self._deadline.expired():
            raise self._timeout_error() from exc
        self._count_attempt()
        delay = self._retry.backoff(self._failures)
        if isinstance(exc, APIStatusError):
            if exc.status_code not in RETRYABLE_STATUSES:
                raise exc
            if exc.retry_after is not None:
                if exc.retry_after > self._opts.max_retry_after:
                    raise exc
                delay = exc.retry_after
        if self._failures > self._opts.max_reconnects:
            raise StreamError(
                f"lost the stream of chat {self.chat_id} {self._failures} times in a row "
                f"({type(exc).__name__}); the agent may still be working: follow the chat "
                "again, or read it with get_chat()"
            ) from exc
        # What happened while the stream was down is read in full first: a chat's snapshot on
        # connect replays only what still waits, not the messages finished meanwhile.
        self._reconnect_now = True
        return Sleep(self._cap(delay), Fetch(self._request("")))

    @_locked
    def on_response(self, response: httpx2.Response) -> None:
        """The response the next lines or payload come from, kept for error reports."""
        self._response = response

    @_locked
    def on_fetched(self, data: dict[str, Any]) -> tuple[list[ChatItem], Action]:
        """A whole chat arrived from `GET /chats/{id}` (messages included, when sent)."""
        self.finished = False  # decided again, from the whole chat
        items: list[ChatItem] = []
        run: object = data.get("active_run")
        if isinstance(run, dict):
            self._learn_run(run)  # pyright: ignore[reportUnknownArgumentType]
        messages: object = data.get("chat_messages")
        if isinstance(messages, list):
            for message in messages:  # pyright: ignore[reportUnknownVariableType]
                if isinstance(message, dict):
                    items += self._message(message)  # pyright: ignore[reportUnknownArgumentType]
        chat = {k: v for k, v in data.items() if k != "chat_messages"}
        items += self._chat_update(chat, partial=False)
        items += self._check_end(complete_view=True)
        if self._ended:
            return items, Finished()
        if self._resuming or self._reconnect_now:
            self._resuming = self._reconnect_now = False  # the turn goes on: follow it
            return items, self._connect()
        if self._mode == "poll":
            return items, Sleep(self._cap(self._opts.poll_interval), PollStatus(self._status()))
        if self._failures > self._opts.max_reconnects:
            raise StreamError(
                f"the stream of chat {self.chat_id} kept ending before the turn did "
                f"({self._failures} times); follow the chat again"
            )
        return items, Sleep(self._cap(self._retry.backoff(self._failures)), self._connect())

    @_locked
    def on_status(self, data: dict[str, Any]) -> Action:
        """A `/status` answer arrived (poll mode): fetch the chat when anything may differ."""
        status = (data.get("status"), data.get("updated_at"))
        changed = status != self._last_status
        self._last_status = status
        if changed or not self._busy_seen:
            return Fetch(self._request(""))
        return Sleep(self._cap(self._opts.poll_interval), PollStatus(self._status()))

    def remaining(self) -> float | None:
        """Seconds left before the caller's deadline, or None without one."""
        return None if self._deadline is None else self._deadline.remaining()

    @_locked
    def check_deadline(self) -> None:
        """Raise `AgentTimeoutError` once the caller's deadline has passed (or `fail`'s error)."""
        self._raise_failure()
        if self._deadline is not None and self._deadline.expired():
            raise self._timeout_error()

    def _timeout_error(self) -> AgentTimeoutError:
        seconds = self._deadline.seconds if self._deadline is not None else 0.0
        return AgentTimeoutError(
            f"the agent's turn on chat {self.chat_id} did not end within {seconds:g} s;"
            " it may still be running (stop it with stop())",
            chat_id=self.chat_id,
        )

    # -- the runner's side ----------------------------------------------------------------

    @_locked
    def settle(self, invocation_id: str) -> None:
        """The runner answered an invocation it was handed (the turn may end after it).

        If that was all the turn waited for, `finished` turns true: the driver stops reading at
        the next chunk (a heartbeat will do) and confirms the end with a fetch.
        """
        self._pending.discard(invocation_id)
        self._check_end(complete_view=False)

    @_locked
    def release(self, invocation_id: str) -> None:
        """The runner gave an invocation up unanswered (its work was cancelled, or failed).

        It may be handed out again, by a later watch of the same ledger: a turn resumed in
        this process runs it, as a new process would.
        """
        self._pending.discard(invocation_id)
        self._handed_out.discard(f"input:{invocation_id}")
        self._handed_out.discard(f"approval:{invocation_id}")

    @_locked
    def fail(self, exc: BaseException) -> None:
        """The runner could not answer a call it was handed: raise `exc` at the next step.

        The next lines (a heartbeat will do) or deadline check raise it in the driver, which
        a worker thread of the sync runner cannot interrupt otherwise.
        """
        if self._failure is None:
            self._failure = exc

    @property
    def pending(self) -> frozenset[str]:
        """Invocations handed out and not answered yet."""
        with self._lock:
            return frozenset(self._pending)

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

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
        """`TurnEnded` once the turn is over, seen in a complete view (a fetched chat).

        Over on the stream only: stop reading (`finished`); `on_stream_end` then fetches.
        """
        if self._ended or self._pending or self.chat is None:
            return []
        over, paused = self._turn_over(self.chat)
        if not over:
            return []
        self.finished = True
        if not complete_view:
            return []
        self._ended = True
        return [TurnEnded(self.chat, paused=paused)]

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

    # -- requests -------------------------------------------------------------------------

    def _connect(self) -> Action:
        if self._mode == "poll":
            return PollStatus(self._status())
        self._lines_since_connect = 0
        return OpenStream(self._request("/stream", stream=True))

    def _count_attempt(self) -> None:
        if self._lines_since_connect:
            self._failures = 0
        self._failures += 1
        self._lines_since_connect = 0

    def _cap(self, seconds: float) -> float:
        return seconds if self._deadline is None else self._deadline.cap(seconds)

    def _status(self) -> endpoints.ApiRequest:
        return self._request("/status")

    def _request(self, suffix: str, *, stream: bool = False) -> endpoints.ApiRequest:
        call = endpoints.build(self._opts, "GET", chat_path(self.chat_id, suffix), stream=stream)
        if stream:
            # A stream open is tried once: reconnecting is this follower's job, with its own
            # budget (retrying inside each reconnect too would multiply the two).
            call = replace(call, max_retries=0)
        return call.within(self._deadline)

    def _model(self, model: type[_ModelT], data: dict[str, Any]) -> _ModelT:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            message = f"the API sent a {model.__name__} this client cannot read: {exc}"
            if self._response is None:  # fed by hand, not read from the API
                raise ValueError(message) from exc
            raise APIResponseValidationError(message, response=self._response) from exc
