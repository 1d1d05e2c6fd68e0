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

__all__ = ["as_model", "as_object", "finished", "translate_transport_error"]

M = TypeVar("M", bound="BaseModel")


def as_model(model: type[M], data: Any, response: httpx2.Response) -> M:
    """Validate the payload of `response` as `model`.

    Raises:
        APIResponseValidationError: the payload does not fit: the server's fault, said clearly.
    """
    from pydantic import ValidationError  # here, not at import: see models/__init__.py

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise APIResponseValidationError(
            f"{_describe(response)}: the API sent a {model.__name__} this client cannot read: "
            f"{exc}",
            response=response,
        ) from exc


def as_object(data: Any, response: httpx2.Response) -> dict[str, Any]:
    """The payload of `response`, which must be a JSON object.

    Raises:
        APIResponseValidationError: it is not.
    """
    if not isinstance(data, dict):
        raise APIResponseValidationError(
            f"{_describe(response)}: expected a JSON object, got {type(data).__name__}",
            response=response,
        )
    return data  # pyright: ignore[reportUnknownVariableType]


def _describe(response: httpx2.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.path}"


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
