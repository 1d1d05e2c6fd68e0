"""Cursor-paged lists."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import field_validator

from inferencesh.models._base import APIModel

__all__ = ["CursorPage"]

T = TypeVar("T")


class CursorPage(APIModel, Generic[T]):
    """One page of a list. Pass `next_cursor` as `cursor=` to get the next page."""

    items: list[T] = []  # pydantic copies a mutable default for each instance
    next_cursor: str | None = None
    prev_cursor: str | None = None
    has_next: bool = False
    has_previous: bool = False
    items_per_page: int | None = None
    total_items: int | None = None

    @field_validator("items", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value
