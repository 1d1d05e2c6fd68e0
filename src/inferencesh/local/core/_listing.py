"""`POST /<resource>/list`: filters, sorting and cursor paging over JSON items.

Cursors are keyset cursors: an opaque base64 string holding the sort key of the page's last
(or first) item, so pages stay right while items are added or removed between calls. A
cursor from `prev_cursor` pages backwards. Without a cursor, `page` (1-based) pages by offset,
as the JS SDK's types allow.
"""

from __future__ import annotations

import base64
import binascii
import json
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from inferencesh.local.core._envelope import ApiError
from inferencesh.local.core._json import loads

__all__ = ["paginate"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
Coerce = Callable[[Any], Any]


def paginate(
    items: Sequence[dict[str, Any]],
    request: Mapping[str, Any],
    *,
    default_sort: str = "created_at",
    tie_breakers: Sequence[str] = ("created_at", "id"),
    coerce: Mapping[str, Coerce] | None = None,
) -> dict[str, Any]:
    """Answer a CursorListRequest over `items`.

    Args:
        items: Every item of the resource.
        request: The request body (`limit`, `cursor`, `page`, `filters`, `sort`, `search`).
        default_sort: Sort field when the request names none (newest first).
        tie_breakers: Fields that make the order total (ascending after the sort field).
        coerce: Per field, how to read a filter value (e.g. status names as ints).

    Raises:
        ApiError: 400 for a malformed request or cursor.
    """
    coerce = coerce or {}
    limit = _limit(request.get("limit"))
    field, descending = _sort(request.get("sort"), default_sort)
    selected = [item for item in items if _keep(item, request, coerce)]

    def key(item: Mapping[str, Any]) -> list[Any]:
        return [_get(item, f) for f in (field, *tie_breakers)]

    selected.sort(key=lambda item: _order(key(item)), reverse=descending)
    total = len(selected)
    cursor = request.get("cursor")
    backwards = False
    if isinstance(cursor, str) and cursor:
        after, backwards = _decode(cursor)
        mark = _order(after)
        # Items are sorted, so the ones before the mark (in list order) are a prefix.
        before = sum(1 for i in selected if _beyond(_order(key(i)), mark, descending))
        if backwards:
            start = max(0, before - limit)
        else:
            start = sum(1 for i in selected if not _beyond(mark, _order(key(i)), descending))
    else:
        page = request.get("page")
        start = (page - 1) * limit if isinstance(page, int) and page > 1 else 0
    page_items = selected[start : start + limit]
    has_next = start + len(page_items) < total
    has_previous = start > 0
    return {
        "items": page_items,
        "next_cursor": _encode(key(page_items[-1]), False) if page_items and has_next else "",
        "prev_cursor": _encode(key(page_items[0]), True) if page_items and has_previous else "",
        "has_next": has_next,
        "has_previous": has_previous,
        "items_per_page": limit,
        "total_items": total,
    }


def _limit(value: Any) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(400, "invalid_request", f"limit must be an integer, got {value!r}")
    return DEFAULT_LIMIT if value <= 0 else min(value, MAX_LIMIT)


def _sort(value: Any, default: str) -> tuple[str, bool]:
    if not value:
        return default, True
    if not isinstance(value, list) or not isinstance(value[0], dict):
        raise ApiError(400, "invalid_request", 'sort must be a list of {"field", "dir"} objects')
    first: dict[str, Any] = value[0]  # pyright: ignore[reportUnknownVariableType]
    field = first.get("field")
    if not isinstance(field, str) or not field:
        raise ApiError(400, "invalid_request", "sort[0].field must be a field name")
    direction = str(first.get("dir", "desc")).lower()
    if direction not in ("asc", "desc"):
        raise ApiError(
            400, "invalid_request", f"sort[0].dir must be asc or desc, got {direction!r}"
        )
    return field, direction == "desc"


def _get(item: Mapping[str, Any], path: str) -> Any:
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = typing.cast(Mapping[str, Any], value).get(part)
    return value


def _order(values: Sequence[Any]) -> tuple[tuple[int, Any], ...]:
    """A sort key that orders mixed JSON values: null < bools < numbers < strings < others."""
    out: list[tuple[int, Any]] = []
    for v in values:
        if v is None:
            out.append((0, 0))
        elif isinstance(v, bool):
            out.append((1, v))
        elif isinstance(v, int | float):
            out.append((2, v))
        elif isinstance(v, str):
            out.append((3, v))
        else:
            out.append((4, json.dumps(v, sort_keys=True)))
    return tuple(out)


def _beyond(a: tuple[Any, ...], b: tuple[Any, ...], descending: bool) -> bool:
    """Whether `a` comes before `b` in list order."""
    return a > b if descending else a < b


def _encode(key: list[Any], backwards: bool) -> str:
    raw = json.dumps({"k": key, "b": backwards}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(cursor: str) -> tuple[list[Any], bool]:
    try:
        data = loads(base64.urlsafe_b64decode(cursor.encode()))
        key, backwards = data["k"], data["b"]
        if not isinstance(key, list) or not isinstance(backwards, bool):
            raise ValueError("bad cursor")
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ApiError(400, "invalid_request", f"invalid cursor {cursor!r}") from exc
    return key, backwards  # pyright: ignore[reportUnknownVariableType]


def _keep(
    item: Mapping[str, Any], request: Mapping[str, Any], coerce: Mapping[str, Coerce]
) -> bool:
    filters: Any = request.get("filters") or []
    if not isinstance(filters, list):
        raise ApiError(400, "invalid_request", "filters must be a list")
    for raw in filters:  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(raw, dict) or not isinstance(raw.get("field"), str):  # pyright: ignore[reportUnknownMemberType]
            raise ApiError(
                400, "invalid_request", 'each filter needs {"field", "operator", "value"}'
            )
        spec: dict[str, Any] = raw  # pyright: ignore[reportUnknownVariableType]
        if not _matches(item, spec, coerce):
            return False
    search = request.get("search")
    if isinstance(search, dict) and search.get("term"):  # pyright: ignore[reportUnknownMemberType]
        return _searched(item, search)  # pyright: ignore[reportUnknownArgumentType]
    return True


def _matches(item: Mapping[str, Any], spec: dict[str, Any], coerce: Mapping[str, Coerce]) -> bool:
    field: str = spec["field"]
    op = str(spec.get("operator", "eq")).lower()
    actual = _get(item, field)
    convert = coerce.get(field, lambda v: v)
    value = spec.get("value")
    if op in ("in", "not_in"):
        values = [convert(v) for v in value] if isinstance(value, list) else [convert(value)]  # pyright: ignore[reportUnknownVariableType]
        return (actual in values) == (op == "in")
    if op in ("is_null", "is_not_null"):
        return (actual is None) == (op == "is_null")
    if op in ("is_empty", "is_not_empty"):
        return (actual in (None, "", [], {})) == (op == "is_empty")
    value = convert(value)
    if op == "eq":
        return actual == value
    if op == "neq":
        return actual != value
    if op in ("like", "ilike", "contains", "not_contains"):
        hay, needle = str(actual or ""), str(value).replace("%", "")
        if op != "like":
            hay, needle = hay.lower(), needle.lower()
        return (needle in hay) != (op == "not_contains")
    if op in ("gt", "gte", "lt", "lte"):
        if actual is None or value is None:
            return False
        a, b = _order([actual]), _order([value])
        return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
    raise ApiError(400, "invalid_request", f"unknown filter operator {op!r}")


def _searched(item: Mapping[str, Any], search: dict[str, Any]) -> bool:
    term = str(search["term"])
    fields = search.get("fields") or ["id"]
    exact = bool(search.get("exact"))
    for field in fields:
        value = _get(item, str(field))
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        if (text == term) if exact else (term.lower() in text.lower()):
            return True
    return False
