"""inferencesh: the Python SDK for inference.sh.

Run AI apps as tasks (`inference()` / `async_inference()`), define agent tools with
decorators (`@tool`), and test everything locally against the emulator
(`inferencesh.local`).

Submodules load on first use, so `import inferencesh` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from inferencesh._version import __version__ as __version__

if TYPE_CHECKING:
    from inferencesh._async.agents import AsyncAgent as AsyncAgent
    from inferencesh._async.agents import AsyncAgentStream as AsyncAgentStream
    from inferencesh._async.client import AsyncInference as AsyncInference
    from inferencesh._async.client import async_inference as async_inference
    from inferencesh._async.tasks import AsyncTaskStream as AsyncTaskStream
    from inferencesh._sync.agents import Agent as Agent
    from inferencesh._sync.agents import AgentStream as AgentStream
    from inferencesh._sync.client import Inference as Inference
    from inferencesh._sync.client import inference as inference
    from inferencesh._sync.tasks import TaskStream as TaskStream
    from inferencesh.errors import AgentOutputError as AgentOutputError
    from inferencesh.errors import AgentTimeoutError as AgentTimeoutError
    from inferencesh.errors import APIConnectionError as APIConnectionError
    from inferencesh.errors import APIError as APIError
    from inferencesh.errors import APIResponseValidationError as APIResponseValidationError
    from inferencesh.errors import APIStatusError as APIStatusError
    from inferencesh.errors import APITimeoutError as APITimeoutError
    from inferencesh.errors import AuthenticationError as AuthenticationError
    from inferencesh.errors import BadRequestError as BadRequestError
    from inferencesh.errors import ClientClosedError as ClientClosedError
    from inferencesh.errors import ConfigurationError as ConfigurationError
    from inferencesh.errors import ConflictError as ConflictError
    from inferencesh.errors import FileInputError as FileInputError
    from inferencesh.errors import FileNameError as FileNameError
    from inferencesh.errors import GoneError as GoneError
    from inferencesh.errors import InferenceError as InferenceError
    from inferencesh.errors import InferenceWarning as InferenceWarning
    from inferencesh.errors import InternalServerError as InternalServerError
    from inferencesh.errors import InvalidInputError as InvalidInputError
    from inferencesh.errors import MissingFileError as MissingFileError
    from inferencesh.errors import NotFoundError as NotFoundError
    from inferencesh.errors import PaymentRequiredError as PaymentRequiredError
    from inferencesh.errors import PermissionDeniedError as PermissionDeniedError
    from inferencesh.errors import RateLimitError as RateLimitError
    from inferencesh.errors import RequirementsNotMetError as RequirementsNotMetError
    from inferencesh.errors import SessionClosedError as SessionClosedError
    from inferencesh.errors import SessionEndedError as SessionEndedError
    from inferencesh.errors import SessionExpiredError as SessionExpiredError
    from inferencesh.errors import SessionNotFoundError as SessionNotFoundError
    from inferencesh.errors import StreamError as StreamError
    from inferencesh.errors import TaskCancelledError as TaskCancelledError
    from inferencesh.errors import TaskError as TaskError
    from inferencesh.errors import TaskFailedError as TaskFailedError
    from inferencesh.errors import TaskRejectedError as TaskRejectedError
    from inferencesh.errors import TaskTimeoutError as TaskTimeoutError
    from inferencesh.errors import ToolDefinitionError as ToolDefinitionError
    from inferencesh.errors import ToolError as ToolError
    from inferencesh.errors import UnprocessableEntityError as UnprocessableEntityError
    from inferencesh.errors import UploadError as UploadError
    from inferencesh.errors import UsageError as UsageError
    from inferencesh.errors import WorkerConflictError as WorkerConflictError
    from inferencesh.models._status import TaskStatus as TaskStatus
    from inferencesh.models._status import TaskUpdate as TaskUpdate
    from inferencesh.models.file import AsyncFile as AsyncFile
    from inferencesh.models.file import File as File
    from inferencesh.models.file import FileRef as FileRef
    from inferencesh.models.page import CursorPage as CursorPage
    from inferencesh.models.session import Session as Session
    from inferencesh.models.task import Task as Task
    from inferencesh.tools import Skill as Skill
    from inferencesh.tools import Tool as Tool
    from inferencesh.tools import ToolContext as ToolContext
    from inferencesh.tools import ToolResult as ToolResult
    from inferencesh.tools import Toolset as Toolset
    from inferencesh.tools import agent_tool as agent_tool
    from inferencesh.tools import app_tool as app_tool
    from inferencesh.tools import http_tool as http_tool
    from inferencesh.tools import internal_tools as internal_tools
    from inferencesh.tools import mcp_tool as mcp_tool
    from inferencesh.tools import tool as tool
    from inferencesh.tools import webhook_tool as webhook_tool

_LAZY: dict[str, str] = {
    "Agent": "inferencesh._sync.agents",
    "AgentStream": "inferencesh._sync.agents",
    "AsyncAgent": "inferencesh._async.agents",
    "AsyncAgentStream": "inferencesh._async.agents",
    "AsyncInference": "inferencesh._async.client",
    "async_inference": "inferencesh._async.client",
    "AsyncTaskStream": "inferencesh._async.tasks",
    "Inference": "inferencesh._sync.client",
    "inference": "inferencesh._sync.client",
    "TaskStream": "inferencesh._sync.tasks",
    "CursorPage": "inferencesh.models.page",
    "AsyncFile": "inferencesh.models.file",
    "File": "inferencesh.models.file",
    "FileRef": "inferencesh.models.file",
    "Session": "inferencesh.models.session",
    "Task": "inferencesh.models.task",
    "TaskStatus": "inferencesh.models._status",
    "TaskUpdate": "inferencesh.models._status",
    **dict.fromkeys(
        (
            "Skill",
            "Tool",
            "ToolContext",
            "ToolResult",
            "Toolset",
            "agent_tool",
            "app_tool",
            "http_tool",
            "internal_tools",
            "mcp_tool",
            "tool",
            "webhook_tool",
        ),
        "inferencesh.tools",
    ),
    **dict.fromkeys(
        (
            "AgentOutputError",
            "AgentTimeoutError",
            "APIConnectionError",
            "APIError",
            "APIResponseValidationError",
            "APIStatusError",
            "APITimeoutError",
            "AuthenticationError",
            "BadRequestError",
            "ClientClosedError",
            "ConfigurationError",
            "ConflictError",
            "FileInputError",
            "FileNameError",
            "GoneError",
            "InferenceError",
            "InferenceWarning",
            "InternalServerError",
            "InvalidInputError",
            "MissingFileError",
            "NotFoundError",
            "PaymentRequiredError",
            "PermissionDeniedError",
            "RateLimitError",
            "RequirementsNotMetError",
            "SessionClosedError",
            "SessionEndedError",
            "SessionExpiredError",
            "SessionNotFoundError",
            "StreamError",
            "TaskCancelledError",
            "TaskError",
            "TaskFailedError",
            "TaskRejectedError",
            "TaskTimeoutError",
            "ToolDefinitionError",
            "ToolError",
            "UnprocessableEntityError",
            "UploadError",
            "UsageError",
            "WorkerConflictError",
        ),
        "inferencesh.errors",
    ),
}

__all__ = sorted(_LAZY)  # pyright: ignore[reportUnsupportedDunderAll]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'inferencesh' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
