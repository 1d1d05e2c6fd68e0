"""Pydantic models of what the API sends."""

from inferencesh.models.page import CursorPage as CursorPage
from inferencesh.models.task import ResourceStatus as ResourceStatus
from inferencesh.models.task import Task as Task
from inferencesh.models.task import TaskEvent as TaskEvent
from inferencesh.models.task import TaskLog as TaskLog
from inferencesh.models.task import TaskLogs as TaskLogs
from inferencesh.models.task import TaskStatus as TaskStatus
from inferencesh.models.task import TaskUpdate as TaskUpdate

__all__ = [
    "CursorPage",
    "ResourceStatus",
    "Task",
    "TaskEvent",
    "TaskLog",
    "TaskLogs",
    "TaskStatus",
    "TaskUpdate",
]
