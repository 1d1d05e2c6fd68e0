"""Turning payloads into models, and a finished task into a result or a typed error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import httpx2

from inferencesh.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    TaskCancelledError,
    TaskFailedError,
    TaskRejectedError,
)
from inferencesh.models._status import TaskStatus

if TYPE_CHECKING:
    from pydantic import BaseModel

    from inferencesh.models.task import Task

__all__ = ["as_model", "finished", "translate_transport_error"]

M = TypeVar("M", bound="BaseModel")


def as_model(model: type[M], data: Any, response: httpx2.Response | None = None) -> M:
    """Validate a payload; a payload that does not fit is the server's fault, said clearly."""
    from pydantic import ValidationError  # here, not at import: see models/__init__.py

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message = f"the API sent a {model.__name__} this client cannot read: {exc}"
        if response is None:
            raise ValueError(message) from exc
        raise APIResponseValidationError(message, response=response) from exc


def finished(task: Task) -> Task:
    """Return a completed task; raise the matching `TaskError` for any other end."""
    if task.status == TaskStatus.COMPLETED:
        return task
    why = f": {task.error}" if task.error else ""
    if task.status == TaskStatus.CANCELLED:
        raise TaskCancelledError(f"task {task.id} was cancelled{why}", task=task)
    if task.status == TaskStatus.REJECTED:
        raise TaskRejectedError(f"task {task.id} was rejected{why}", task=task)
    raise TaskFailedError(f"task {task.id} {task.status.label}{why}", task=task)


def translate_transport_error(
    exc: httpx2.TransportError, request: httpx2.Request
) -> APIConnectionError:
    """The SDK's error for a transport failure (raise it `from exc`)."""
    if isinstance(exc, httpx2.TimeoutException):
        return APITimeoutError(request=request)
    where = (
        f"{request.method} {request.url.scheme}://{request.url.netloc.decode()}{request.url.path}"
    )
    return APIConnectionError(f"could not reach the API ({where}): {exc}", request=request)
