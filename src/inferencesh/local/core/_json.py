"""JSON in and out of the emulator: one compact encoding for bodies and stream lines."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python

__all__ = ["NotJSONError", "dumps", "to_json_value"]

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class NotJSONError(ValueError):
    """A value an app returned cannot be sent as JSON."""


def dumps(value: Any) -> bytes:
    """Encode a JSON value compactly as UTF-8 (no spaces: stream lines stay small)."""
    return _ENCODER.encode(value).encode()


def to_json_value(value: Any) -> Any:
    """Turn what an app returned into plain JSON data.

    Pydantic models, dataclasses, dates and the like are converted the way pydantic
    serializes them; NaN and infinities are refused because no JSON parser accepts them.

    Raises:
        NotJSONError: the value cannot be represented as JSON.
    """
    try:
        if isinstance(value, BaseModel):
            plain = value.model_dump(mode="json")
        else:
            plain = to_jsonable_python(value)
        _ENCODER.encode(plain)
    except (PydanticSerializationError, ValueError, TypeError) as exc:
        raise NotJSONError(f"output is not JSON serializable: {exc}") from exc
    return plain
