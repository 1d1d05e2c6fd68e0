"""Task statuses and updates: plain classes, no pydantic, so following a stream is cheap.

`TaskUpdate.task` validates into the pydantic `Task` on first access only; the client's
import stays light because nothing here builds a model class.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx2

    from inferencesh.models.task import Task

__all__ = ["TaskStatus", "TaskUpdate"]


class TaskStatus(IntEnum):
    """Where a task is in its life. The API sends ints; names are accepted too."""

    UNKNOWN = 0
    RECEIVED = 1
    QUEUED = 2
    DISPATCHED = 3
    PREPARING = 4
    SERVING = 5
    SETTING_UP = 6
    RUNNING = 7
    CANCELLING = 8
    UPLOADING = 9
    COMPLETED = 10
    FAILED = 11
    CANCELLED = 12
    REJECTED = 13

    @classmethod
    def parse(cls, value: object) -> TaskStatus:
        """Read a status the way every official client does.

        Ints map to their member (unknown ints to UNKNOWN), strings by case-insensitive name,
        anything else to UNKNOWN.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, bool):
            return cls.UNKNOWN
        if isinstance(value, int):
            try:
                return cls(value)
            except ValueError:
                return cls.UNKNOWN
        if isinstance(value, str):
            text = value.strip()
            if text.isdigit():
                return cls.parse(int(text))
            return _BY_NAME.get(text.lower(), cls.UNKNOWN)
        return cls.UNKNOWN

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended: completed, failed, cancelled or rejected."""
        return self in _TERMINAL

    @property
    def label(self) -> str:
        """The lower-case wire name, e.g. `"running"`."""
        return self.name.lower()

    def __str__(self) -> str:
        # `print(task.status)` shows `completed`, not `10`; comparisons stay those of ints.
        return self.label

    def __format__(self, spec: str) -> str:
        # f"{status}" reads like str(); a format spec (f"{status:d}") formats the int.
        return self.label if not spec else format(int(self), spec)


_BY_NAME = {s.name.lower(): s for s in TaskStatus} | {"canceled": TaskStatus.CANCELLED}
_TERMINAL = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.REJECTED}
)


class TaskUpdate:
    """One update of a followed task: the task as known after this line of the stream.

    Updates are cheap to make (the task is validated only when `.task` is read), so following
    a busy stream costs little. `delta` is set when the update came from a token delta.
    """

    __slots__ = ("_task", "data", "delta", "fields", "response")

    def __init__(
        self,
        data: dict[str, Any],
        *,
        fields: tuple[str, ...] | None = None,
        delta: dict[str, Any] | None = None,
        response: httpx2.Response | None = None,
    ) -> None:
        self.data = data
        """The accumulated task as JSON."""
        self.fields = fields
        """The top-level fields this update changed, when the server said."""
        self.delta = delta
        """The LLM delta this update came from (`{"response": "..."}`...), if any."""
        self.response = response
        """The response this update was read from (a stream's headers, a fetch)."""
        self._task: Task | None = None

    @property
    def task(self) -> Task:
        """The task as a validated model.

        Raises:
            APIResponseValidationError: the server sent a task this client cannot read.
        """
        if self._task is None:
            from pydantic import ValidationError

            from inferencesh.models.task import Task

            try:
                self._task = Task.model_validate(self.data)
            except ValidationError as exc:
                raise _invalid(exc, self.response) from exc
        return self._task

    @property
    def id(self) -> str:
        """The task id."""
        return str(self.data.get("id", ""))

    @property
    def status(self) -> TaskStatus:
        """The task status as of this update."""
        return TaskStatus.parse(self.data.get("status"))

    @property
    def is_terminal(self) -> bool:
        """Whether this update ends the task."""
        return self.status.is_terminal

    @property
    def output(self) -> Any:
        """The output so far (accumulated from deltas while an LLM app streams)."""
        return self.data.get("output")

    @property
    def progress(self) -> float | None:
        """Progress in [0, 1], when the app reports it."""
        raw = self.data.get("progress")
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return min(1.0, max(0.0, float(raw)))
        return None

    @property
    def progress_message(self) -> str | None:
        """What the app says it is doing, when it says."""
        raw = self.data.get("progress_message")
        return raw if isinstance(raw, str) else None

    def __repr__(self) -> str:
        extra = f", progress={self.progress:.2f}" if self.progress is not None else ""
        return f"TaskUpdate(id={self.id!r}, status={self.status.label}{extra})"


def _invalid(exc: Exception, response: httpx2.Response | None) -> Exception:
    from inferencesh.errors import APIResponseValidationError

    message = f"the API sent a task this client cannot read: {exc}"
    if response is None:  # an update made by hand, not read from the API
        return ValueError(message)
    return APIResponseValidationError(message, response=response)
