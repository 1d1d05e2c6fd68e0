"""What an error keeps of a request or response when it is pickled: no credentials.

An error carries the request (and response) it is about; pickling or deep-copying it (a worker
process sending it back, a log handler) must not copy the API key with it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["redacted"]

_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"}
)
_FRAMING_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def redacted(value: Any) -> Any:
    """A copy of a request or response without credentials; anything else as it is."""
    import httpx2

    if isinstance(value, httpx2.Request):
        headers = [
            (name, "[redacted]" if name.lower() in _SECRET_HEADERS else item)
            for name, item in value.headers.multi_items()
        ]
        try:
            content: bytes | None = value.content
        except httpx2.RequestNotRead:
            content = None  # a streamed body (an upload) is not kept
        return httpx2.Request(value.method, value.url, headers=headers, content=content)
    if isinstance(value, httpx2.Response):
        try:
            body: bytes | None = value.content
        except httpx2.ResponseNotRead:
            body = None
        request = value._request  # pyright: ignore[reportPrivateUsage]
        # The body kept is the decoded one: the framing headers no longer describe it.
        headers = [
            (name, item)
            for name, item in value.headers.multi_items()
            if name.lower() not in _FRAMING_HEADERS
        ]
        return httpx2.Response(
            value.status_code,
            headers=headers,
            content=body,
            request=None if request is None else redacted(request),
        )
    return value
