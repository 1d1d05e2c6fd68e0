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
- reconnects are bounded: `max_reconnects` in a row without a new line raise `StreamError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx2

from inferencesh._config import ClientOptions
from inferencesh._protocol import endpoints
from inferencesh._protocol.deltas import merge_delta
from inferencesh._protocol.follow import Action, Fetch, Finished, OpenStream, PollStatus, Sleep
from inferencesh._protocol.retry import RetryPolicy
from inferencesh._types import StreamMode
from inferencesh.errors import StreamError, TaskTimeoutError
from inferencesh.models._status import TaskStatus, TaskUpdate

__all__ = ["Action", "Fetch", "Finished", "OpenStream", "PollStatus", "Sleep", "TaskWatch"]


_TERMINAL_INTS = frozenset(int(s) for s in TaskStatus if s.is_terminal)


def _is_terminal(raw: object) -> bool:
    """`TaskStatus.parse(raw).is_terminal`, without parsing the plain ints streams carry."""
    if type(raw) is int:  # not bool, not an IntEnum: those take the full parse
        return raw in _TERMINAL_INTS
    return TaskStatus.parse(raw).is_terminal


class TaskWatch:
    """Decides how to follow one task; see the module docstring."""

    def __init__(
        self,
        opts: ClientOptions,
        task_id: str,
        *,
        mode: StreamMode,
        initial: dict[str, Any] | None = None,
        timeout: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._opts = opts
        self._task_id = task_id
        self._mode: StreamMode = mode
        self._clock = clock
        self._deadline = None if timeout is None else clock() + timeout
        self._timeout = timeout
        self._acc: dict[str, Any] = dict(initial) if initial else {"id": task_id}
        self._initial = initial is not None
        self._last: dict[str, Any] | None = None
        self._compare_next = False
        self._delta_output: dict[str, Any] | None = None
        self._max_seq = -1
        self._failures = 0
        self._lines_since_connect = 0
        self._retry = RetryPolicy(max_retries=opts.max_reconnects, initial_delay=0.25)
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
            self._lines_since_connect += 1
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
                acc.update(payload)  # pyright: ignore[reportUnknownArgumentType]
            elif "id" in line or "status" in line:
                acc.update(line)
            else:
                continue  # an event this client does not know; not a task update
            update = self._emit_one(fields)
            if update is not None:
                updates.append(update)
        return updates

    def on_stream_end(self) -> Action:
        """The stream closed cleanly. Unless it ended the task, ask the server where it is."""
        if self.finished:
            return Finished()
        self._count_attempt()
        return Fetch(self._get_task())

    def on_stream_error(self, exc: Exception) -> Action:
        """The stream broke: reconnect after a backoff, or give up."""
        if self.finished:
            return Finished()
        self.check_deadline()
        self._count_attempt()
        delay = self._retry.backoff(self._failures)
        if self._failures > self._opts.max_reconnects:
            raise StreamError(
                f"lost the stream of task {self._task_id} {self._failures} times in a row "
                f"({type(exc).__name__}); the task may still be running: "
                "check it with tasks.get() or follow it again with tasks.wait()"
            ) from exc
        return Sleep(self._cap(delay), self._connect())

    # -- fetching and polling -------------------------------------------------------------

    def on_fetched(self, data: dict[str, Any]) -> tuple[list[TaskUpdate], Action]:
        """A full task arrived from `GET /tasks/{id}`."""
        self._acc.update(data)
        if self._mode == "stream":
            self._compare_next = True
        updates = self._emit(None)
        if self.finished:
            return updates, Finished()
        if self._mode == "poll":
            return updates, Sleep(self._cap(self._opts.poll_interval), PollStatus(self._status()))
        if self._failures > self._opts.max_reconnects:
            raise StreamError(
                f"the stream of task {self._task_id} kept ending before the task did "
                f"({self._failures} times); follow it again with tasks.wait()"
            )
        return updates, Sleep(self._cap(self._retry.backoff(self._failures)), self._connect())

    def on_status(self, data: dict[str, Any]) -> Action:
        """A `/status` answer arrived (poll mode): fetch the task only when it changed."""
        status = TaskStatus.parse(data.get("status"))
        known = TaskStatus.parse(self._acc.get("status"))
        if status != known or data.get("updated_at") != self._acc.get("updated_at"):
            return Fetch(self._get_task())
        return Sleep(self._cap(self._opts.poll_interval), PollStatus(self._status()))

    # -- deadline -------------------------------------------------------------------------

    def remaining(self) -> float | None:
        """Seconds left before the caller's timeout, or None without one."""
        return None if self._deadline is None else self._deadline - self._clock()

    def check_deadline(self) -> None:
        """Raise `TaskTimeoutError` once the caller's timeout has passed."""
        left = self.remaining()
        if left is not None and left <= 0:
            raise TaskTimeoutError(
                f"task {self._task_id} did not finish within {self._timeout:g} s; "
                "it is still running (cancel it with tasks.cancel() if you no longer need it)",
                task_id=self._task_id,
            )

    # -- internals ------------------------------------------------------------------------

    def _connect(self) -> Action:
        if self._mode == "poll":
            return PollStatus(self._status())
        if self._last is not None:
            self._compare_next = True
        self._lines_since_connect = 0
        return OpenStream(self._stream())

    def _count_attempt(self) -> None:
        if self._lines_since_connect:
            self._failures = 0
        self._failures += 1
        self._lines_since_connect = 0

    def _cap(self, seconds: float) -> float:
        left = self.remaining()
        return seconds if left is None else max(0.0, min(seconds, left))

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
        update = TaskUpdate(snapshot, fields=fields)
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
        update = TaskUpdate(snapshot, delta=delta)  # pyright: ignore[reportUnknownArgumentType]
        self.last = update
        return update

    def _request(self, suffix: str, *, stream: bool = False) -> endpoints.ApiRequest:
        opts = self._opts
        left = self.remaining()
        if left is not None:
            # Never block on one read past the caller's deadline.
            idle = opts.stream_idle_timeout if stream else opts.timeout.read or left
            read = max(0.001, min(left, idle))
            timeout = httpx2.Timeout(
                opts.timeout.write, connect=opts.timeout.connect, read=read, pool=opts.timeout.pool
            )
            opts = replace(
                opts,
                timeout=timeout,
                stream_idle_timeout=read if stream else opts.stream_idle_timeout,
            )
        return endpoints.build(
            opts, "GET", endpoints.task_path(self._task_id, suffix), stream=stream
        )

    def _stream(self) -> endpoints.ApiRequest:
        return self._request("/stream", stream=True)

    def _get_task(self) -> endpoints.ApiRequest:
        return self._request("")

    def _status(self) -> endpoints.ApiRequest:
        return self._request("/status")
