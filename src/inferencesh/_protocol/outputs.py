"""File values in task outputs become file objects bound to the client that fetched them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inferencesh.models.file import looks_like_file

__all__ = ["bind_files"]


def bind_files(value: Any, make: Callable[[dict[str, Any]], Any]) -> Any:
    """A copy of `value` where every `{uri, content_type|filename|size|path}` dict is `make(d)`."""
    if looks_like_file(value):
        return make(value)
    if isinstance(value, dict):
        return {k: bind_files(v, make) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [bind_files(v, make) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value
