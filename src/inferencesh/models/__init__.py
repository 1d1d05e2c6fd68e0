"""Pydantic models of what the API sends.

Loaded on first use: building model classes is most of a client's import time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inferencesh.models._status import TaskStatus as TaskStatus
    from inferencesh.models._status import TaskUpdate as TaskUpdate
    from inferencesh.models.file import AsyncFile as AsyncFile
    from inferencesh.models.file import File as File
    from inferencesh.models.file import FileRef as FileRef
    from inferencesh.models.page import CursorPage as CursorPage
    from inferencesh.models.session import Session as Session
    from inferencesh.models.task import ResourceStatus as ResourceStatus
    from inferencesh.models.task import Task as Task
    from inferencesh.models.task import TaskEvent as TaskEvent
    from inferencesh.models.task import TaskLog as TaskLog
    from inferencesh.models.task import TaskLogs as TaskLogs

_LAZY = {
    "TaskStatus": "inferencesh.models._status",
    "TaskUpdate": "inferencesh.models._status",
    "AsyncFile": "inferencesh.models.file",
    "File": "inferencesh.models.file",
    "FileRef": "inferencesh.models.file",
    "CursorPage": "inferencesh.models.page",
    "Session": "inferencesh.models.session",
    "ResourceStatus": "inferencesh.models.task",
    "Task": "inferencesh.models.task",
    "TaskEvent": "inferencesh.models.task",
    "TaskLog": "inferencesh.models.task",
    "TaskLogs": "inferencesh.models.task",
}

__all__ = sorted(_LAZY)  # pyright: ignore[reportUnsupportedDunderAll]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'inferencesh.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
