"""File values in task outputs become file objects bound to the client that fetched them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from inferencesh.errors import APIResponseValidationError

if TYPE_CHECKING:
    import httpx2

__all__ = ["bind_files", "bind_output", "looks_like_file"]


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


def bind_output(
    value: Any, make: Callable[[dict[str, Any]], Any], response: httpx2.Response | None
) -> Any:
    """`bind_files`, where a file value that does not validate is the server's fault.

    Raises:
        APIResponseValidationError: a file value in the output does not fit the file model.
    """
    try:
        return bind_files(value, make)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        if response is None:
            raise
        raise APIResponseValidationError(
            f"the API sent an output file this client cannot read: {exc}", response=response
        ) from exc
