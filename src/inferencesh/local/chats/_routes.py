"""The agent, chat, tool and interrupt endpoints (agents.md): HTTP in, `ChatService` out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from inferencesh.local.core._envelope import base_url_of, ok, read_json_object
from inferencesh.local.core._streams import EventStream, StreamSettings

if TYPE_CHECKING:
    from inferencesh.local.chats._service import ChatService

__all__ = ["chat_routes"]


def chat_routes(service: ChatService, settings: StreamSettings) -> list[BaseRoute]:
    """The routes of `/agents/run`, `/chats/...`, `/tools/...`, `/interrupts/...`."""
    store = service.store

    async def run(request: Request) -> Response:
        body = await read_json_object(request)
        return ok(request, service.run(body, base_url=base_url_of(request)))

    async def get(request: Request) -> Response:
        return ok(request, store.chat(_param(request, "chat_id")))

    async def status(request: Request) -> Response:
        return ok(request, store.status(_param(request, "chat_id")))

    async def messages(request: Request) -> Response:
        query = request.query_params
        page = service.messages(
            _param(request, "chat_id"), limit=query.get("limit"), cursor=query.get("cursor")
        )
        return ok(request, page)

    async def stop(request: Request) -> Response:
        service.stop(_param(request, "chat_id"))
        return ok(request, None, void=True)

    async def stream(request: Request) -> Response:
        chat_id = _param(request, "chat_id")
        first, subscription = store.open_stream(chat_id)
        accept = request.headers.get("accept", "")
        return EventStream(
            first=first,
            subscription=subscription,
            heartbeat_interval=settings.heartbeat_interval,
            snapshot=lambda: store.snapshot_item(chat_id),
            snapshot_interval=settings.snapshot_interval,
            sse="text/event-stream" in accept and "ndjson" not in accept,
            cut=settings.faults.take_cut(),
        )

    async def tool_result(request: Request) -> Response:
        service.submit_result(_param(request, "tool_id"), await read_json_object(request))
        return ok(request, None, void=True)

    async def invoke(request: Request) -> Response:
        service.approve(_param(request, "tool_id"))
        return ok(request, None, void=True)

    async def reject(request: Request) -> Response:
        body = await read_json_object(request, required=False)
        service.reject(_param(request, "tool_id"), body)
        return ok(request, None, void=True)

    async def always_allow(request: Request) -> Response:
        body = await read_json_object(request, required=False)
        service.always_allow(_param(request, "chat_id"), _param(request, "tool_id"), body)
        return ok(request, None, void=True)

    async def resolve(request: Request) -> Response:
        body = await read_json_object(request)
        return ok(request, service.resolve_interrupt(_param(request, "interrupt_id"), body))

    async def run_interrupts(request: Request) -> Response:
        return ok(request, store.run_interrupts(_param(request, "run_id")))

    return [
        Route("/agents/run", run, methods=["POST"]),
        Route("/agents/message", run, methods=["POST"]),
        Route("/agents/messages", run, methods=["POST"]),
        Route("/chats/{chat_id}", get, methods=["GET"]),
        Route("/chats/{chat_id}/status", status, methods=["GET"]),
        Route("/chats/{chat_id}/stream", stream, methods=["GET"]),
        Route("/chats/{chat_id}/messages", messages, methods=["GET"]),
        Route("/chats/{chat_id}/stop", stop, methods=["POST"]),
        Route("/chats/{chat_id}/tools/{tool_id}/always-allow", always_allow, methods=["POST"]),
        Route("/tools/{tool_id}", tool_result, methods=["POST"]),
        Route("/tools/{tool_id}/invoke", invoke, methods=["POST"]),
        Route("/tools/{tool_id}/reject", reject, methods=["POST"]),
        Route("/interrupts/{interrupt_id}/resolve", resolve, methods=["POST"]),
        Route("/agent-runs/{run_id}/interrupts", run_interrupts, methods=["GET"]),
    ]


def _param(request: Request, name: str) -> str:
    return str(request.path_params[name])
