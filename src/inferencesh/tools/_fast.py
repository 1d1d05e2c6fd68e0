"""JSON schemas of the most common annotations, written out without building a TypeAdapter.

A tool's first schema would otherwise build one pydantic adapter per distinct annotation
(~0.1-0.3 ms each), which makes the first tool of a process slower than one
`TypeAdapter(fn).json_schema()`. For `str`, `list[str] | None`, `Literal["a", "b"]` and their
kin the result is fixed, so it is spelled here exactly as pydantic renders it (the tests check
this against pydantic for a generated grammar of such types). Anything else returns None and
goes to pydantic. Validation always uses pydantic: the adapter is built on first validation.
"""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin

from ._json import JSONObject

__all__ = ["fast_schema"]

_LEAVES: dict[Any, JSONObject] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    None: {"type": "null"},
    Any: {},
    object: {},
}
_SEQUENCES: dict[Any, JSONObject] = {
    list: {"type": "array"},
    set: {"type": "array", "uniqueItems": True},
    frozenset: {"type": "array", "uniqueItems": True},
}
_LITERAL_TYPES = {str: "string", int: "integer", bool: "boolean"}


def fast_schema(annotation: Any) -> JSONObject | None:
    """The validation-mode JSON schema pydantic gives `annotation`, or None if not covered."""
    try:
        leaf = _LEAVES.get(annotation)
    except TypeError:  # unhashable annotation
        return None
    if leaf is not None:
        return dict(leaf)
    origin = get_origin(annotation)
    args = get_args(annotation)
    if annotation in _SEQUENCES or origin in _SEQUENCES:
        items = fast_schema(args[0]) if args else {}
        base = _SEQUENCES[origin or annotation]
        return None if items is None else {"items": items, **base}
    if annotation is tuple or origin is tuple:
        if origin is tuple and not args:  # tuple[()]
            return None
        if not args or (len(args) == 2 and args[1] is ...):
            items = fast_schema(args[0]) if args else {}
            return None if items is None else {"items": items, "type": "array"}
        prefix = [fast_schema(a) for a in args]
        if not prefix or any(p is None for p in prefix):
            return None
        n = len(prefix)
        return {"maxItems": n, "minItems": n, "prefixItems": prefix, "type": "array"}
    if annotation is dict or origin is dict:
        if args and args[0] is not str:
            return None
        values = fast_schema(args[1]) if args else {}
        if values is None:
            return None
        return {"additionalProperties": values or True, "type": "object"}
    if origin is Union or origin is types.UnionType:
        # pydantic renders `None` as the last branch, wherever it is in the union.
        nullable = type(None) in args
        members = [fast_schema(a) for a in args if a is not type(None)]
        if any(m is None for m in members):
            return None
        unique: list[JSONObject] = []  # pydantic drops repeated branches (list[T] | tuple[T, ...])
        for member in [*members, {"type": "null"}] if nullable else members:
            if member not in unique:
                unique.append(member)  # pyright: ignore[reportArgumentType]
        return unique[0] if len(unique) == 1 else {"anyOf": unique}
    if origin is Literal:
        kinds: set[type] = {type(v) for v in args}
        if len(kinds) != 1 or (kind := kinds.pop()) not in _LITERAL_TYPES:
            return None
        if len(args) == 1:
            return {"const": args[0], "type": _LITERAL_TYPES[kind]}
        return {"enum": list(args), "type": _LITERAL_TYPES[kind]}
    return None
