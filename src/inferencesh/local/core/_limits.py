"""The request body limit, as ASGI middleware: a body past it is a 413, never held whole.

Every request body the API reads is held in memory while it is parsed, so its size is what
bounds a request's memory. A declared `Content-Length` over the limit is refused before any
byte is kept; a body without one (chunked) is counted as it arrives and refused the moment
it passes the limit. Either way the rest of the body is read and dropped (up to
`DRAIN_LIMIT` bytes) before the 413 goes out, with `Connection: close`: a server that closes
a connection with unread bytes resets it, and the reset can destroy the answer on its way, so
the client would report a broken connection instead of what was wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inferencesh.local.core._envelope import ApiError, problem_response

__all__ = ["DEFAULT_MAX_BODY_SIZE", "DRAIN_LIMIT", "BodyLimitMiddleware", "body_too_large", "drain"]

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
"""Bytes; API bodies are JSON (files travel through upload URLs, which have their own limit)."""
DRAIN_LIMIT = 64 * 1024 * 1024
"""Bytes of a refused body read and dropped so the client hears the 413; past that, it closes."""


def body_too_large(limit: int) -> ApiError:
    """The 413 of a body over `limit` bytes."""
    return ApiError(
        413,
        "payload_too_large",
        f"the request body is over the emulator's limit of {limit} bytes "
        "(Emulator(max_body_size=...), inferencesh serve --max-body-size)",
        headers={"connection": "close"},
    )


class BodyLimitMiddleware:
    """Refuses request bodies over `limit()` bytes outside `exempt_prefixes`.

    `limit` is read on every request, so changing the emulator's option takes effect at once.
    """

    def __init__(
        self, app: ASGIApp, limit: Callable[[], int], exempt_prefixes: Collection[str] = ()
    ) -> None:
        self.app = app
        self.limit = limit
        self.exempt_prefixes = tuple(exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        limit = self.limit()
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            await drain(receive)
            await problem_response(body_too_large(limit), headers)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if message.get("more_body", False):
                        await drain(receive)
                    # Raised inside the route's body read: the route's error handler answers.
                    raise body_too_large(limit)
            return message

        await self.app(scope, counted, send)


async def drain(receive: Receive, limit: int = DRAIN_LIMIT) -> None:
    """Read and drop the rest of a request body (up to `limit` bytes)."""
    dropped = 0
    while dropped <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client went away
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
