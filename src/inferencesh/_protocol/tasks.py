"""The task endpoints: request builders shared by the sync and async clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inferencesh._config import ClientOptions
from inferencesh._protocol.endpoints import ApiRequest, build, run_body, task_path
from inferencesh._types import NOT_GIVEN, NotGiven
from inferencesh.models._status import TaskStatus

__all__ = ["cancel", "delete", "get", "list_tasks", "logs", "run", "status"]


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
