"""Every exception the SDK raises.

```text
InferenceError
├── ConfigurationError              no or empty API key, bad base_url or option (also a ValueError)
├── UsageError                      the SDK was used in a way it cannot serve (also a RuntimeError)
│   ├── ClientClosedError           a call on a client after close()
│   └── SessionClosedError          a run on a session handle that has ended
├── InvalidInputError               .path: a value JSON cannot carry (NaN, lone surrogate,
│                                   object), found before any request (also a ValueError)
├── APIError                        .request
│   ├── APIConnectionError          the transport failed
│   │   └── APITimeoutError
│   ├── APIStatusError              .status_code .response .problem .code .retry_after
│   │   ├── BadRequestError                400
│   │   ├── AuthenticationError            401
│   │   ├── PaymentRequiredError           402
│   │   ├── PermissionDeniedError          403
│   │   ├── NotFoundError                  404
│   │   │   └── SessionNotFoundError       404 SESSION_NOT_FOUND
│   │   ├── ConflictError                  409
│   │   │   └── WorkerConflictError        409 WORKER_LEASED / APP_MISMATCH / VERSION_MISMATCH
│   │   ├── GoneError                      410
│   │   │   ├── SessionExpiredError        410 SESSION_EXPIRED
│   │   │   └── SessionEndedError          410 SESSION_ENDED
│   │   ├── RequirementsNotMetError        412 (.errors)
│   │   ├── UnprocessableEntityError       422
│   │   ├── RateLimitError                 429 (.retry_after: the server's Retry-After)
│   │   └── InternalServerError            5xx
│   └── APIResponseValidationError  .response: a 2xx body that is not JSON or does not fit
├── TaskError                       .task: the run did not complete
│   ├── TaskFailedError             status failed (11)
│   │   └── TaskRejectedError       status rejected (13): admission refused, never ran
│   └── TaskCancelledError          status cancelled (12)
├── FileInputError                  a file to upload is unusable (also a ValueError)
│   └── MissingFileError            the path does not exist (also a FileNotFoundError)
├── FileNameError                   .name: a server's file name unusable on disk (also a ValueError)
├── UploadError                     the bytes could not be uploaded; the file record was removed
├── StreamError                     a stream gave up: reconnects used up, idle timeout
├── ToolError                       raised by a tool handler; becomes an error tool result
├── ToolDefinitionError             a bad @tool signature (also a TypeError); lists every problem
├── TaskTimeoutError                wait_timeout passed (also a TimeoutError); .task_id if created
├── AgentTimeoutError               an agent's turn took longer than asked (also a TimeoutError)
└── AgentOutputError                .output: an agent's structured result is missing or wrong

InferenceWarning                    a warning message the server attached to a response
```

The API key never appears in any message: requests are described by method and URL only. A
pickled (or deep-copied) error carries its request and response with credentials redacted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from inferencesh._redact import redacted

if TYPE_CHECKING:
    import httpx2

    from inferencesh.models.task import Task

__all__ = [
    "AgentOutputError",
    "AgentTimeoutError",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "GoneError",
    "FileInputError",
    "FileNameError",
    "InferenceError",
    "InferenceWarning",
    "InternalServerError",
    "InvalidInputError",
    "MissingFileError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequirementsNotMetError",
    "SessionClosedError",
    "SessionEndedError",
    "SessionExpiredError",
    "SessionNotFoundError",
    "StreamError",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "TaskRejectedError",
    "TaskTimeoutError",
    "ToolDefinitionError",
    "ToolError",
    "UnprocessableEntityError",
    "UploadError",
    "UsageError",
    "WorkerConflictError",
]


class InferenceError(Exception):
    """Base class of every error raised by this SDK."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt without calling __init__ (subclasses take keyword-only arguments), and
        # with credentials redacted from any request or response the error carries.
        state = {key: redacted(value) for key, value in self.__dict__.items()}
        return (_rebuild, (type(self), self.args, state))


