"""Following one agent turn on a chat: the state machine both clients drive.

`ChatWatch` implements the stream-follower protocol (`follow.py`) for `GET /chats/{id}/stream`
(NDJSON: `chats`, `chat_messages`, `agent_runs`, `delta`, heartbeats), with the polling
fallback (`GET /chats/{id}/status`, then `GET /chats/{id}` when it changed). What it reads
goes to its `ChatView` (`chat_view.py`), which emits the turn's `ChatItem`s.

Guarantees, whatever the network does (and those of `ChatView`):
- the turn ends on status, never on content (`settle()` tells that an invocation handed out
  here is answered); a turn the stream did not show whole, and a stream that ends or breaks
  earlier, are reconciled with `GET /chats/{id}` (a chat's snapshot on connect does not
  replay finished messages), the latter then reconnected;
- reconnects are bounded (`max_reconnects` in a row without a new line raise `StreamError`;
  a stream open is tried once per reconnect), and the caller's deadline bounds every request
  and sleep (`AgentTimeoutError` once none is left).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, MutableSet
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from inferencesh._config import ClientOptions
from inferencesh._protocol import endpoints
from inferencesh._protocol.chat_view import ChatItem, ChatView
from inferencesh._protocol.chats import chat_path
from inferencesh._protocol.deadline import Deadline
from inferencesh._protocol.follow import Action, Fetch, Finished, OpenStream, PollStatus, Sleep
from inferencesh._protocol.reconnect import Reconnects
from inferencesh._types import StreamMode
from inferencesh.errors import AgentTimeoutError, StreamError

__all__ = ["ChatWatch"]

if TYPE_CHECKING:
    import httpx2

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _locked(
    method: Callable[Concatenate[ChatWatch, _P], _R],
) -> Callable[Concatenate[ChatWatch, _P], _R]:
    """Run `method` holding the watch's lock (the sync runner answers from worker threads)."""

    @functools.wraps(method)
    def locked(self: ChatWatch, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:  # pyright: ignore[reportPrivateUsage]
            return method(self, *args, **kwargs)

    return locked


class ChatWatch(ChatView):
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
        super().__init__(
            chat_id,
            run_id=run_id,
            assistant_message_id=assistant_message_id,
            expect_turn=expect_turn,
            handed_out=handed_out,
        )
        self._opts = opts
        self._mode: StreamMode = mode
        self._deadline = deadline
        if deadline is not None:
            deadline.on_expiry = self._timeout_error
        self._reconnect_now = False
        self._last_status: tuple[Any, Any] | None = None
        self._reconnects = Reconnects(opts, deadline)
        self._failure: BaseException | None = None
        self._lock = threading.RLock()

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
            self._reconnects.progress += 1
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

        A turn the stream says is over, but did not show whole, is confirmed with
        `GET /chats/{id}`, which has every message: a message finished while no stream was
        open is in no stream's snapshot.
        """
        if self._ended:
            return Finished()
        if not self.finished:
            self._reconnects.count_attempt()
        return Fetch(self._request(""))

    @_locked
    def on_stream_error(self, exc: Exception) -> Action:
        """The stream broke, or could not be opened: reconnect after a backoff, or give up.

        An error answer that retrying cannot mend (404: no such chat...) and a `Retry-After`
        beyond `max_retry_after` are raised as they are.
        """
        if self.finished:
            return Finished() if self._ended else Fetch(self._request(""))
        if self._reconnects.expired():
            raise self._timeout_error() from exc
        delay = self._reconnects.delay_after(exc)
        if self._reconnects.used_up:
            failures = self._reconnects.failures
            raise StreamError(
                f"lost the stream of chat {self.chat_id} {failures} times in a row "
                f"({type(exc).__name__}); the agent may still be working: follow the chat "
                "again, or read it with get_chat()"
            ) from exc
        # What happened while the stream was down is read in full first: a chat's snapshot on
        # connect replays only what still waits, not the messages finished meanwhile.
        self._reconnect_now = True
        return Sleep(self._reconnects.cap(delay), Fetch(self._request("")))

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
            return items, Sleep(
                self._reconnects.cap(self._opts.poll_interval), PollStatus(self._status())
            )
        if self._reconnects.used_up:
            raise StreamError(
                f"the stream of chat {self.chat_id} kept ending before the turn did "
                f"({self._reconnects.failures} times); follow the chat again"
            )
        return items, Sleep(self._reconnects.cap(self._reconnects.backoff()), self._connect())

    @_locked
    def on_status(self, data: dict[str, Any]) -> Action:
        """A `/status` answer arrived (poll mode): fetch the chat when anything may differ."""
        status = (data.get("status"), data.get("updated_at"))
        changed = status != self._last_status
        self._last_status = status
        if changed or not self._busy_seen:
            return Fetch(self._request(""))
        return Sleep(self._reconnects.cap(self._opts.poll_interval), PollStatus(self._status()))

    def remaining(self) -> float | None:
        """Seconds left before the caller's deadline, or None without one."""
        return self._reconnects.remaining()

    @_locked
    def check_deadline(self) -> None:
        """Raise `AgentTimeoutError` once the caller's deadline has passed (or `fail`'s error)."""
        self._raise_failure()
        if self._reconnects.expired():
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

    # -- requests -------------------------------------------------------------------------

    def _connect(self) -> Action:
        if self._mode == "poll":
            return PollStatus(self._status())
        self._reconnects.connecting()
        return OpenStream(self._request("/stream", stream=True))

    def _status(self) -> endpoints.ApiRequest:
        return self._request("/status")

    def _request(self, suffix: str, *, stream: bool = False) -> endpoints.ApiRequest:
        return self._reconnects.get(chat_path(self.chat_id, suffix), stream=stream)
