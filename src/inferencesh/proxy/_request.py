"""What `authorize` and an API-key resolver are given, and how they refuse a call."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any

__all__ = ["ProxyRefused", "ProxyRequest"]


class ProxyRefused(Exception):
    """Refuses a proxied call with an HTTP status and a message; nothing is sent upstream.

    Raise it from `authorize` (or an API-key resolver) to answer, say, 401 when the user has
    no session or 429 with a `Retry-After` header when they call too often. The browser gets
    `{"error": message}` as JSON, the shape the JS SDK's own proxy uses.

    Example:
        ```python
        def authorize(request: ProxyRequest) -> bool:
            if "session" not in request.cookies:
                raise ProxyRefused(401, "Sign in first")
            return True
        ```
    """

    def __init__(
        self, status: int, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"a refusal needs a 4xx or 5xx status, got {status}")
        super().__init__(message)
        self.status = status
        """The HTTP status of the answer."""
        self.message = message
        """The `error` text of the JSON body."""
        self.headers: dict[str, str] = dict(headers or {})
        """Extra response headers, e.g. `{"retry-after": "30"}`."""

    def body(self) -> bytes:
        """The JSON body: `{"error": message}`."""
        return json.dumps({"error": self.message}).encode()

    def response_headers(self) -> list[tuple[str, str]]:
        """Headers of the refusal's response, extra headers included."""
        body = self.body()
        return [
            ("content-type", "application/json"),
            ("content-length", str(len(body))),
            ("cache-control", "no-store"),
            ("x-content-type-options", "nosniff"),
            *((k.lower(), v) for k, v in self.headers.items()),
        ]

    def __repr__(self) -> str:
        return f"ProxyRefused({self.status}, {self.message!r})"


@dataclass(frozen=True, kw_only=True)
class ProxyRequest:
    """A call the proxy is about to forward, as `authorize` and key resolvers see it.

    The target has been checked already: it is an allowed host. The body has not been read.
    """

    method: str
    """`GET`, `POST`, `PUT` or `DELETE`."""
    target: str
    """The URL the call will go to (after the `api_base_url` override)."""
    path: str
    """The target's path and query, e.g. `/apps/run` or `/tasks/abc/stream`."""
    headers: Mapping[str, str]
    """The browser's headers, names in lower case (first value of each). They include its
    cookies; they are not all forwarded."""
    client: str | None
    """The caller's address as the server saw it (`ip`), if known."""
    native: Any = field(repr=False, default=None)
    """The framework's own request: the ASGI scope, the WSGI environ, or Django's
    `HttpRequest` (for `request.user` and `request.session`)."""

    @property
    def cookies(self) -> dict[str, str]:
        """The browser's cookies (parsed from its `Cookie` header; empty if malformed)."""
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("cookie", ""))
        except CookieError:
            return {}
        return {name: morsel.value for name, morsel in cookie.items()}
