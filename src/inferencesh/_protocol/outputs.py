"""File values in task outputs become file objects bound to the client that fetched them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

__all__ = ["bind_files", "looks_like_file"]


def looks_like_file(value: Any) -> bool:
    """Whether an output value is a file object as apps serialize them (`{uri, ...}`)."""
    if not isinstance(value, dict):
        return False
    data = cast("dict[str, Any]", value)
    uri = data.get("uri")
    return (
        isinstance(uri, str)
        and bool(uri)
        and any(k in data for k in ("content_type", "filename", "size", "path"))
    )


def bind_files(value: Any, make: Callable[[dict[str, Any]], Any]) -> Any:
    """A copy of `value` where every `{uri, content_type|filename|size|path}` dict is `make(d)`."""
    if looks_like_file(value):
        return make(value)
    if isinstance(value, dict):
        return {k: bind_files(v, make) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [bind_files(v, make) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value
