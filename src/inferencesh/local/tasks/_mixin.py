"""The task side of `Emulator`'s public API: reading tasks, waiting for them, their limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inferencesh.local.tasks._state import StreamFormat, TaskStore

__all__ = ["TasksMixin"]


class TasksMixin:
    """Tasks of an emulator, as clients see them (`Emulator` inherits these)."""

    task_store: TaskStore

    @property
    def max_finished_tasks(self) -> int:
        """Finished tasks kept (settable); the oldest finished one is evicted past it."""
        return self.task_store.max_finished_tasks

    @max_finished_tasks.setter
    def max_finished_tasks(self, value: int) -> None:
        if value < 1:
            raise ValueError(f"max_finished_tasks must be > 0, got {value}")
        self.task_store.max_finished_tasks = value

    @property
    def stream_format(self) -> StreamFormat:
        """How task streams write updates (`"bare"` or `"wrapped"`); settable."""
        return self.task_store.stream_format

    @stream_format.setter
    def stream_format(self, value: StreamFormat) -> None:
        self.task_store.stream_format = value

    def tasks(self) -> list[dict[str, Any]]:
        """Copies of every task, oldest first (as `GET /tasks/{id}` would show them)."""
        return self.task_store.snapshots()

    def task(self, task_id: str) -> dict[str, Any]:
        """A copy of the task as clients would get it.

        Raises:
            KeyError: no such task.
        """
        task = self.task_store.snapshot(task_id)
        if task is None:
            raise KeyError(task_id)
        return task

    def wait_for_task(self, task_id: str, *, timeout: float | None = 10.0) -> dict[str, Any]:
        """Block until the task has ended; its final state.

        Raises:
            KeyError: no such task (or it was deleted).
            TimeoutError: it did not end within `timeout` seconds.
        """
        task = self.task_store.wait(task_id, _ended, timeout)
        if task is None:
            raise KeyError(task_id)
        return task


def _ended(task: Mapping[str, Any]) -> bool:
    return task["status"] in (10, 11, 12, 13)
