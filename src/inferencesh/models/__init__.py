"""Pydantic models of what the API sends."""

from inferencesh.models.task import ResourceStatus as ResourceStatus
from inferencesh.models.task import Task as Task
from inferencesh.models.task import TaskEvent as TaskEvent
from inferencesh.models.task import TaskLog as TaskLog
from inferencesh.models.task import TaskLogs as TaskLogs
from inferencesh.models.task import TaskStatus as TaskStatus

__all__ = ["ResourceStatus", "Task", "TaskEvent", "TaskLog", "TaskLogs", "TaskStatus"]
