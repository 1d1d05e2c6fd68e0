"""Incremental NDJSON decoding: any split of the bytes yields the same objects."""

from __future__ import annotations

import json
import logging
from typing import Any

__all__ = ["NdjsonDecoder"]

logger = logging.getLogger("inferencesh")


class NdjsonDecoder:
    """Feed it chunks as they arrive; it returns each complete line's JSON object.

    Blank lines are skipped. A line that is not a JSON object is logged and skipped (as the
    official Python SDK does) rather than ending the stream: one bad line must not lose the
    updates after it.
    """

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """Add bytes; return the objects of every line completed by them."""
        if b"\n" not in chunk:
            self._buf += chunk
            return []
        data = self._buf + chunk if self._buf else chunk
        *lines, self._buf = data.split(b"\n")
        return [obj for line in lines if (obj := _decode(line)) is not None]

    def flush(self) -> list[dict[str, Any]]:
        """The object of a last line that had no newline, at the end of the stream."""
        rest, self._buf = self._buf, b""
        obj = _decode(rest)
        return [] if obj is None else [obj]


def _decode(line: bytes) -> dict[str, Any] | None:
    if not line or line.isspace():
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        logger.warning("skipping a stream line that is not JSON: %r", line[:200])
        return None
    if not isinstance(obj, dict):
        logger.warning("skipping a stream line that is not an object: %r", line[:200])
        return None
    return obj  # pyright: ignore[reportUnknownVariableType]
