"""Following a task to its end: the state machine both clients drive.

It implements the stream-follower protocol (`follow.py`): it says what to do next
(`OpenStream`, `Fetch`, `PollStatus`, `Sleep`) and is told what happened (lines arrived, the
stream ended or broke, a task or status was fetched). It never does I/O, so the sync and
async clients follow tasks identically.

Guarantees, whatever the network does:
- updates come out in order, and the same state is never emitted twice: after a reconnect
  the server's snapshot is compared with the last update and dropped if nothing changed,
  and a delta whose `seq` was already seen is dropped;
- nothing is lost at the end: a stream that ends before a terminal status is reconciled
  with `GET /tasks/{id}`, and reconnected if the task is still running;
- reconnects are bounded: `max_reconnects` in a row without a new update raise `StreamError`;
  a stream open is tried once per reconnect (never also retried inside it), so a stalled
  server costs at most `(1 + max_reconnects) * stream_idle_timeout` plus the backoff;
- the caller's deadline (`wait_timeout`) bounds all of it: every request and sleep is cut to
  the time left, and `TaskTimeoutError` is raised when none is left;
- log entries are merged by `id`: a line may carry the whole list or only the new entries,
  and the update holds every entry seen, in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inferencesh._config import ClientOptions
from inferencesh._protocol import endpoints
from inferencesh._protocol.deadline import Deadline
from inferencesh._protocol.deltas import merge_delta
from inferencesh._protocol.follow import Action, Fetch, Finished, OpenStream, PollStatus, Sleep
from inferencesh._protocol.reconnect import Reconnects
from inferencesh._types import StreamMode
from inferencesh.errors import (
    APIResponseValidationError,
    StreamError,
    TaskTimeoutError,
)
from inferencesh.models._status import TaskStatus, TaskUpdate

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "Action",
    "Fetch",
    "Finished",
    "OpenStream",
    "PollStatus",
    "Sleep",
    "TaskWatch",
    "merge_logs",
]


_TERMINAL_INTS = frozenset(int(s) for s in TaskStatus if s.is_terminal)


def _is_terminal(raw: object) -> bool:
    """`TaskStatus.parse(raw).is_terminal`, without parsing the plain ints streams carry."""
    if type(raw) is int:  # not bool, not an IntEnum: those take the full parse
        return raw in _TERMINAL_INTS
    return TaskStatus.parse(raw).is_terminal


class TaskWatch:
    """Decides how to follow one task; see the module docstring."""

    stream_ends = True
    """The server ends a task's stream after the terminal update."""

    def __init__(
        self,
        opts: ClientOptions,
        task_id: str,
        *,
        mode: StreamMode,
        initial: dict[str, Any] | None = None,
        response: httpx2.Response | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        """Follow task `task_id`.

        Args:
            opts: The client's options (with the call's overrides).
            task_id: The task.
            mode: `"stream"` or `"poll"`.
            initial: The task as the run response had it, emitted first.
            response: The response `initial` came from.
            deadline: The caller's overall deadline; its error names this task from now on.
        """
        self._opts = opts
        self._task_id = task_id
        self._mode: StreamMode = mode
        self._deadline = deadline
        if deadline is not None:
            deadline.on_expiry = self._timeout_error
        self._response = response
        self._acc: dict[str, Any] = dict(initial) if initial else {"id": task_id}
        self._initial = initial is not None
        self._last: dict[str, Any] | None = None
        self._compare_next = False
        self._delta_output: dict[str, Any] | None = None
        self._max_seq = -1
        self._reconnects = Reconnects(opts, deadline)
        self.finished = False
        self.last: TaskUpdate | None = None

    # -- starting -------------------------------------------------------------------------

    def start(self) -> tuple[list[TaskUpdate], Action]:
        """The updates known before any request (the run response), and the first action."""
        updates: list[TaskUpdate] = []
        if self._initial:
            updates = self._emit(None)
            if self.finished:
                return updates, Finished()
        return updates, self._connect()

    # -- streaming ------------------------------------------------------------------------

    def on_lines(self, lines: list[dict[str, Any]]) -> list[TaskUpdate]:
        """Apply decoded stream lines; return the updates they make."""
        # The hot path of a busy stream (one call per chunk, often one line each): keep it lean.
        updates: list[TaskUpdate] = []
        acc = self._acc
        for line in lines:
            if self.finished:
                break
            if line.get("type") == "heartbeat":
                continue
            if line.get("event") == "delta":
                update = self._apply_delta(line.get("data"))
                if update is not None:
                    updates.append(update)
                continue
            payload = line.get("data")
            fields: tuple[str, ...] | None = None
            if isinstance(payload, dict):
                raw_fields = line.get("fields")
                if isinstance(raw_fields, list):
                    fields = tuple(str(f) for f in raw_fields)  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
                _merge(acc, payload)  # pyright: ignore[reportUnknownArgumentType]
            elif "id" in line or "status" in line:
                _merge(acc, line)
            else:
                continue  # an event this client does not know; not a task update
            update = self._emit_one(fields)
            if update is not None:
                updates.append(update)
        # Progress is a new update: a snapshot repeating what is known (sent on every
        # reconnect) is not, or a server that sends it and stalls would be followed forever.
        self._reconnects.progress += len(updates)
        return updates

    def on_stream_end(self) -> Action:
        """The stream closed cleanly. Unless it ended the task, ask the server where it is."""
        if self.finished:
            return Finished()
        self._reconnects.count_attempt()
        return Fetch(self._get_task())

    def on_stream_error(self, exc: Exception) -> Action:
        """The stream broke, or could not be opened: reconnect after a backoff, or give up.

        An error answer that retrying cannot mend (404: the task was deleted...) and a
        `Retry-After` beyond `max_retry_after` are raised as they are; a wait past the
        caller's deadline is its `TaskTimeoutError` at once, from `exc`.
        """
        if self.finished:
            return Finished()
        if self._reconnects.expired():
            raise self._timeout_error() from exc
        delay = self._reconnects.delay_after(exc)
        left = self.remaining()
        if left is not None and delay >= left:
            raise self._timeout_error() from exc  # no reconnect could happen in time
        if self._reconnects.used_up:
            failures = self._reconnects.failures
            raise StreamError(
                f"lost the stream of task {self._task_id} {failures} times in a row "
                f"({type(exc).__name__}); the task may still be running: "
                "check it with tasks.get() or follow it again with tasks.wait()"
            ) from exc
        return Sleep(self._reconnects.cap(delay), self._connect())

    # -- fetching and polling -------------------------------------------------------------

    def on_response(self, response: httpx2.Response) -> None:
        """The response the next lines or payload come from, kept for error reports."""
        self._response = response

    def on_fetched(self, data: dict[str, Any]) -> tuple[list[TaskUpdate], Action]:
        """A full task arrived from `GET /tasks/{id}`."""
        _merge(self._acc, data)
        if self._mode == "stream":
            self._compare_next = True
        updates = self._emit(None)
        if self.finished:
            return updates, Finished()
        if self._mode == "poll":
            return updates, Sleep(
                self._reconnects.cap(self._opts.poll_interval), PollStatus(self._status())
            )
        if self._reconnects.used_up:
            raise StreamError(
                f"the stream of task {self._task_id} kept ending before the task did "
                f"({self._reconnects.failures} times); follow it again with tasks.wait()"
            )
        return updates, Sleep(self._reconnects.cap(self._reconnects.backoff()), self._connect())

    def on_status(self, data: dict[str, Any]) -> Action:
        """A `/status` answer arrived (poll mode): fetch the task only when it changed.

        Raises:
            APIResponseValidationError: the answer has no status an API sends (int or name).
        """
        raw = data.get("status")
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            message = f"GET /tasks/{self._task_id}/status: no status in the answer (got {raw!r})"
            if self._response is None:  # fed by hand, not read from the API
                raise ValueError(message)
            raise APIResponseValidationError(message, response=self._response)
        status = TaskStatus.parse(raw)
        known = TaskStatus.parse(self._acc.get("status"))
        if status != known or data.get("updated_at") != self._acc.get("updated_at"):
            return Fetch(self._get_task())
        return Sleep(self._reconnects.cap(self._opts.poll_interval), PollStatus(self._status()))

    # -- deadline -------------------------------------------------------------------------

    def remaining(self) -> float | None:
        """Seconds left before the caller's deadline, or None without one."""
        return self._reconnects.remaining()

    def check_deadline(self) -> None:
        """Raise `TaskTimeoutError` once the caller's deadline has passed."""
        if self._reconnects.expired():
            raise self._timeout_error()

    def _timeout_error(self) -> TaskTimeoutError:
        seconds = self._deadline.seconds if self._deadline is not None else 0.0
        return TaskTimeoutError(
            f"task {self._task_id} did not finish within {seconds:g} s; "
            "it is still running (cancel it with tasks.cancel() if you no longer need it)",
            task_id=self._task_id,
        )

    # -- internals ------------------------------------------------------------------------

    def _connect(self) -> Action:
        if self._mode == "poll":
            return PollStatus(self._status())
        if self._last is not None:
            self._compare_next = True
        self._reconnects.connecting()
        return OpenStream(self._stream())

    def _emit(self, fields: tuple[str, ...] | None) -> list[TaskUpdate]:
        update = self._emit_one(fields)
        return [] if update is None else [update]

    def _emit_one(self, fields: tuple[str, ...] | None) -> TaskUpdate | None:
        acc = self._acc
        terminal = _is_terminal(acc.get("status"))
        if terminal and acc.get("output") is None and self._delta_output:
            acc["output"] = self._delta_output
        if self._compare_next:
            self._compare_next = False
            if acc == self._last:
                return None
        snapshot = dict(acc)
        self._last = snapshot
        update = TaskUpdate(snapshot, fields=fields, response=self._response)
        self.last = update
        if terminal:
            self.finished = True
        return update

    def _apply_delta(self, payload: object) -> TaskUpdate | None:
        if not isinstance(payload, dict):
            return None
        seq = payload.get("seq")  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
        if isinstance(seq, int):
            if seq <= self._max_seq:
                return None  # replayed after a reconnect
            self._max_seq = seq
        delta = payload.get("delta")  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
        if not isinstance(delta, dict):
            return None
        self._compare_next = False
        self._delta_output = merge_delta(self._delta_output, delta)  # pyright: ignore[reportUnknownArgumentType]
        self._acc["output"] = self._delta_output
        snapshot = dict(self._acc)
        self._last = snapshot
        update = TaskUpdate(snapshot, delta=delta, response=self._response)  # pyright: ignore[reportUnknownArgumentType]
        self.last = update
        return update

    def _request(self, suffix: str, *, stream: bool = False) -> endpoints.ApiRequest:
        return self._reconnects.get(endpoints.task_path(self._task_id, suffix), stream=stream)

    def _stream(self) -> endpoints.ApiRequest:
        return self._request("/stream", stream=True)

    def _get_task(self) -> endpoints.ApiRequest:
        return self._request("")

    def _status(self) -> endpoints.ApiRequest:
        return self._request("/status")


def _merge(acc: dict[str, Any], payload: dict[str, Any]) -> None:
    """Apply a (full or partial) task to the task known so far; logs merge by id."""
    logs = payload.get("logs")
    if isinstance(logs, list) and logs:
        known = acc.get("logs")
        acc.update(payload)
        acc["logs"] = merge_logs(known, logs)  # pyright: ignore[reportUnknownArgumentType]
    else:
        acc.update(payload)


def merge_logs(known: object, incoming: list[Any]) -> list[Any]:
    """The log entries known so far with `incoming` merged in, by entry `id`.

    Entries not seen before are appended in their order; an entry seen before is replaced
    where it is (a block whose content grew). So the whole list and a slice of new entries
    give the same result. Entries without an id cannot be matched: the list is then taken as
    the whole list, as servers that send no ids do.
    """
    if not isinstance(known, list) or not known:
        return list(incoming)
    if not all(isinstance(e, dict) and isinstance(e.get("id"), str) for e in incoming):  # pyright: ignore[reportUnknownMemberType]
        return list(incoming)
    merged: list[Any] = list(known)  # pyright: ignore[reportUnknownArgumentType]
    where: dict[str, int] = {}
    for index, entry in enumerate(merged):
        if isinstance(entry, dict):
            key = entry.get("id")  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
            if isinstance(key, str):
                where[key] = index
    for entry in incoming:
        key = entry["id"]
        index = where.get(key)
        if index is None:
            where[key] = len(merged)
            merged.append(entry)
        else:
            merged[index] = entry
    return merged
