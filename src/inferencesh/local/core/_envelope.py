"""Response bodies: the success envelope of each API version, and problem+json errors.

A request carrying `X-API-Version: 2` gets bare DTOs (and 204 for void answers), as the JS
SDK's repository version expects. Every other request gets
`{"success": true, "status": 200, "data": ..., "messages": []}`: `data` and `messages` are
what the current clients read, and `success` is what the official Python SDK's agent client
checks. Errors are RFC 9457 problem+json in both modes, with the real HTTP status.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from inferencesh.local.core._json import BadJSONError, dumps, loads

__all__ = ["ApiError", "base_url_of", "is_v2", "ok", "problem_response", "read_json_object"]

ERROR_TYPE_BASE = "https://api.inference.sh/errors/"
JSON_TYPE = "application/json"
PROBLEM_TYPE = "application/problem+json"


class ApiError(Exception):
    """An error answer: raise it from a route and it becomes problem+json.

    `code` ends the problem `type` URI (`.../errors/<code>`), which is where the official
    Python SDK reads `APIError.code` from. `extra` adds members to the problem (for example
    the `errors` array of a 412).
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or _phrase(status)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def problem(self, *, legacy: bool) -> dict[str, Any]:
        """The problem+json body.

        Args:
            legacy: Also add `error: {code, message}`, the pre-RFC 9457 error shape that the
                official Python SDK's agent client reads its message from.
        """
        body: dict[str, Any] = {
            "type": ERROR_TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(self.extra)
        if legacy:
            body["error"] = {"code": self.code, "message": self.detail}
        return body


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def is_v2(headers: Headers | Mapping[str, str]) -> bool:
    """Whether the caller speaks API version 2 (bare DTOs)."""
    return headers.get("x-api-version", "").strip() == "2"


def problem_response(error: ApiError, headers: Headers | Mapping[str, str]) -> Response:
    """`error` as a problem+json response for a request with these headers."""
    return Response(
        dumps(error.problem(legacy=not is_v2(headers))),
        status_code=error.status,
        headers=error.headers,
        media_type=PROBLEM_TYPE,
    )


def ok(request: Request, data: Any, *, void: bool = False) -> Response:
    """A success answer in the caller's API version.

    Args:
        request: The request being answered (its `X-API-Version` picks the shape).
        data: The DTO.
        void: The operation has no result: version 2 callers get `204 No Content`.
    """
    if is_v2(request.headers):
        if void:
            return Response(status_code=204)
        return Response(dumps(data), media_type=JSON_TYPE)
    # Always wrapped, even when the DTO has its own `data` member: unwrapping clients would
    # otherwise take the DTO's member for the payload.
    body: dict[str, Any] = {"success": True, "status": 200, "data": data, "messages": []}
    return Response(dumps(body), media_type=JSON_TYPE)


async def read_json_object(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object.

    Keys whose value is `null` are dropped: the official Python SDK sends explicit nulls for
    options it leaves unset, and they mean "absent".

    Raises:
        ApiError: 400 `invalid_request` for a body that is not a JSON object, or not strict
            JSON (NaN, infinities, lone surrogates, nested too deeply: see `core._json`).
    """
    raw = await request.body()
    if not raw.strip():
        if required:
            raise ApiError(400, "invalid_request", "request body is empty; expected a JSON object")
        return {}
    try:
        body = loads(raw)
    except BadJSONError as exc:
        raise ApiError(400, "invalid_request", f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", f"expected a JSON object, got {type(body).__name__}")
    fields = typing.cast(dict[str, Any], body)
    return {k: v for k, v in fields.items() if v is not None}


def base_url_of(request: Request) -> str:
    """Where the caller reached the emulator (`http://host:port`), for URLs it hands out."""
    return str(request.base_url).rstrip("/")
