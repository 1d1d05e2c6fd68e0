"""Request bodies as JSON, refused before sending when they are not JSON.

`json.dumps` would write NaN and Infinity (not JSON: servers reject them), and a lone surrogate
only fails later, while encoding, with a message that does not say where. Here every body is
encoded strictly, and when that fails the value is walked to name the path of the first bad
value (`input.a`, `input.images[2]`) in an `InvalidInputError`, before any request is made.
The walk only runs on failure, so a good body costs one `json.dumps`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any, cast

from inferencesh._types import JSON
from inferencesh.errors import InvalidInputError

__all__ = ["encode_json", "json_path"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HINT = "convert it to a str, int, float, bool, None, list or dict first"

Path = tuple[str | int, ...]


def encode_json(body: JSON) -> bytes:
    """`body` as compact UTF-8 JSON.

    Raises:
        InvalidInputError: a value JSON cannot carry; the error names its path.
    """
    try:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode()
    except (TypeError, ValueError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
        raise _explain(body, exc) from exc


def json_path(path: Path) -> str:
    """`input.images[0]` for `("input", "images", 0)`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _NAME.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=True)}]"
    return text or "the body"


def _explain(body: JSON, exc: BaseException) -> InvalidInputError:
    path, problem = _first_problem(body)
    if problem is None:
        if not isinstance(exc, RecursionError):  # not expected: json refused what the walk accepts
            return InvalidInputError(f"the request body cannot be sent as JSON: {exc}", path="")
        # The encoder recurses; the walk does not. Name the start of the deepest branch.
        problem = f"nested {len(path)} levels deep, more than JSON encoding allows"
        path = path[:6]
    where = json_path(path)
    return InvalidInputError(f"{where}: {problem}", path=where)


_Node = tuple[Any, str | int] | None
"""A path as a linked list `(parent, key)`: deep values share their parents' paths."""


def _path_of(node: _Node) -> Path:
    parts: list[str | int] = []
    while node is not None:
        node, key = node
        parts.append(key)
    return tuple(reversed(parts))


def _first_problem(body: JSON) -> tuple[Path, str | None]:
    """Where the first value JSON cannot carry sits and what is wrong with it (depth first).

    Without one, the path of the deepest value and None.
    """
    stack: list[tuple[Any, _Node, int, bool]] = [(body, None, 0, False)]
    ancestors: set[int] = set()
    deepest: tuple[_Node, int] = (None, 0)
    while stack:
        value, node, depth, leaving = stack.pop()
        if leaving:
            ancestors.discard(id(value))
            continue
        if depth > deepest[1]:
            deepest = (node, depth)
        problem = _scalar_problem(value)
        if problem is not None:
            return _path_of(node), problem
        if isinstance(value, dict | list | tuple):
            container = cast("dict[Any, Any] | list[Any]", value)
            if id(container) in ancestors:
                return _path_of(node), "contains itself (a circular reference)"
            ancestors.add(id(container))
            stack.append((container, node, depth, True))
            children = list(_children(container))
            for child in reversed(children):
                if isinstance(child, str):
                    return _path_of(node), child  # a bad key
                item, key = child
                stack.append((item, (node, key), depth + 1, False))
    return _path_of(deepest[0]), None


def _children(value: dict[Any, Any] | list[Any]) -> Iterator[tuple[Any, str | int] | str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                if _bad_text(key):
                    yield f"the key {key!r} is not valid Unicode (a lone surrogate)"
                    return
            elif isinstance(key, float) and not math.isfinite(key):
                yield f"the key {key!r} is not a number JSON allows"
                return
            elif not isinstance(key, int | float | bool) and key is not None:
                yield f"the key {key!r} is a {type(key).__name__}; JSON keys are strings"
                return
            yield item, str(key)
        return
    for index, item in enumerate(value):
        yield item, index


def _scalar_problem(value: object) -> str | None:
    if value is None or isinstance(value, bool | int | dict | list | tuple):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not a number JSON allows"
    if isinstance(value, str):
        if _bad_text(value):
            return "the text is not valid Unicode (it holds a lone surrogate)"
        return None
    return f"a {type(value).__name__} cannot be sent as JSON; {_HINT}"


def _bad_text(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False
