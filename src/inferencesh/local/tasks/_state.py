"""The emulator's tasks: the store, their updates, and who is following them.

Every task is a plain JSON dict shaped like the API's TaskDTO. It changes only through
`TaskStore` methods, under one lock, and each change is encoded once and published to the
task's stream subscribers while the lock is held, so every stream sees the changes in the
order they happened. Lists in a task (`events`, `logs`) only grow and their entries never
change, so a snapshot is a shallow copy.

A stream update carries only what changed: `id`, `status`, `updated_at` and the changed
fields, a log append only its new entry in `logs` (clients merge logs by id). The snapshot
a stream starts with and the terminal update carry the whole task: clients read the
terminal line as the result. So the bytes a task streams grow with its history, not with
its square.

Finished tasks are kept up to `max_finished_tasks`; past it the oldest finished one is
evicted, and its id is remembered (up to `EVICTED_IDS` of them) so a later lookup can say
why it is gone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import anyio

from inferencesh.local.apps._registry import LogType
from inferencesh.local.core._ids import TEAM_ID, USER_ID, Clock, new_id
from inferencesh.local.core._json import clean_text, dumps
from inferencesh.local.core._streams import DEFAULT_MAX_BUFFERED, StreamItem, Subscription, Topic
from inferencesh.local.core._wake import waker
from inferencesh.models.task import TaskStatus

__all__ = ["DEFAULT_MAX_FINISHED_TASKS", "EVICTED_IDS", "StreamFormat", "TaskRecord", "TaskStore"]

StreamFormat = Literal["bare", "wrapped"]
DEFAULT_MAX_FINISHED_TASKS = 1000
EVICTED_IDS = 10_000
"""How many evicted task ids are remembered, to answer "evicted" rather than "not found"."""


class TaskRecord:
    """A task plus what the emulator keeps beside it."""

    __slots__ = ("cancel_requested", "delta_seq", "dto", "interrupt", "seq", "streamed", "topic")

    def __init__(self, dto: dict[str, Any], seq: int, max_buffered: int | None = None) -> None:
        self.dto = dto
        self.seq = seq
        self.topic = Topic(max_buffered)
        self.delta_seq = 0
        self.cancel_requested = threading.Event()
        """Set once a cancel was asked for; apps read it as `ctx.cancelled`."""
        self.interrupt: Callable[[], None] | None = None
        """Set by the runner: stops the app's run when a cancel arrives."""
        self.streamed = threading.Event()
        """Set when a stream first follows the task (see `wait_for_stream` of apps)."""

    @property
    def status(self) -> TaskStatus:
        """The current status."""
        return TaskStatus(self.dto["status"])

    def snapshot(self) -> dict[str, Any]:
        """A copy that later changes do not touch."""
        return {**self.dto, "events": list(self.dto["events"]), "logs": list(self.dto["logs"])}


