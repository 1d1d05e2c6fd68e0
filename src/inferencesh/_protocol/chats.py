"""The requests of the agent runner: a chat's paths, and what it posts and gets.

`chat_view.py` reads what the server says of a turn; `chat_watch.py` follows it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from inferencesh._config import ClientOptions
from inferencesh._protocol import endpoints

__all__ = [
    "approve_request",
    "chat_path",
    "chat_request",
    "reject_request",
    "run_request",
    "stop_request",
    "tool_path",
    "tool_result_request",
]


def chat_path(chat_id: str, suffix: str = "") -> str:
    """`/chats/{id}{suffix}` with the id escaped, so an id can never change the path."""
    if not chat_id:
        raise ValueError("chat_id must be a non-empty string")
    return f"/chats/{quote(chat_id, safe='')}{suffix}"


def tool_path(invocation_id: str, suffix: str = "") -> str:
    """`/tools/{id}{suffix}` with the id escaped."""
    if not invocation_id:
        raise ValueError("the invocation id must be a non-empty string")
    return f"/tools/{quote(invocation_id, safe='')}{suffix}"


def run_request(opts: ClientOptions, body: dict[str, Any]) -> endpoints.ApiRequest:
    """`POST /agents/run`: a message, and the run it starts. Never sent twice."""
    return endpoints.build(opts, "POST", "/agents/run", body=body, idempotent=False)


def chat_request(opts: ClientOptions, chat_id: str) -> endpoints.ApiRequest:
    """`GET /chats/{id}`: the chat, its messages included."""
    return endpoints.build(opts, "GET", chat_path(chat_id))


def stop_request(opts: ClientOptions, chat_id: str) -> endpoints.ApiRequest:
    """`POST /chats/{id}/stop`: end the running turn (stopping twice changes nothing)."""
    return endpoints.build(opts, "POST", chat_path(chat_id, "/stop"), idempotent=True)


# The server takes a result or a decision only while the call waits for one, so sending one
# again (after a connection broke) can never apply it twice: a second one is refused (409).


def tool_result_request(
    opts: ClientOptions, invocation_id: str, result: str
) -> endpoints.ApiRequest:
    """`POST /tools/{id}` with a client tool's result."""
    return endpoints.build(
        opts, "POST", tool_path(invocation_id), body={"result": result}, idempotent=True
    )


def approve_request(opts: ClientOptions, invocation_id: str) -> endpoints.ApiRequest:
    """`POST /tools/{id}/invoke`: the call may run."""
    return endpoints.build(opts, "POST", tool_path(invocation_id, "/invoke"), idempotent=True)


def reject_request(opts: ClientOptions, invocation_id: str, reason: str) -> endpoints.ApiRequest:
    """`POST /tools/{id}/reject` with the reason the model is told."""
    return endpoints.build(
        opts,
        "POST",
        tool_path(invocation_id, "/reject"),
        body={"reason": reason},
        idempotent=True,
    )
