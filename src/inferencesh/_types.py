"""Small shared types: JSON aliases and the NOT_GIVEN sentinel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal, TypeAlias

import httpx2

__all__ = [
    "JSON",
    "NOT_GIVEN",
    "JSONObject",
    "NotGiven",
    "ProgressCallback",
    "StreamMode",
    "TimeoutTypes",
]

JSON: TypeAlias = Any
"""A value that came from (or goes to) `json`: dict, list, str, int, float, bool or None."""

JSONObject: TypeAlias = dict[str, Any]

StreamMode: TypeAlias = Literal["stream", "poll"]
"""How a task is followed: an NDJSON stream, or polling `/tasks/{id}/status`."""

TimeoutTypes: TypeAlias = float | httpx2.Timeout | None

ProgressCallback: TypeAlias = Callable[[int, int | None], object]
"""Called as `(bytes_done, bytes_total)`; the total is None when the server did not say."""


class NotGiven:
    """Marks an argument the caller did not pass, where `None` already means something.

    `timeout=None` means "no timeout"; `timeout=NOT_GIVEN` means "use the client's".
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()
