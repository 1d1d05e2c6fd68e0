"""Bearer-key authentication and CORS, as ASGI middleware (streams pass through unbuffered)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inferencesh.local.core._envelope import ApiError, problem_response

__all__ = ["AuthMiddleware", "CORSMiddleware"]

# What browsers may send: the JS SDK's headers (README §7.5) plus the usual ones.
_ALLOW_HEADERS = (
    "Authorization, Content-Type, X-API-Version, X-Client-Source, Accept, x-inf-target-url, "
    "Cache-Control"
)
_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"


class AuthMiddleware:
    """Requires `Authorization: Bearer <key>` on every request outside `public_prefixes`.

    `api_key` is read on every request (so changing the emulator's key takes effect at once);
    when it returns None every request is let through.
    """

    def __init__(
        self,
        app: ASGIApp,
        api_key: Callable[[], str | None],
        public_prefixes: Collection[str] = (),
    ) -> None:
        self.app = app
        self.api_key = api_key
        self.public_prefixes = tuple(public_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self.api_key()
        if (
            scope["type"] != "http"
            or key is None
            or scope["method"] == "OPTIONS"
            or scope["path"].startswith(self.public_prefixes)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            error = ApiError(
                401, "unauthorized", "missing API key: send Authorization: Bearer <key>"
            )
        elif not secrets.compare_digest(token.strip().encode(), key.encode()):
            error = ApiError(401, "unauthorized", "invalid API key")
        else:
            await self.app(scope, receive, send)
            return
        error.headers["www-authenticate"] = "Bearer"
        await problem_response(error, headers)(scope, receive, send)


class CORSMiddleware:
    """Lets browsers call the emulator with credentials: the origin is echoed, never `*`.

    The JS SDK sends `credentials: 'include'`, which browsers refuse with a wildcard origin.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            requested = headers.get("access-control-request-headers")
            allow = f"{_ALLOW_HEADERS}, {requested}" if requested else _ALLOW_HEADERS
            response_headers = [
                *self._common(origin),
                (b"access-control-allow-methods", _ALLOW_METHODS.encode()),
                (b"access-control-allow-headers", allow.encode("latin-1")),
                (b"access-control-max-age", b"600"),
                (b"content-length", b"0"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": response_headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for key, value in self._common(origin):
                    out.append(key.decode(), value.decode("latin-1"))
                out.append("access-control-expose-headers", "Retry-After, Content-Type")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    def _common(origin: str) -> list[tuple[bytes, bytes]]:
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
