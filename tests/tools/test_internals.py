"""Edge cases of the pure helpers: the type check, `$ref` inlining, strict mode, helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ForwardRef, NewType, NotRequired, TypeVar

import pytest
from pydantic import BaseModel, Field
from pydantic_core import core_schema
from typing_extensions import TypeAliasType, TypedDict

from inferencesh.errors import ToolDefinitionError
from inferencesh.tools import (
    Tool,
    ValidatedArgs,
    _types,
    enum_of,
    http_tool,
    number,
    obj,
    string,
    tool,
    webhook_tool,
)
from inferencesh.tools._refs import merge_defs, normalize_schema
from inferencesh.tools._signature import OMIT
from inferencesh.tools._strict import to_strict
from inferencesh.tools._types import annotation_problem, type_entry

UserId = NewType("UserId", int)
Json = TypeAliasType("Json", "dict[str, Json] | list[Json] | str | int | float | bool | None")
Item = TypeVar("Item")


class Opaque:
    pass


@dataclass
class Pair:
    a: int


class IntLike:
    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.int_schema()


@pytest.mark.parametrize(
    ("annotation", "problem"),
    [
        (UserId, None),
        (NewType("Bad", Opaque), "Opaque is not supported by pydantic"),
        (Json, None),
        (Item, None),
        (Annotated[int, {"unhashable": True}], None),
        (Pair, None),
        (IntLike(), None),  # an annotation that is an object, not a type
        (
            ForwardRef("Later"),
            "the forward reference 'Later' cannot be resolved; define or import it first",
        ),
        ("Later", "the forward reference 'Later' cannot be resolved; define or import it first"),
        (
            list[ForwardRef("X")],
            "the forward reference 'X' cannot be resolved; define or import it first",
        ),
    ],
)
def test_annotation_check(annotation: Any, problem: str | None) -> None:
    found = annotation_problem(annotation)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)


class Early(BaseModel):
    child: LateChild  # defined below: Early is incomplete until rebuilt


class LateChild(BaseModel):
    n: int


def test_incomplete_model_becomes_complete_when_its_ref_exists() -> None:
    assert Early.__pydantic_complete__ is False
    assert annotation_problem(Early) is None  # rebuilt from its module namespace
    assert Early.__pydantic_complete__ is True


def test_type_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_types, "_MAX_ENTRIES", 1)
    first = type_entry(list[int])
    second = type_entry(list[str])
    assert type_entry(list[str]) is second
    assert type_entry(list[int]) is not first


def test_params_from_typeddict_model_and_dataclass() -> None:
    class Query(TypedDict):
        """A query."""

        text: Annotated[str, "What to find"]
        limit: NotRequired[int]

    class Model(BaseModel):
        text: str = Field(title="Text!", examples=["cats"])

    @dataclass
    class Data:
        text: str
        limit: int = 3

    hook = webhook_tool("q", "https://example.com", params=Query)
    assert hook.parameters_schema == {
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "What to find"},
            "limit": {"type": "integer"},
        },
        "required": ["text"],
        "additionalProperties": False,
    }
    assert hook.validate_arguments({"text": "a"}) == ValidatedArgs(arguments={"text": "a"})
    assert webhook_tool("m", "https://example.com", params=Model).parameters_schema == {
        "type": "object",
        "properties": {"text": {"examples": ["cats"], "title": "Text!", "type": "string"}},
        "required": ["text"],
        "additionalProperties": False,
    }
    assert webhook_tool("d", "https://example.com", params=Data).parameters_schema == {
        "type": "object",
        "properties": {"text": {"type": "string"}, "limit": {"type": "integer", "default": 3}},
        "required": ["text"],
        "additionalProperties": False,
    }


def test_bad_typeddict_and_model_params() -> None:
    class Broken(TypedDict):
        x: Nope  # type: ignore[name-defined]  # noqa: F821

    class WithOpaque(TypedDict):
        x: Opaque

    class Incomplete(BaseModel):
        x: Missing  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(ToolDefinitionError) as info:
        webhook_tool("a", "https://example.com", params=Broken)
    assert info.value.problems[0].startswith("cannot resolve the annotations of ")
    with pytest.raises(ToolDefinitionError) as info:
        webhook_tool("a", "https://example.com", params=WithOpaque)
    assert info.value.problems[0].startswith("key 'x': Opaque is not supported")
    with pytest.raises(ToolDefinitionError) as info:
        webhook_tool("a", "https://example.com", params=Incomplete)
    assert info.value.problems[0].startswith("model Incomplete is not fully defined")


def test_model_with_a_bad_field() -> None:
    class Holder(BaseModel):
        model_config = {"arbitrary_types_allowed": True}
        o: Opaque

    with pytest.raises(ToolDefinitionError) as info:
        webhook_tool("a", "https://example.com", params=Holder)
    assert info.value.problems[0].startswith("field 'o': Opaque is not supported")


def test_one_recursive_type_in_two_parameters_shares_its_def() -> None:
    class Node(BaseModel):
        kids: list[Node] = []

    def f(a: Node, b: Node | None = None) -> None: ...

    schema = tool(f).parameters_schema
    assert schema is not None
    assert list(schema["$defs"]) == ["Node"]


def test_normalize_keeps_only_reachable_recursive_defs() -> None:
    raw = {
        "$defs": {
            "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
            "B": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}},
            "C": {"type": "object", "properties": {"c": {"$ref": "#/$defs/C"}}},
            "Leaf": {"type": "string"},
            "Diamond": {
                "type": "object",
                "properties": {"x": {"$ref": "#/$defs/L"}, "y": {"$ref": "#/$defs/R"}},
            },
            "L": {"$ref": "#/$defs/Leaf"},
            "R": {"$ref": "#/$defs/Leaf"},
        },
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/A"}, "leaf": {"$ref": "#/$defs/Leaf", "title": "L"}},
    }
    assert normalize_schema(raw) == {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/A"}, "leaf": {"type": "string", "title": "L"}},
        "$defs": {
            "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
            "B": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}},
        },
    }


def test_merge_defs_renames_on_conflict() -> None:
    target: dict[str, Any] = {"N": {"type": "integer"}, "N2": {"type": "boolean"}}
    schema = {
        "$ref": "#/$defs/N",
        "$defs": {"N": {"type": "array", "items": {"$ref": "#/$defs/N"}}},
    }
    assert merge_defs(target, schema) == {"$ref": "#/$defs/N3"}
    assert target["N3"] == {"type": "array", "items": {"$ref": "#/$defs/N3"}}
    assert merge_defs(target, {"type": "string"}) == {"type": "string"}
    two = {"$defs": {"M": {"$ref": "#/$defs/K"}, "K": {"$ref": "#/$defs/M"}}, "$ref": "#/$defs/M"}
    assert merge_defs(target, two) == {"$ref": "#/$defs/M"}
    assert target["M"] == {"$ref": "#/$defs/K"}


def test_strict_corner_cases() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "any_items": {"type": "array", "items": True},
            "union": {"anyOf": [{"type": "integer"}, {"type": "string"}], "default": 1},
            "ref": {"$ref": "#/$defs/Missing", "default": None},
        },
        "required": ["any_items"],
    }
    strict, problems = to_strict(schema)
    assert problems == []
    assert strict["properties"] == {
        "any_items": {"type": "array", "items": True},
        "union": {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
        "ref": {"anyOf": [{"$ref": "#/$defs/Missing"}, {"type": "null"}]},
    }


def test_helpers() -> None:
    assert number("n").to_schema() == {"type": "number", "description": "n"}
    assert obj({"a": string()}).to_schema() == {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
    }
    assert obj({}).to_schema() == {"type": "object", "properties": {}}
    with pytest.raises(ValueError, match="non-empty sequence"):
        enum_of("abc")
    with pytest.raises(ValueError, match="non-empty sequence"):
        enum_of([])


def test_optional_helper_arguments_are_left_out_when_missing() -> None:
    from inferencesh.tools import optional

    @tool(params={"city": string(), "units": optional(enum_of(["c", "f"]))})
    def weather(city: str, units: str = "c") -> str:
        return f"{city}/{units}"

    assert weather.validate_arguments({"city": "Oslo"}) == ValidatedArgs(arguments={"city": "Oslo"})
    assert weather.invoke({"city": "Oslo"}).output == "Oslo/c"
    assert weather.invoke({"city": "Oslo", "units": "f"}).output == "Oslo/f"
    assert repr(OMIT) == "OMIT"


def test_strict_webhook_and_http_tools() -> None:
    def stub(n: int = 1) -> None: ...

    hook = webhook_tool("h", "https://example.com", params=stub, strict=True)
    call = http_tool("c", "https://example.com", params=stub, strict=True)
    expected = {
        "type": "object",
        "properties": {"n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
        "required": ["n"],
        "additionalProperties": False,
    }
    assert hook.parameters_schema == expected == call.parameters_schema
    assert hook.strict and call.strict
    assert call.to_wire()["http"] == {"url": "https://example.com", "input_schema": expected}
    assert call.validate_arguments({"n": None}) == ValidatedArgs(arguments={"n": 1})


def test_builtins_and_callable_objects() -> None:
    with pytest.raises(ToolDefinitionError) as info:
        tool(name="to_int")(int)
    assert info.value.problems[0].startswith("cannot read the signature")
    with pytest.raises(ToolDefinitionError) as info:
        tool(name="to_int", params={"x": string()})(int)
    assert len(info.value.problems) == 1 and info.value.problems[0].startswith("cannot read")

    class Counter:
        def __call__(self, n: int) -> int:
            """Count to n."""
            return n

    counter = tool(Counter())
    assert (counter.name, counter.description) == ("Counter", "Count to n.")


def test_tool_base_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        Tool(name="bare")  # type: ignore[abstract]


def test_params_stub_docstring_wins_over_the_handler() -> None:
    def stub(q: str) -> None:
        """Search the web."""

    @tool(params=stub)
    def search(q: str) -> str:
        """Handler docs (not used)."""
        return q

    assert search.description == "Search the web."
