"""JSON in and out of the emulator: strict parsing of bodies, one compact encoding out.

What comes in is held to what every JSON parser accepts (RFC 8259): no NaN or infinities
(also none from a number too large for a float), no lone surrogates (they cannot be written
as UTF-8), and no nesting deeper than `MAX_DEPTH`. A value let in that breaks these rules
would make every later answer that includes it fail, so it is refused at the door.
"""

from __future__ import annotations

import json
import math
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python

__all__ = [
    "MAX_DEPTH",
    "BadJSONError",
    "NotJSONError",
    "clean_text",
    "dumps",
    "loads",
    "to_json_value",
]

MAX_DEPTH = 128
"""Deepest nesting of arrays and objects accepted in a body (the body itself is level 1)."""

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class NotJSONError(ValueError):
    """A value an app returned cannot be sent as JSON."""


class BadJSONError(ValueError):
    """A body is not strict JSON; the message says what and where (`input.a.0`)."""


class _Constant:
    """What a NaN or an infinity parses to, so the check can name where it was."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_float(text: str) -> float | _Constant:
    value = float(text)
    return value if math.isfinite(value) else _Constant(text)


def dumps(value: Any) -> bytes:
    """Encode a JSON value compactly as UTF-8 (no spaces: stream lines stay small)."""
    return _ENCODER.encode(value).encode()


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse strict JSON.

    Raises:
        BadJSONError: malformed, not UTF-8, NaN or an infinity, a lone surrogate, or nested
            deeper than `max_depth`; the message names where (`a.b.0`).
    """
    try:
        value = json.loads(raw, parse_constant=_Constant, parse_float=_parse_float)
    except RecursionError:
        raise BadJSONError(_too_deep(max_depth)) from None
    except ValueError as exc:  # also UnicodeDecodeError and over-long integers
        raise BadJSONError(f"malformed JSON: {exc}") from None
    problem = _check(value, max_depth)
    if problem is not None:
        raise BadJSONError(problem)
    return value


def to_json_value(value: Any) -> Any:
    """Turn what an app returned into plain JSON data.

    Pydantic models, dataclasses, dates and the like are converted the way pydantic
    serializes them; NaN, infinities and lone surrogates are refused because no JSON parser
    accepts them.

    Raises:
        NotJSONError: the value cannot be represented as JSON.
    """
    try:
        if isinstance(value, BaseModel):
            plain = value.model_dump(mode="json")
        else:
            plain = to_jsonable_python(value)
        dumps(plain)  # bytes, not text: a lone surrogate fails only there
    except RecursionError:
        raise NotJSONError("output is not JSON serializable: nested too deeply") from None
    except (PydanticSerializationError, ValueError, TypeError) as exc:
        raise NotJSONError(f"output is not JSON serializable: {exc}") from exc
    return plain


def clean_text(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD, so it can be sent as JSON.

    For free text an app hands over (log lines, progress messages, error messages): refusing
    it would lose the message, and keeping it would break every answer that includes it.
    """
    if _is_text(text):
        return text
    # Through UTF-16: a split pair joins up again, a lone half becomes U+FFFD.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _check(value: Any, max_depth: int) -> str | None:
    """What breaks the rules in a parsed value (and where), or None.

    Iterative: a value nested to the parser's limit must not exhaust the stack here.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                return _too_deep(max_depth)
            for key, child in typing.cast(dict[str, Any], item).items():
                if not _is_text(key):
                    return _locate(value, max_depth)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                return _too_deep(max_depth)
            stack.extend((child, depth + 1) for child in typing.cast(list[Any], item))
        elif isinstance(item, _Constant) or (isinstance(item, str) and not _is_text(item)):
            return _locate(value, max_depth)
    return None


def _locate(value: Any, max_depth: int, path: tuple[str, ...] = ()) -> str | None:
    """The first bad value, named by its path (recursive: depth is known to be bounded)."""
    where = ".".join(path) or "the body"
    if isinstance(value, _Constant):
        return f"{where}: {value.text} is not a JSON number (JSON has no NaN or infinities)"
    if isinstance(value, str) and not _is_text(value):
        return f"{where}: a string holds a lone surrogate (not valid Unicode)"
    if isinstance(value, dict):
        for key, child in value.items():  # pyright: ignore[reportUnknownVariableType]
            if not _is_text(key):  # pyright: ignore[reportUnknownArgumentType]
                return f"{where}: a key holds a lone surrogate (not valid Unicode)"
            found = _locate(child, max_depth, (*path, str(key)))  # pyright: ignore[reportUnknownArgumentType]
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, child in enumerate(value):  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
            found = _locate(child, max_depth, (*path, str(index)))
            if found is not None:
                return found
    return None


def _is_text(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _too_deep(max_depth: int) -> str:
    return f"JSON nested deeper than {max_depth} levels"
