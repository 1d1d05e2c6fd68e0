"""Merging LLM token deltas into an output, as the official clients do."""

from __future__ import annotations

from typing import Any

__all__ = ["merge_delta"]

_CONCAT = frozenset({"response", "reasoning"})


def merge_delta(output: dict[str, Any] | None, delta: dict[str, Any]) -> dict[str, Any]:
    """Return a new output with `delta` merged in; `output` is left unchanged.

    `response` and `reasoning` concatenate; `tool_calls` merge by `index` (`id`, `type` and
    `function.name` replace, `function.arguments` concatenates raw JSON fragments); everything
    else (e.g. `usage`) replaces.
    """
    merged = dict(output or {})
    for key, value in delta.items():
        if key in _CONCAT and isinstance(value, str):
            previous = merged.get(key)
            merged[key] = (previous if isinstance(previous, str) else "") + value
        elif key == "tool_calls" and isinstance(value, list):
            merged[key] = _merge_tool_calls(merged.get(key), value)  # pyright: ignore[reportUnknownArgumentType]
        else:
            merged[key] = value
    return merged


def _merge_tool_calls(current: object, parts: list[Any]) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = [
        dict(c)  # pyright: ignore[reportUnknownArgumentType]
        for c in (current if isinstance(current, list) else [])  # pyright: ignore[reportUnknownVariableType]
        if isinstance(c, dict)
    ]
    for part in parts:
        if not isinstance(part, dict):
            continue
        index = part.get("index")  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
        if not isinstance(index, int) or index < 0:  # malformed: a new call, never a rewrite
            index = len(calls)
        while len(calls) <= index:
            calls.append({"index": len(calls)})
        call = calls[index]
        for key, value in part.items():  # pyright: ignore[reportUnknownVariableType]
            if key == "function" and isinstance(value, dict):
                function = dict(call.get("function") or {})
                for fkey, fvalue in value.items():  # pyright: ignore[reportUnknownVariableType]
                    if fkey == "arguments" and isinstance(fvalue, str):
                        function["arguments"] = str(function.get("arguments") or "") + fvalue
                    else:
                        function[fkey] = fvalue
                call["function"] = function
            else:
                call[key] = value
    return calls
