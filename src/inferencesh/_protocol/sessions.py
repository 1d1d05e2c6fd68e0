"""The session endpoints: request builders shared by both clients."""

from __future__ import annotations

from urllib.parse import quote

from inferencesh._config import ClientOptions
from inferencesh._protocol.endpoints import ApiRequest, build

__all__ = ["end", "get", "keepalive", "list_sessions", "session_path"]


def session_path(session_id: str, suffix: str = "") -> str:
    """`/sessions/{id}{suffix}` with the id escaped."""
    if not session_id or session_id == "new":
        raise ValueError(f"not a session id: {session_id!r}")
    return f"/sessions/{quote(session_id, safe='')}{suffix}"


def get(opts: ClientOptions, session_id: str) -> ApiRequest:
    """`GET /sessions/{id}`."""
    return build(opts, "GET", session_path(session_id))


def list_sessions(opts: ClientOptions) -> ApiRequest:
    """`GET /sessions`."""
    return build(opts, "GET", "/sessions")


def keepalive(opts: ClientOptions, session_id: str) -> ApiRequest:
    """`POST /sessions/{id}/keepalive`: restart the idle timer (safe to repeat)."""
    return build(opts, "POST", session_path(session_id, "/keepalive"), idempotent=True)


def end(opts: ClientOptions, session_id: str) -> ApiRequest:
    """`DELETE /sessions/{id}`: end the session and release its worker."""
    return build(opts, "DELETE", session_path(session_id))
