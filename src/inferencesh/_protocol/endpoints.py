"""Requests of the API, built from client options and call arguments."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx2

from inferencesh._config import ClientOptions
from inferencesh._types import JSON

__all__ = ["ApiRequest", "build", "user_agent"]

_VERSION = "0.1.0"
NDJSON = "application/x-ndjson"


def user_agent() -> str:
    """The User-Agent this SDK sends."""
    return f"inferencesh-python/{_VERSION}"


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """A request plus what the retry policy needs to know about it."""

    request: httpx2.Request
    idempotent: bool
    """Safe to send twice. `POST /apps/run` is not: a second send could start a second task."""
    max_retries: int


def build(
    opts: ClientOptions,
    method: str,
    path: str,
    *,
    body: JSON = None,
    params: Mapping[str, str] | None = None,
    idempotent: bool | None = None,
    stream: bool = False,
) -> ApiRequest:
    """Build one API request.

    In proxy mode (`proxy_url`) the request goes to the proxy and names the real target in
    `x-inf-target-url` (plus `__inf_target` on streams), exactly as the JS SDK does, and no
    Authorization header is sent: the proxy adds the key on the server.
    """
    target = opts.base_url + path
    if params:
        target += "?" + urlencode(params)
    headers: list[tuple[str, str]] = [
        ("user-agent", user_agent()),
        ("accept", NDJSON if stream else "application/json"),
    ]
    if stream:
        # Compression would make the transport buffer lines instead of passing each one on.
        headers += [("accept-encoding", "identity"), ("cache-control", "no-cache")]
    content: bytes | None = None
    if body is not None:
        content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        headers.append(("content-type", "application/json"))
    if opts.proxy_url is not None:
        url = opts.proxy_url
        if stream:
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}__inf_target={quote(target, safe='')}"
        headers.append(("x-inf-target-url", target))
    else:
        url = target
        headers.append(("authorization", f"Bearer {opts.api_key}"))
    headers.extend(opts.headers)
    timeout = opts.timeout
    if stream:
        # A stream is silent between heartbeats; only a longer silence means it is dead.
        timeout = httpx2.Timeout(
            opts.timeout.read, connect=opts.timeout.connect, read=opts.stream_idle_timeout
        )
    request = httpx2.Request(
        method,
        url,
        headers=headers,
        content=content,
        extensions={"timeout": timeout.as_dict()},
    )
    return ApiRequest(
        request,
        method in ("GET", "DELETE") if idempotent is None else idempotent,
        opts.max_retries,
    )


def run_body(app: str | Mapping[str, Any] | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The `POST /apps/run` body: the dict form verbatim, keyword fields on top; `None`s dropped."""
    body: dict[str, Any] = {}
    if isinstance(app, Mapping):
        body.update(app)
    elif app is not None:
        body["app"] = app
    for key, value in fields.items():
        if value is not None:
            body[key] = value
    return body


def task_path(task_id: str, suffix: str = "") -> str:
    """`/tasks/{id}{suffix}` with the id escaped, so an id can never change the path."""
    if not task_id:
        raise ValueError("task_id must be a non-empty string")
    return f"/tasks/{quote(task_id, safe='')}{suffix}"
