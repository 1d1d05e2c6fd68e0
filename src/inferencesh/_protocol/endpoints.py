"""Requests of the API, built from client options and call arguments."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

import httpx2

from inferencesh._config import DEFAULT_MAX_RETRY_AFTER, ClientOptions
from inferencesh._protocol.deadline import Deadline
from inferencesh._protocol.jsonbody import encode_json
from inferencesh._types import JSON
from inferencesh._version import __version__

__all__ = ["ApiRequest", "build", "user_agent"]

NDJSON = "application/x-ndjson"
_USER_AGENT = f"inferencesh-python/{__version__}"


def user_agent() -> str:
    """The User-Agent this SDK sends."""
    return _USER_AGENT


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """A request plus what the retry loop needs to know about it."""

    request: httpx2.Request
    idempotent: bool
    """Safe to send twice. `POST /apps/run` is not: a second send could start a second task."""
    max_retries: int
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    """The longest `Retry-After` waited for; a longer one is raised at once."""
    deadline: Deadline | None = None
    """The call's overall time limit, when the caller set one (`wait_timeout`)."""
    rewind: Callable[[], httpx2.Request] | None = None
    """Makes the request again for another try, when its body is a stream read once."""

    def within(self, deadline: Deadline | None) -> ApiRequest:
        """This request, bounded by `deadline`."""
        return self if deadline is None else replace(self, deadline=deadline)


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
        content = encode_json(body)
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
        _parsed(url),
        headers=headers,
        content=content,
        extensions={"timeout": timeout.as_dict()},
    )
    return ApiRequest(
        request,
        method in ("GET", "DELETE") if idempotent is None else idempotent,
        opts.max_retries,
        opts.max_retry_after,
    )


@lru_cache(maxsize=512)
def _parsed(url: str) -> httpx2.URL:
    """`url` parsed once per distinct URL (they are immutable).

    httpx2 parses in Python (≈ 9 µs, bench/RESULTS.md §3), and a client sends the same URLs
    again and again: every run, every poll of a task.
    """
    return httpx2.URL(url)


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
