"""Strict mode: all properties required, optionals nullable, every object closed."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from inferencesh.tools import InvalidArguments, ValidatedArgs, tool
from inferencesh.tools._strict import accepts_null, drop_default_nulls, to_strict


class Filters(BaseModel):
    lang: str = "en"
    min_score: float | None = None
    tags: list[str] = []


class Node(BaseModel):
    name: str
    children: list[Node] = []


@tool(strict=True)
def search(
    query: str,
    limit: int = 10,
    cursor: str | None = None,
    filters: Filters | None = None,
    order: Literal["asc", "desc"] = "asc",
) -> str:
    """Search.

    Args:
        query: What to look for.
        limit: Max results.
    """
    return query


FILTERS_STRICT = {
    "properties": {
        "lang": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Lang"},
        "min_score": {"anyOf": [{"type": "number"}, {"type": "null"}], "title": "Min Score"},
        "tags": {
            "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
            "title": "Tags",
        },
    },
    "required": ["lang", "min_score", "tags"],
    "title": "Filters",
    "type": "object",
    "additionalProperties": False,
}


def test_strict_schema() -> None:
    assert search.strict
    assert search.parameters_schema == {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to look for."},
            "limit": {
                "anyOf": [{"type": "integer"}, {"type": "null"}],
                "description": "Max results.",
            },
            "cursor": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "filters": {"anyOf": [FILTERS_STRICT, {"type": "null"}]},
            "order": {"anyOf": [{"enum": ["asc", "desc"], "type": "string"}, {"type": "null"}]},
        },
        "required": ["query", "limit", "cursor", "filters", "order"],
        "additionalProperties": False,
    }


def test_null_maps_back_to_the_default() -> None:
    raw = {
        "query": "q",
        "limit": None,
        "cursor": None,
        "filters": {"lang": None, "min_score": None, "tags": None},
        "order": None,
    }
    assert search.validate_arguments(raw) == ValidatedArgs(
        arguments={
            "query": "q",
            "limit": 10,
            "cursor": None,
            "filters": Filters(lang="en", min_score=None, tags=[]),
            "order": "asc",
        }
    )


def test_strict_still_rejects_bad_values() -> None:
    result = search.validate_arguments({"query": None, "limit": "many"})
    assert isinstance(result, InvalidArguments)
    assert [e.field for e in result.errors] == ["query", "limit"]


def test_recursive_defs_are_made_strict() -> None:
    @tool(strict=True)
    def tree(root: Node) -> None: ...

    schema = tree.parameters_schema
    assert schema is not None
    assert schema["$defs"]["Node"] == {
        "properties": {
            "name": {"title": "Name", "type": "string"},
            "children": {
                "anyOf": [{"items": {"$ref": "#/$defs/Node"}, "type": "array"}, {"type": "null"}],
                "title": "Children",
            },
        },
        "required": ["name", "children"],
        "title": "Node",
        "type": "object",
        "additionalProperties": False,
    }
    result = tree.validate_arguments(
        {"root": {"name": "a", "children": [{"name": "b", "children": None}]}}
    )
    assert result == ValidatedArgs(arguments={"root": Node(name="a", children=[Node(name="b")])})


def test_to_strict_is_pure() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"a": {"type": "integer", "default": 1}},
        "required": [],
        "additionalProperties": False,
    }
    strict, problems = to_strict(schema)
    assert problems == []
    assert strict == {
        "type": "object",
        "properties": {"a": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
        "required": ["a"],
        "additionalProperties": False,
    }
    assert schema["properties"]["a"] == {"type": "integer", "default": 1}


def test_tuples_and_not_are_walked() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {}]},
            "neg": {"not": {"type": "string"}},
        },
        "required": ["pair", "neg"],
    }
    strict, problems = to_strict(schema)
    assert problems == ["pair[]: any JSON value ({}) cannot be expressed in strict mode"]
    assert strict["properties"]["neg"] == {"not": {"type": "string"}}


def test_accepts_null() -> None:
    defs = {"N": {"type": "null"}}
    assert accepts_null({"type": ["string", "null"]}, {})
    assert accepts_null({"enum": ["a", None]}, {})
    assert accepts_null({"const": None}, {})
    assert accepts_null({"$ref": "#/$defs/N"}, defs)
    assert accepts_null({"description": "anything"}, {})
    assert accepts_null(True, {})
    assert not accepts_null({"type": "string"}, {})
    assert not accepts_null({"anyOf": [{"type": "string"}, {"type": "integer"}]}, {})


def test_drop_default_nulls_follows_only_unambiguous_branches() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "either": {
                "anyOf": [
                    {"type": "object", "properties": {"a": {"type": "integer"}}},
                    {"type": "object", "properties": {"b": {"type": "integer"}}},
                ]
            },
            "pair": {
                "type": "array",
                "prefixItems": [{"type": "object", "properties": {"x": {"type": "integer"}}}],
            },
            "ref": {"$ref": "#/$defs/R"},
        },
        "required": [],
        "$defs": {"R": {"type": "object", "properties": {"r": {"type": "integer"}}}},
    }
    value = {"either": {"a": None}, "pair": [{"x": None}, 5], "ref": {"r": None}, "unknown": None}
    assert drop_default_nulls(value, schema) == {
        "either": {"a": None},  # two object branches: leave it to validation
        "pair": [{}, 5],
        "ref": {},
        "unknown": None,
    }
