"""The session endpoints (sessions.md): look up, keep alive, end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from inferencesh.local.core._envelope import ok

if TYPE_CHECKING:
    from inferencesh.local.sessions._store import SessionStore

__all__ = ["session_routes"]


def session_routes(store: SessionStore) -> list[BaseRoute]:
    """The routes of `/sessions...`."""

    async def list_sessions(request: Request) -> Response:
        return ok(request, store.list())  # a plain array, not a cursor page

    async def get(request: Request) -> Response:
        return ok(request, store.get(_session_id(request)))

    async def keepalive(request: Request) -> Response:
        return ok(request, store.keepalive(_session_id(request)))

    async def end(request: Request) -> Response:
        store.end(_session_id(request))
        return ok(request, None, void=True)

    return [
        Route("/sessions", list_sessions, methods=["GET"]),
        Route("/sessions/{session_id}", get, methods=["GET"]),
        Route("/sessions/{session_id}", end, methods=["DELETE"]),
        Route("/sessions/{session_id}/keepalive", keepalive, methods=["POST"]),
    ]


def _session_id(request: Request) -> str:
    return str(request.path_params["session_id"])
