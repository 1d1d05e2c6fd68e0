"""Reading responses: the three success envelopes, and errors as one exception tree.

Success bodies come in three shapes, depending on the API version the server speaks:
a bare DTO (`X-API-Version: 2`), `{"data": ..., "messages": [...]}` (current) and the legacy
`{"success": true, "status": ..., "data": ...}`. Errors are RFC 9457 problem+json.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Mapping
from typing import Any

import httpx2

from inferencesh import errors
from inferencesh._protocol.ndjson import loads
from inferencesh._protocol.retry import parse_retry_after
from inferencesh._types import JSON

__all__ = ["error_from_response", "read_data", "surface_messages"]

logger = logging.getLogger("inferencesh")

_ENVELOPE_KEYS = frozenset({"data", "messages", "success", "status", "error"})

_BY_STATUS: dict[int, type[errors.APIStatusError]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    402: errors.PaymentRequiredError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    410: errors.GoneError,
    412: errors.RequirementsNotMetError,
    422: errors.UnprocessableEntityError,
    429: errors.RateLimitError,
}

# The session codes are matched as upper-case strings, as the official SDKs document.
_BY_CODE: dict[tuple[int, str], type[errors.APIStatusError]] = {
    (404, "SESSION_NOT_FOUND"): errors.SessionNotFoundError,
    (410, "SESSION_EXPIRED"): errors.SessionExpiredError,
    (410, "SESSION_ENDED"): errors.SessionEndedError,
    (409, "WORKER_LEASED"): errors.WorkerConflictError,
    (409, "APP_MISMATCH"): errors.WorkerConflictError,
    (409, "VERSION_MISMATCH"): errors.WorkerConflictError,
}

_HINTS: dict[int, str] = {
    401: "check the API key (api_key=... or INFERENCE_API_KEY)",
    429: "slow down",
}


_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def read_data(response: httpx2.Response) -> JSON:
    """The payload of a successful response, unwrapped from whichever envelope it came in."""
    if response.status_code == 204 or not response.content.strip():
        return None
    try:
        body = loads(response.content)
    except ValueError as exc:
        raise errors.APIResponseValidationError(
            f"{response.request.method} {response.request.url.path}: expected JSON, got "
            f"{response.headers.get('content-type', 'no content type')!r}: "
            f"{response.text[:200]!r}",
            response=response,
        ) from exc
    if not isinstance(body, dict):
        return body
    envelope: dict[str, Any] = body  # pyright: ignore[reportUnknownVariableType]
    if envelope.get("success") is False and _ENVELOPE_KEYS.issuperset(envelope):
        # The legacy API reports some errors inside a 200.
        raise _status_error(response, envelope, envelope.get("status"))
    # A DTO may have its own `data` member (tool invocations do); only a body made of
    # envelope keys alone is an envelope.
    if "data" not in envelope or not _ENVELOPE_KEYS.issuperset(envelope):
        return envelope
    surface_messages(envelope.get("messages"))
    return envelope.get("data")


def surface_messages(messages: object) -> None:
    """Log server messages at their level; warnings also go through `warnings`."""
    if not isinstance(messages, list):
        return
    for item in messages:  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(item, Mapping):
            continue
        level = str(item.get("level", "info")).lower()  # pyright: ignore[reportUnknownMemberType,reportUnknownArgumentType]
        text = str(item.get("message", ""))  # pyright: ignore[reportUnknownMemberType,reportUnknownArgumentType]
        code = item.get("code")  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
        if code:
            text = f"{text} ({code})"
        logger.log(_LEVELS.get(level, logging.INFO), "%s", text)
        if level in ("warning", "warn"):
            warnings.warn(text, errors.InferenceWarning, stacklevel=4)


def error_from_response(response: httpx2.Response) -> errors.APIStatusError:
    """The exception for a non-2xx response (its body must have been read)."""
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"detail": response.text[:500]} if response.content else {}
    return _status_error(response, body, None)  # pyright: ignore[reportUnknownArgumentType]


def _status_error(
    response: httpx2.Response, problem: Mapping[str, Any], status: object
) -> errors.APIStatusError:
    code_status = status if isinstance(status, int) and status >= 400 else response.status_code
    code = _code_of(problem)
    cls = _BY_CODE.get((code_status, code or "")) or _BY_STATUS.get(code_status)
    if cls is None:
        cls = errors.InternalServerError if code_status >= 500 else errors.APIStatusError
    request = response.request
    detail = _message_of(problem)
    if code_status == 412 and not detail:
        detail = "requirements not met"
    message = f"{code_status} from {request.method} {request.url.path}"
    if detail:
        message += f": {detail}"
    hint = _HINTS.get(code_status)
    if hint:
        message += f" ({hint})"
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if retry_after is not None and code_status in (429, 503):
        message += f" (the server asked to retry after {retry_after:g} s)"
    return cls(message, response=response, problem=problem, code=code, retry_after=retry_after)


def _message_of(problem: Mapping[str, Any]) -> str:
    if problem.get("status") == 412 or "errors" in problem:
        reqs = problem.get("errors")
        if isinstance(reqs, list) and reqs and isinstance(reqs[0], Mapping):
            first = reqs[0].get("message")  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
            if isinstance(first, str) and first and not problem.get("detail"):
                return first
    for key in ("detail", "title", "message"):
        value = problem.get(key)
        if isinstance(value, str) and value:
            return value
    legacy = problem.get("error")
    if isinstance(legacy, Mapping):
        value = legacy.get("message")  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
        if isinstance(value, str):
            return value
    if isinstance(legacy, str):
        return legacy
    return json.dumps(problem)[:500] if problem else ""


def _code_of(problem: Mapping[str, Any]) -> str | None:
    type_uri = problem.get("type")
    if isinstance(type_uri, str) and "/errors/" in type_uri:
        return type_uri.rsplit("/errors/", 1)[1] or None
    legacy = problem.get("error")
    if isinstance(legacy, Mapping):
        code = legacy.get("code")  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
        if isinstance(code, str):
            return code
    code = problem.get("code")
    return code if isinstance(code, str) else None
