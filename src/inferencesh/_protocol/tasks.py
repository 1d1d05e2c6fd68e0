"""The task endpoints: request builders shared by the sync and async clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx2

from inferencesh._config import ClientOptions
from inferencesh._protocol.deadline import Deadline
from inferencesh._protocol.endpoints import ApiRequest, build, run_body, task_path
from inferencesh._protocol.results import as_object
from inferencesh._types import NOT_GIVEN, NotGiven
from inferencesh.errors import APIResponseValidationError, TaskTimeoutError
from inferencesh.models._status import TaskStatus

__all__ = [
    "cancel",
    "created_task",
    "delete",
    "get",
    "list_tasks",
    "logs",
    "run",
    "run_deadline",
    "status",
]


def run_deadline(wait_timeout: float | None) -> Deadline | None:
    """The deadline of one `run()` or wait, from now; None without a `wait_timeout`.

    Until a task is known its error says none may exist yet; `TaskWatch` names the task once
    it follows one.
    """
    if wait_timeout is None:
        return None

    def expired() -> TaskTimeoutError:
        return TaskTimeoutError(
            f"run() did not finish within {wait_timeout:g} s, before the API answered the run "
            "request: no task id is known (if the request was sent, a task may have started; "
            "see tasks.list())",
            task_id=None,
        )

    return Deadline(wait_timeout, on_expiry=expired)


def created_task(data: object, response: httpx2.Response) -> tuple[dict[str, Any], str]:
    """The task the run response describes, and its id.

    Raises:
        APIResponseValidationError: not a task object, or one without an id.
    """
    task = as_object(data, response)
    task_id = task.get("id")
    if not isinstance(task_id, str) or not task_id:
        raise APIResponseValidationError(
            f"POST /apps/run: the API answered without a task id (got {task_id!r})",
            response=response,
        )
    return task, task_id


def run(
    opts: ClientOptions,
    app: str | Mapping[str, Any] | None,
    input: Any,
    fields: Mapping[str, Any],
) -> ApiRequest:
    """`POST /apps/run`. Never retried in a way that could start a second task."""
    body = run_body(app, fields)
    if not isinstance(input, NotGiven):
        body["input"] = input
    if not body.get("app") and not (body.get("app_id") or body.get("version_id")):
        raise TypeError("run() needs an app: run('namespace/name', input={...})")
    if "input" not in body:
        raise TypeError(f"run() needs input=... for app {body.get('app')!r} (use {{}} for none)")
    return build(opts, "POST", "/apps/run", body=body, idempotent=False)


def get(opts: ClientOptions, task_id: str) -> ApiRequest:
    """`GET /tasks/{id}`."""
    return build(opts, "GET", task_path(task_id))


def status(opts: ClientOptions, task_id: str) -> ApiRequest:
    """`GET /tasks/{id}/status`."""
    return build(opts, "GET", task_path(task_id, "/status"))


def logs(opts: ClientOptions, task_id: str) -> ApiRequest:
    """`GET /tasks/{id}/logs`."""
    return build(opts, "GET", task_path(task_id, "/logs"))


def cancel(opts: ClientOptions, task_id: str) -> ApiRequest:
    """`POST /tasks/{id}/cancel`. Not retried after it may have reached the server."""
    return build(opts, "POST", task_path(task_id, "/cancel"), idempotent=False)


def delete(opts: ClientOptions, task_id: str, *, files: bool) -> ApiRequest:
    """`DELETE /tasks/{id}` (`?files=true` also deletes the task's files)."""
    params = {"files": "true"} if files else None
    return build(opts, "DELETE", task_path(task_id), params=params)


def list_tasks(
    opts: ClientOptions,
    *,
    limit: int,
    cursor: str | None,
    status: TaskStatus | Sequence[TaskStatus] | None,
    app_id: str | None,
    sort: str | NotGiven = NOT_GIVEN,
) -> ApiRequest:
    """`POST /tasks/list` with a cursor-list request. A read, so safe to retry."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    body: dict[str, Any] = {"limit": limit}
    if cursor:
        body["cursor"] = cursor
    filters: list[dict[str, Any]] = []
    if isinstance(status, TaskStatus):
        filters.append({"field": "status", "operator": "eq", "value": int(status)})
    elif status is not None:
        filters.append({"field": "status", "operator": "in", "value": [int(s) for s in status]})
    if app_id is not None:
        filters.append({"field": "app_id", "operator": "eq", "value": app_id})
    if filters:
        body["filters"] = filters
    order = "-created_at" if isinstance(sort, NotGiven) else sort
    field = order.lstrip("-+")
    body["sort"] = [{"field": field, "dir": "desc" if order.startswith("-") else "asc"}]
    return build(opts, "POST", "/tasks/list", body=body, idempotent=True)
