"""JSON aliases and small helpers for walking decoded JSON under strict typing."""

from __future__ import annotations

from typing import Any, TypeAlias, cast

__all__ = ["JSONObject", "as_dict", "as_list", "copy_json"]

JSONObject: TypeAlias = dict[str, Any]
"""A JSON object as decoded by `json.loads` (a schema, a wire tool, tool arguments)."""


def as_dict(value: Any) -> JSONObject | None:
    """`value` as a JSON object, or None if it is not a dict."""
    return cast(JSONObject, value) if isinstance(value, dict) else None


def as_list(value: Any) -> list[Any] | None:
    """`value` as a JSON array, or None if it is not a list."""
    return cast(list[Any], value) if isinstance(value, list) else None


def copy_json(value: Any) -> Any:
    """Deep-copy decoded JSON (dicts, lists, scalars).

    Several times faster than `copy.deepcopy`, which matters because every tool copies the
    cached per-type schemas into its own schema (so no two tools share a mutable dict).
    """
    if (d := as_dict(value)) is not None:
        return {k: copy_json(v) for k, v in d.items()}
    if (items := as_list(value)) is not None:
        return [copy_json(v) for v in items]
    return value