def _rebuild(cls: type[InferenceError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class InferenceWarning(UserWarning):
    """A warning the server attached to a successful response (`messages` with level warning)."""


class ConfigurationError(InferenceError, ValueError):
    """The client (or a call's option) was configured wrongly, e.g. no or an empty API key."""


class UsageError(InferenceError, RuntimeError):
    """The SDK was used in a way it cannot serve; the message says what to do instead."""


class ClientClosedError(UsageError):
    """A call on a client that was closed (`close()`, `aclose()` or the end of its `with`)."""


class SessionClosedError(UsageError):
    """A run on a session handle that has ended; open a new one with `client.session()`."""


class InvalidInputError(InferenceError, ValueError):
    """A value in a request cannot be sent as JSON; `path` says where (`input.a`).

    NaN and infinite floats, text holding lone surrogates, objects `json` cannot encode (sets,
    datetimes, models: convert them first) and circular or too deeply nested containers.
    Raised before any request is made.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class APIError(InferenceError):
    """A request to the API did not succeed."""

    def __init__(self, message: str, *, request: httpx2.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APIConnectionError(APIError):
    """The request never got an HTTP response: DNS, connect, read or write failed."""

    def __init__(
        self, message: str = "Connection error.", *, request: httpx2.Request | None = None
    ) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, *, request: httpx2.Request | None = None) -> None:
        super().__init__("Request timed out.", request=request)


class APIStatusError(APIError):
    """The API answered with a 4xx or 5xx status.

    `problem` is the RFC 9457 problem+json body (or whatever JSON object came back), and
    `code` the machine-readable error code taken from the problem `type`
    (`https://api.inference.sh/errors/<code>`) or a legacy `error.code`.
    """

    def __init__(
        self,
        message: str,
        *,
        response: httpx2.Response,
        problem: Mapping[str, Any] | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.problem: Mapping[str, Any] = problem or {}
        self.code = code
        self.retry_after = retry_after
        """Seconds the server asked to wait (`Retry-After`), when it said."""


class BadRequestError(APIStatusError):
    """400: the request was malformed or failed validation."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong."""


class PaymentRequiredError(APIStatusError):
    """402: a spending limit or payment method is needed."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this (e.g. `requires_sign_in`, `insufficient_scope`)."""


class NotFoundError(APIStatusError):
    """404: no such resource (task, file, session, app...)."""


class ConflictError(APIStatusError):
    """409: the resource is in a state that does not allow this (e.g. an invalid transition)."""


class GoneError(APIStatusError):
    """410: the resource existed but is no longer usable (e.g. a retired app)."""


class RequirementsNotMetError(APIStatusError):
    """412: the app needs secrets, integrations or scopes the account does not have.

    `errors` lists each missing requirement as the API describes it:
    `{"type": "secret" | "integration" | "scope", "key": ..., "message": ..., "action": {...}}`.
    """

    @property
    def errors(self) -> list[Mapping[str, Any]]:
        """The missing requirements, one mapping each."""
        raw = self.problem.get("errors")
        if isinstance(raw, Sequence) and not isinstance(raw, str):
            return [e for e in raw if isinstance(e, Mapping)]  # pyright: ignore[reportUnknownVariableType]
        return []


class UnprocessableEntityError(APIStatusError):
    """422: the input did not validate against the app's schema."""


class RateLimitError(APIStatusError):
    """429: too many requests.

    Retried automatically where that is safe, after the server's `Retry-After` when it asks
    for at most the client's `max_retry_after`; a longer wait is raised at once, with
    `retry_after` saying how long the server asked for.
    """


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


class _SessionMixin:
    @property
    def session_id(self) -> str | None:
        """The session the error is about, when the server or the call named it."""
        problem: Mapping[str, Any] = getattr(self, "problem", {})
        value = problem.get("session_id") or getattr(self, "_session_id", None)
        return value if isinstance(value, str) else None


class SessionNotFoundError(_SessionMixin, NotFoundError):
    """404 `SESSION_NOT_FOUND`: no session has this id."""


class SessionExpiredError(_SessionMixin, GoneError):
    """410 `SESSION_EXPIRED`: the session's idle timeout elapsed; start a new one."""


class SessionEndedError(_SessionMixin, GoneError):
    """410 `SESSION_ENDED`: the session was ended explicitly; start a new one."""


class WorkerConflictError(_SessionMixin, ConflictError):
    """409 `WORKER_LEASED`/`APP_MISMATCH`/`VERSION_MISMATCH`: the session's worker is unusable."""


class APIResponseValidationError(APIError):
    """A successful response whose body is not JSON or does not have the expected shape.

    `response` is the response (its body read); the message quotes what did not fit.
    """

    def __init__(self, message: str, *, response: httpx2.Response) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code


class TaskError(InferenceError):
    """A task ended without completing; `task` is the final task as the server reported it."""

    def __init__(self, message: str, *, task: Task) -> None:
        super().__init__(message)
        self.message = message
        self.task = task

    @property
    def task_id(self) -> str:
        """The id of the task."""
        return self.task.id


class TaskFailedError(TaskError):
    """The task ended with status `failed`; `task.error` says why."""


class TaskRejectedError(TaskFailedError):
    """The task was refused admission (status `rejected`) and never ran."""


class TaskCancelledError(TaskError):
    """The task ended with status `cancelled`."""


class TaskTimeoutError(InferenceError, TimeoutError):
    """The caller's `wait_timeout` passed. A task that was created keeps running.

    `task_id` is the task's id, or None when the deadline passed before the task was created
    (while uploading its input files or sending the run; the message says which).
    """

    def __init__(self, message: str, *, task_id: str | None) -> None:
        super().__init__(message)
        self.task_id = task_id


class AgentTimeoutError(InferenceError, TimeoutError):
    """Waiting for an agent's turn took longer than the caller allowed; the turn may go on."""

    def __init__(self, message: str, *, chat_id: str) -> None:
        super().__init__(message)
        self.chat_id = chat_id


class AgentOutputError(InferenceError, ValueError):
    """The agent's structured result is missing or does not fit the type asked for.

    `output` is what the agent gave (None when it gave nothing).
    """

    def __init__(self, message: str, *, output: Any) -> None:
        super().__init__(message)
        self.output = output


class FileInputError(InferenceError, ValueError):
    """A file given for upload cannot be used: a directory, empty, unreadable, bad data URI."""


class MissingFileError(FileInputError, FileNotFoundError):
    """A path given for upload does not exist."""


class FileNameError(InferenceError, ValueError):
    """A file name from the server cannot be used on disk; `name` is the name.

    Empty, `.`, `..`, holding a path separator, NUL or another control character, or longer
    than 255 bytes in UTF-8. Nothing was written. Pass a file path as `dest` to choose the
    name yourself.
    """

    def __init__(self, message: str, *, name: str) -> None:
        super().__init__(message)
        self.name = name


class UploadError(InferenceError):
    """Uploading a file's bytes failed. The half-registered file record was deleted."""

    def __init__(self, message: str, *, file_id: str | None = None) -> None:
        super().__init__(message)
        self.file_id = file_id


class StreamError(InferenceError):
    """A stream could not be followed to its end (reconnects used up, or idle too long)."""


class ToolError(InferenceError):
    """Raise from a tool handler to send the model an error result instead of a value."""


class ToolDefinitionError(InferenceError, TypeError):
    """A function cannot become a tool; `problems` lists everything that is wrong with it."""

    def __init__(self, name: str, problems: Sequence[str]) -> None:
        self.name = name
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"cannot make a tool of {name!r}:\n{lines}")