class TaskStore:
    """All tasks of one emulator (thread-safe)."""

    def __init__(
        self,
        *,
        clock: Clock,
        stream_format: StreamFormat = "bare",
        max_finished_tasks: int = DEFAULT_MAX_FINISHED_TASKS,
        max_stream_buffer: int = DEFAULT_MAX_BUFFERED,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.clock = clock
        self.max_stream_buffer = max_stream_buffer
        """Bytes a task's stream subscriber may fall behind before it is dropped."""
        self.max_finished_tasks = max_finished_tasks
        """Finished tasks kept; past it the oldest finished one is evicted (settable)."""
        self._on_change = on_change
        """Called after every change (`Emulator.wait_until` waits on it)."""
        self.stream_format: StreamFormat = stream_format
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._tasks: dict[str, TaskRecord] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        """Ids of the finished tasks kept, oldest end first."""
        self._evicted: OrderedDict[str, None] = OrderedDict()
        self._seq = 0
        self._waiters: dict[str, list[Callable[[], None]]] = {}
        """`until`'s wake-ups, by task: called (and dropped) on the task's next change."""

    # -- reading --------------------------------------------------------------------------

    def get(self, task_id: str) -> TaskRecord | None:
        """The record of `task_id`, if it exists."""
        with self._lock:
            return self._tasks.get(task_id)

    def snapshot(self, task_id: str) -> dict[str, Any] | None:
        """A copy of the task, or None if there is no such task."""
        with self._lock:
            record = self._tasks.get(task_id)
            return None if record is None else record.snapshot()

    def was_evicted(self, task_id: str) -> bool:
        """Whether the task is gone because finished tasks past the cap were evicted."""
        with self._lock:
            return task_id in self._evicted

    def snapshots(self) -> list[dict[str, Any]]:
        """Copies of every task, oldest first."""
        with self._lock:
            return [r.snapshot() for r in self._tasks.values()]

    def wait(
        self, task_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float | None
    ) -> dict[str, Any] | None:
        """Block until the task satisfies `predicate` (or is gone); its snapshot, or None.

        Raises:
            TimeoutError: `timeout` seconds passed first.
        """
        with self._changed:

            def ready() -> bool:
                record = self._tasks.get(task_id)
                return record is None or predicate(record.dto)

            if not self._changed.wait_for(ready, timeout):
                raise TimeoutError(f"task {task_id} did not get there within {timeout} s")
            return self.snapshot(task_id)

    async def until(
        self, task_id: str, predicate: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any] | None:
        """`wait` for the emulator's own event loops: no thread is held while it waits.

        (An app tool's call waited for its task in a worker thread, on a condition every
        change of every task woke.)
        """
        while True:
            with self._lock:
                record = self._tasks.get(task_id)
                if record is None or predicate(record.dto):
                    return None if record is None else record.snapshot()
                changed = anyio.Event()
                wake = waker(changed.set)
                self._waiters.setdefault(task_id, []).append(wake)
            try:
                await changed.wait()
            finally:
                with self._lock:
                    waiting = self._waiters.get(task_id, [])
                    if wake in waiting:  # cancelled before the change came
                        waiting.remove(wake)
                        if not waiting:
                            del self._waiters[task_id]

    # -- creating and deleting ------------------------------------------------------------

    def create(self, fields: dict[str, Any]) -> TaskRecord:
        """A new task in status `received`, with `fields` (app, input, ...) on top."""
        task_id = new_id("tsk")
        now = self.clock.now_iso()
        dto: dict[str, Any] = {
            "id": task_id,
            "short_id": task_id.removeprefix("tsk_")[:8],
            "created_at": now,
            "updated_at": now,
            "user_id": USER_ID,
            "team_id": TEAM_ID,
            "visibility": "private",
            "user_public_key": "",
            "engine_public_key": "",
            "is_featured": False,
            "status": int(TaskStatus.RECEIVED),
            "function": "run",
            "infra": "cloud",
            "workers": [],
            "setup": {},
            "input": {},
            "output": None,
            "rating": "safe",
            "events": [self._event(task_id, TaskStatus.RECEIVED, now)],
            "logs": [],
            "usage_events": [],
            **fields,
        }
        with self._lock:
            self._seq += 1
            record = TaskRecord(dto, self._seq, self.max_stream_buffer)
            self._tasks[task_id] = record
            self._notify(task_id)
        return record

    def request_cancel(self, task_id: str) -> Literal["missing", "ended", "cancelling"]:
        """Ask to cancel: flag the task and move it to `cancelling` (the runner ends it).

        Returns what happened: no such task, it had already ended, or it is cancelling. The
        caller then calls `record.interrupt`, outside the lock.
        """
        with self._lock:
            record = self._tasks.get(task_id)
            if record is None:
                return "missing"
            if record.status.is_terminal:
                return "ended"
            record.cancel_requested.set()
            if record.status is not TaskStatus.CANCELLING:
                self.transition(task_id, TaskStatus.CANCELLING)
            return "cancelling"

    def delete(self, task_id: str) -> bool:
        """Forget the task and end its streams; False if there was no such task."""
        with self._lock:
            record = self._tasks.pop(task_id, None)
            self._finished.pop(task_id, None)
            self._notify(task_id)
        if record is None:
            return False
        record.topic.close()
        return True

    # -- changing -------------------------------------------------------------------------

    def transition(self, task_id: str, status: TaskStatus, **fields: Any) -> bool:
        """Move the task to `status` (plus `fields`); False if it is gone or already ended.

        A terminal status is the last update its streams send.
        """
        with self._lock:
            record = self._tasks.get(task_id)
            if record is None or record.status.is_terminal:
                return False
            now = self.clock.now_iso()
            dto = record.dto
            dto["status"] = int(status)
            dto["updated_at"] = now
            dto["events"].append(self._event(task_id, status, now))
            if isinstance(fields.get("error"), str):
                fields["error"] = clean_text(fields["error"])
            dto.update(fields)
            # `events` whole: a few entries at most, and clients replace it.
            changed = {"events": dto["events"], **fields}
            self._publish(record, changed, ("status", "updated_at", *changed), status.is_terminal)
            if status.is_terminal:
                self._finished[task_id] = None
                self._evict()
            return True

    def log(self, task_id: str, text: str, log_type: int = LogType.RUN) -> bool:
        """Append a log entry; False if the task is gone or ended."""
        with self._lock:
            record = self._live(task_id)
            if record is None:
                return False
            now = self.clock.now_iso()
            entry = {
                "id": new_id("tlg"),
                "created_at": now,
                "updated_at": now,
                "task_id": task_id,
                "log_type": log_type,
                "content": clean_text(text),
            }
            record.dto["logs"].append(entry)
            record.dto["updated_at"] = now
            self._publish(record, {"logs": [entry]}, ("logs", "updated_at"), False)
            return True

    def progress(self, task_id: str, fraction: float, message: str | None) -> bool:
        """Record progress in [0, 1] (and what the app is doing); False if gone or ended."""
        with self._lock:
            record = self._live(task_id)
            if record is None:
                return False
            changed: dict[str, Any] = {"progress": min(1.0, max(0.0, float(fraction)))}
            if message is not None:
                changed["progress_message"] = clean_text(str(message))
            record.dto.update(changed)
            record.dto["updated_at"] = self.clock.now_iso()
            self._publish(record, changed, (*changed, "updated_at"), False)
            return True

    def delta(self, task_id: str, delta: dict[str, Any]) -> bool:
        """Send a token delta to the task's streams (not stored); False if gone or ended."""
        with self._lock:
            record = self._live(task_id)
            if record is None:
                return False
            record.delta_seq += 1
            payload = {"event": "delta", "data": {"delta": delta, "seq": record.delta_seq}}
            record.topic.publish(StreamItem(dumps(payload)))
            return True

    # -- streaming ------------------------------------------------------------------------

    def open_stream(self, task_id: str) -> tuple[StreamItem, Subscription | None] | None:
        """The snapshot line and a subscription to what follows it (None once ended).

        Taken under the lock, so the subscriber misses no update and sees none twice.
        """
        with self._lock:
            record = self._tasks.get(task_id)
            if record is None:
                return None
            terminal = record.status.is_terminal
            first = StreamItem(dumps(record.dto), final=terminal)
            if terminal:
                return first, None
            subscription = record.topic.subscribe()
            record.streamed.set()
            return first, subscription

    def snapshot_item(self, task_id: str) -> StreamItem | None:
        """The task as one stream line (re-sent on long silences); None if it is gone."""
        with self._lock:
            record = self._tasks.get(task_id)
            if record is None:
                return None
            return StreamItem(dumps(record.dto), final=record.status.is_terminal)

    def close_streams(self) -> None:
        """End every open stream (the server is shutting down)."""
        with self._lock:
            records = list(self._tasks.values())
        for record in records:
            record.topic.end_streams()

    # -- internals ------------------------------------------------------------------------

    def _live(self, task_id: str) -> TaskRecord | None:
        record = self._tasks.get(task_id)
        if record is None or record.status.is_terminal:
            return None
        return record

    def _publish(
        self,
        record: TaskRecord,
        changed: Mapping[str, Any],
        names: Sequence[str],
        final: bool,
    ) -> None:
        """Send an update: `changed` (the whole task if `final`); `names` for `fields`."""
        dto = record.dto
        if final:
            data: Mapping[str, Any] = dto
        else:
            data = {"id": dto["id"], "status": dto["status"], "updated_at": dto["updated_at"]}
            if "session_id" in dto:
                data["session_id"] = dto["session_id"]  # what a session's clients key on
            data.update(changed)
        if self.stream_format == "wrapped":
            line = dumps({"data": data, "fields": list(dict.fromkeys(names))})
        else:
            line = dumps(data)
        record.topic.publish(StreamItem(line, final=final))
        self._notify(dto["id"])

    def _evict(self) -> None:
        """Drop the oldest finished tasks past the cap (under the lock)."""
        while len(self._finished) > max(0, self.max_finished_tasks):
            task_id, _ = self._finished.popitem(last=False)
            record = self._tasks.pop(task_id, None)
            if record is not None:
                record.topic.close()
            self._evicted[task_id] = None
            if len(self._evicted) > EVICTED_IDS:
                self._evicted.popitem(last=False)

    def _notify(self, task_id: str) -> None:
        """Wake `wait`, `until` (under the lock) and the emulator's waiters: a task changed."""
        self._changed.notify_all()
        for wake in self._waiters.pop(task_id, ()):
            wake()  # never blocks: at most schedules a call on the waiter's loop
        self._on_change()

    @staticmethod
    def _event(task_id: str, status: TaskStatus, at: str) -> dict[str, Any]:
        return {
            "id": new_id("tev"),
            "created_at": at,
            "event_time": at,
            "task_id": task_id,
            "status": int(status),
        }
