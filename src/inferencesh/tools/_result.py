"""Handler return values → the string a tool result carries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

__all__ = ["ToolResult", "error_result", "result_text"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolResult:
    """What a client tool call produced; `output` is sent as the `result` string."""

    output: str
    is_error: bool = False
    """True for invalid arguments and `ToolError`s: the model should read it and retry."""


def result_text(value: Any, tool: str) -> str:
    """`str` passes through; anything pydantic can serialize becomes compact JSON text.

    Raises:
        TypeError: The value cannot be serialized (a bug in the handler, not the model's).
    """
    if isinstance(value, str):
        return value
    try:
        return to_json(value).decode()
    except PydanticSerializationError as exc:
        raise TypeError(
            f"tool {tool!r} returned a {type(value).__name__}, which cannot be converted to"
            f" JSON ({exc}); return a str, a pydantic model, a dataclass or JSON-like data"
        ) from exc


def error_result(message: str) -> ToolResult:
    """An error result in the shape the JS SDK sends for a failed handler: `{"error": ...}`."""
    return ToolResult(output=json.dumps({"error": message}, ensure_ascii=False), is_error=True)
