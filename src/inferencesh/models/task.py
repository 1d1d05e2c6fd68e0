"""Tasks: one run of an app, and its status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from inferencesh.models._base import APIModel
from inferencesh.models._status import TaskStatus, TaskUpdate

__all__ = ["ResourceStatus", "Task", "TaskEvent", "TaskLog", "TaskLogs", "TaskStatus", "TaskUpdate"]


def _status(value: object) -> TaskStatus:
    return TaskStatus.parse(value)


class TaskEvent(APIModel):
    """One status change in a task's history."""

    id: str = ""
    task_id: str = ""
    status: TaskStatus = TaskStatus.UNKNOWN
    event_time: datetime | None = None
    created_at: datetime | None = None

    _parse_status = field_validator("status", mode="before")(_status)


class TaskLog(APIModel):
    """A block of log output. `log_type`: 0 build, 1 run, 2 serve, 3 setup, 4 task."""

    id: str = ""
    task_id: str = ""
    log_type: int = 1
    content: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Task(APIModel):
    """A task as the API describes it. Fields this SDK does not model are kept as extras."""

    id: str
    status: TaskStatus = TaskStatus.UNKNOWN
    """Current status; see `TaskStatus`."""
    short_id: str | None = None
    app_id: str | None = None
    app_version_id: str | None = None
    function: str | None = None
    input: Any = None
    output: Any = None
    """What the app returned, once the task completed."""
    error: str | None = None
    """Why the task failed, when it did."""
    setup: Any = None
    infra: str | None = None
    session_id: str | None = None
    """The session this task ran in (`session="new"` or an id)."""
    session_timeout: int | None = None
    webhook: str | None = None
    events: list[TaskEvent] = Field(default_factory=list[TaskEvent])
    logs: list[TaskLog] = Field(default_factory=list[TaskLog])
    created_at: datetime | None = None
    updated_at: datetime | None = None

    _parse_status = field_validator("status", mode="before")(_status)

    @field_validator("events", "logs", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended."""
        return self.status.is_terminal

    @property
    def progress(self) -> float | None:
        """Progress in [0, 1] reported by the app while it runs, when it reports any."""
        raw = (self.model_extra or {}).get("progress")
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return min(1.0, max(0.0, float(raw)))
        return None


class ResourceStatus(APIModel):
    """The slim `GET /tasks/{id}/status` answer used for polling."""

    id: str = ""
    status: TaskStatus = TaskStatus.UNKNOWN
    updated_at: datetime | None = None

    _parse_status = field_validator("status", mode="before")(_status)


class TaskLogs(APIModel):
    """`GET /tasks/{id}/logs`: the task's status, events and log blocks."""

    task_id: str = ""
    status: TaskStatus = TaskStatus.UNKNOWN
    events: list[TaskEvent] = Field(default_factory=list[TaskEvent])
    logs: list[TaskLog] = Field(default_factory=list[TaskLog])

    _parse_status = field_validator("status", mode="before")(_status)

    @field_validator("events", "logs", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value
