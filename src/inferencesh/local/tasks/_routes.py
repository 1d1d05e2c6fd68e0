"""The task endpoints (tasks.md): HTTP in, `TaskService` calls, envelopes out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from inferencesh.local.core._envelope import base_url_of, ok, read_json_object
from inferencesh.local.core._streams import EventStream, StreamSettings

if TYPE_CHECKING:
    from inferencesh.local.tasks._service import TaskService
    from inferencesh.local.tasks._state import TaskStore

__all__ = ["task_routes"]


def task_routes(
    service: TaskService, store: TaskStore, settings: StreamSettings
) -> list[BaseRoute]:
    """The routes of `POST /apps/run` and `/tasks/...`."""

    async def run(request: Request) -> Response:
        body = await read_json_object(request)
        return ok(request, service.run(body, base_url=base_url_of(request)))

    async def list_tasks(request: Request) -> Response:
        return ok(request, service.list(await read_json_object(request, required=False)))

    async def get(request: Request) -> Response:
        return ok(request, service.get(_task_id(request)))

    async def status(request: Request) -> Response:
        return ok(request, service.status(_task_id(request)))

    async def logs(request: Request) -> Response:
        return ok(request, service.logs(_task_id(request)))

    async def timings(request: Request) -> Response:
        return ok(request, service.timings(_task_id(request)))

    async def cancel(request: Request) -> Response:
        return ok(request, service.cancel(_task_id(request)))

    async def delete(request: Request) -> Response:
        files = request.query_params.get("files", "").lower() in ("1", "true", "yes")
        service.delete(_task_id(request), files=files)
        return ok(request, None, void=True)

    async def stream(request: Request) -> Response:
        task_id = _task_id(request)
        opened = store.open_stream(task_id)
        if opened is None:
            raise service.not_found(task_id)
        first, subscription = opened
        accept = request.headers.get("accept", "")
        return EventStream(
            first=[first],
            subscription=subscription,
            heartbeat_interval=settings.heartbeat_interval,
            snapshot=lambda: store.snapshot_item(task_id),
            snapshot_interval=settings.snapshot_interval,
            sse="text/event-stream" in accept and "ndjson" not in accept,
            cut=settings.faults.take_cut(),
        )

    return [
        Route("/apps/run", run, methods=["POST"]),
        Route("/tasks/list", list_tasks, methods=["POST"]),
        Route("/tasks/{task_id}", get, methods=["GET"]),
        Route("/tasks/{task_id}", delete, methods=["DELETE"]),
        Route("/tasks/{task_id}/status", status, methods=["GET"]),
        Route("/tasks/{task_id}/stream", stream, methods=["GET"]),
        Route("/tasks/{task_id}/logs", logs, methods=["GET"]),
        Route("/tasks/{task_id}/timings", timings, methods=["GET"]),
        Route("/tasks/{task_id}/cancel", cancel, methods=["POST"]),
    ]


def _task_id(request: Request) -> str:
    return str(request.path_params["task_id"])
