"""Automatic upload of run inputs: which values are files, where they sit, and the copy sent.

`run()` uploads what is a file by its type (`Path`, open binary files, bytes, data URIs),
anywhere in the input, and sends each one's uri in its place. A plain `str` is never read from
disk, whatever it holds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, cast

from inferencesh._protocol.jsonbody import json_path
from inferencesh.errors import InvalidInputError

__all__ = ["MAX_NESTING", "Location", "describe", "find_uploads", "is_uploadable", "substitute"]

Location = tuple[str | int, ...]


def is_uploadable(value: object) -> bool:
    """Whether `run()` uploads this value by itself.

    It does for `pathlib.Path` (any `os.PathLike`), open binary files, bytes and data URIs.
    Never for a plain `str`, whatever it holds: a prompt that happens to name a file on this
    machine (`"/etc/passwd"`) is sent as text, not read from disk.
    """
    if isinstance(value, str):
        return value[:5].lower() == "data:"
    if isinstance(value, os.PathLike | bytes | bytearray | memoryview):
        return True
    return hasattr(value, "read") and hasattr(value, "seek")


MAX_NESTING = 256
"""Containers nested deeper than this are refused while looking for files to upload."""


def find_uploads(value: Any) -> list[tuple[Location, object]]:
    """Every uploadable value inside dicts, lists and tuples, with where it sits, in order.

    Raises:
        InvalidInputError: the input contains itself, or nests deeper than `MAX_NESTING`.
    """
    found: list[tuple[Location, object]] = []
    stack: list[tuple[Any, Location, bool]] = [(value, (), False)]
    ancestors: set[int] = set()
    while stack:
        item, at, leaving = stack.pop()
        if leaving:
            ancestors.discard(id(item))
            continue
        children: list[tuple[Any, Location, bool]]
        if isinstance(item, Mapping):
            pairs = cast("Mapping[Any, Any]", item).items()
            children = [(child, (*at, str(key)), False) for key, child in pairs]
        elif isinstance(item, list | tuple):
            items = cast("list[Any]", item)
            children = [(child, (*at, index), False) for index, child in enumerate(items)]
        else:
            if is_uploadable(item) and not isinstance(getattr(item, "uri", None), str):
                found.append((at, item))  # (an uploaded FileRef becomes its uri in substitute)
            continue
        if len(at) >= MAX_NESTING:
            where = json_path(("input", *at[:6]))
            raise InvalidInputError(
                f"{where}: nested more than {MAX_NESTING} levels deep", path=where
            )
        container = cast("object", item)
        if id(container) in ancestors:
            where = json_path(("input", *at))
            raise InvalidInputError(f"{where}: contains itself (a circular reference)", path=where)
        ancestors.add(id(container))
        stack.append((container, at, True))
        stack.extend(reversed(children))
    return found


def substitute(value: Any, uris: Mapping[Location, str], at: Location = ()) -> Any:
    """A copy of `value` with each uploaded value replaced by its uri (the input is untouched)."""
    if at in uris:
        return uris[at]
    if isinstance(value, Mapping):
        mapping = cast("Mapping[Any, Any]", value)
        return {key: substitute(item, uris, (*at, str(key))) for key, item in mapping.items()}
    if isinstance(value, list | tuple):
        items = cast("list[Any]", value)
        return [substitute(item, uris, (*at, i)) for i, item in enumerate(items)]
    uri = getattr(value, "uri", None)
    if isinstance(uri, str) and hasattr(value, "model_dump"):
        return uri
    return value


def describe(at: Location) -> str:
    """`input.images[0]` for a location, for messages."""
    text = "input"
    for part in at:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text
