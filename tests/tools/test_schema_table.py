"""Tricky signatures, each with the schema a careful human would write, spelled out literally.

Cases come from the conventions (shared/tool-schema-conventions.md) and from bugs in peers'
trackers: `$ref` with siblings rejected by OpenAI, per-parameter `$defs` not hoisted
(VectorlyApp/bluebox#207), context parameters leaking into schemas under PEP 563
(google/adk-python#4754, modelcontextprotocol/python-sdk#1129), Optional handling
(openai/openai-agents-python#43), Annotated string descriptions (langchain#23236).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import pathlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired, Optional

import pytest
from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from inferencesh.tools import ToolContext, tool


class Color(str, enum.Enum):  # noqa: UP042 -- the classic spelling must work too
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Shade(enum.StrEnum):
    DARK = "dark"


class Address(BaseModel):
    """A postal address."""

    street: str
    city: str = Field(description="City name")


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: int


@dataclass
class Point:
    x: float
    y: float = 0.0


class Movie(TypedDict):
    title: str
    year: NotRequired[int]


class Node(BaseModel):
    value: int
    children: list[Node] = []


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


def root(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        **extra,
    }


ADDRESS = {
    "description": "A postal address.",
    "properties": {
        "street": {"title": "Street", "type": "string"},
        "city": {"description": "City name", "title": "City", "type": "string"},
    },
    "required": ["street", "city"],
    "title": "Address",
    "type": "object",
}


def basics(city: str, days: int = 3, metric: bool = True, ratio: float = 0.5) -> str:
    """Forecast.

    Args:
        city: City name.
        days: How many days.
    """
    return city


def literal_mixed(x: Literal[1, "a", True], y: Literal["fast", "slow"] = "fast") -> None: ...


def enums(
    c: Color, lvl: Level = Level.LOW, c2: Color = Color.RED, s: Shade = Shade.DARK
) -> None: ...


def nullable(a: int | None, b: int = None, c: Optional[str] = None) -> None: ...  # type: ignore[assignment]  # noqa: UP045


def model(addr: Address, maybe: Address | None = None) -> None:
    """Ship.

    Args:
        addr: Where to ship.
    """


def closed(s: Closed) -> None: ...


def dataclass_and_typeddict(p: Point, m: Movie) -> None: ...


def containers(
    a: list[int],
    b: dict[str, float],
    c: tuple[int, str],
    d: set[str],
    e: tuple[int, ...] = (1, 2),
    f: frozenset[int] = frozenset(),
) -> None: ...


def scalars(
    d: datetime.date = datetime.date(2024, 1, 2),
    dt: datetime.datetime | None = None,
    u: uuid.UUID | None = None,
    dec: decimal.Decimal = decimal.Decimal("1.5"),
    p: pathlib.Path = pathlib.Path("/tmp"),
    b: bytes = b"x",
) -> None: ...


def precedence(
    a: Annotated[str, Field(description="from Field")],
    b: Annotated[str, "from Annotated"],
    c: str,
    d: Annotated[str, "ann", Field(description="field wins")] = "x",
    e: str = Field("y", description="Field as default"),
) -> None:
    """Precedence.

    Args:
        a: doc a
        b: doc b
        c: doc c
        d: doc d
        e: doc e
    """


def fields(
    n: int = Field(3, ge=0, le=10, description="Count"),
    tags: list[str] = Field(default_factory=list),  # noqa: B008
    k: Annotated[int, Field(gt=0)] = 1,
) -> None: ...


def anything(a, b: Any, c: object = None, d=5) -> None: ...  # type: ignore[no-untyped-def]


def recursive(tree: Node) -> None: ...


def discriminated(pet: Annotated[Cat | Dog, Field(discriminator="kind")]) -> None: ...


def reserved_names(
    json: str,
    schema: int,
    copy: bool,
    model_config: str,
    validate: str,
    dict: str,
    _cursor: str = "",
) -> None: ...


def context_everywhere(
    ctx: ToolContext,
    a: int,
    c2: ToolContext | None = None,
    *,
    c3: Annotated[ToolContext, "injected"],
    c4: Optional[ToolContext] = None,  # noqa: UP045
) -> None: ...


def kinds(a: int, /, b: str, *, c: bool = False) -> None: ...


def no_params() -> Callable[[int], int]:
    """Return a function (an unsupported return type must not matter)."""
    return abs


def generator(x: int) -> Iterator[int]:
    yield x


def unserializable_default(x: int = object()) -> None: ...  # type: ignore[assignment]


CASES: list[tuple[Callable[..., Any], dict[str, Any]]] = [
    (
        basics,
        root(
            {
                "city": {"type": "string", "description": "City name."},
                "days": {"type": "integer", "description": "How many days.", "default": 3},
                "metric": {"type": "boolean", "default": True},
                "ratio": {"type": "number", "default": 0.5},
            },
            ["city"],
        ),
    ),
    (
        literal_mixed,
        root(
            {
                "x": {"enum": [1, "a", True]},
                "y": {"enum": ["fast", "slow"], "type": "string", "default": "fast"},
            },
            ["x"],
        ),
    ),
    (
        enums,
        root(
            {
                "c": {"enum": ["red", "green"], "title": "Color", "type": "string"},
                "lvl": {"enum": [1, 2], "title": "Level", "type": "integer", "default": 1},
                "c2": {
                    "enum": ["red", "green"],
                    "title": "Color",
                    "type": "string",
                    "default": "red",
                },
                "s": {"enum": ["dark"], "title": "Shade", "type": "string", "default": "dark"},
            },
            ["c"],
        ),
    ),
    (
        nullable,
        root(
            {
                "a": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                "b": {"type": "integer", "default": None},
                "c": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            },
            ["a"],
        ),
    ),
    (
        model,
        root(
            {
                "addr": {**ADDRESS, "description": "Where to ship."},
                "maybe": {"anyOf": [ADDRESS, {"type": "null"}], "default": None},
            },
            ["addr"],
        ),
    ),
    (
        closed,
        root(
            {
                "s": {
                    "additionalProperties": False,
                    "properties": {"a": {"title": "A", "type": "integer"}},
                    "required": ["a"],
                    "title": "Closed",
                    "type": "object",
                }
            },
            ["s"],
        ),
    ),
    (
        dataclass_and_typeddict,
        root(
            {
                "p": {
                    "properties": {
                        "x": {"title": "X", "type": "number"},
                        "y": {"default": 0.0, "title": "Y", "type": "number"},
                    },
                    "required": ["x"],
                    "title": "Point",
                    "type": "object",
                },
                "m": {
                    "properties": {
                        "title": {"title": "Title", "type": "string"},
                        "year": {"title": "Year", "type": "integer"},
                    },
                    "required": ["title"],
                    "title": "Movie",
                    "type": "object",
                },
            },
            ["p", "m"],
        ),
    ),
    (
        containers,
        root(
            {
                "a": {"items": {"type": "integer"}, "type": "array"},
                "b": {"additionalProperties": {"type": "number"}, "type": "object"},
                "c": {
                    "maxItems": 2,
                    "minItems": 2,
                    "prefixItems": [{"type": "integer"}, {"type": "string"}],
                    "type": "array",
                },
                "d": {"items": {"type": "string"}, "type": "array", "uniqueItems": True},
                "e": {"items": {"type": "integer"}, "type": "array", "default": [1, 2]},
                "f": {
                    "items": {"type": "integer"},
                    "type": "array",
                    "uniqueItems": True,
                    "default": [],
                },
            },
            ["a", "b", "c", "d"],
        ),
    ),
    (
        scalars,
        root(
            {
                "d": {"format": "date", "type": "string", "default": "2024-01-02"},
                "dt": {
                    "anyOf": [{"format": "date-time", "type": "string"}, {"type": "null"}],
                    "default": None,
                },
                "u": {
                    "anyOf": [{"format": "uuid", "type": "string"}, {"type": "null"}],
                    "default": None,
                },
                "dec": {"anyOf": [{"type": "number"}, {"type": "string"}], "default": "1.5"},
                "p": {"format": "path", "type": "string", "default": "/tmp"},
                "b": {"format": "binary", "type": "string", "default": "x"},
            },
            [],
        ),
    ),
    (
        precedence,
        root(
            {
                "a": {"type": "string", "description": "from Field"},
                "b": {"type": "string", "description": "from Annotated"},
                "c": {"type": "string", "description": "doc c"},
                "d": {"type": "string", "description": "field wins", "default": "x"},
                "e": {"type": "string", "description": "Field as default", "default": "y"},
            },
            ["a", "b", "c"],
        ),
    ),
    (
        fields,
        root(
            {
                "n": {
                    "description": "Count",
                    "maximum": 10,
                    "minimum": 0,
                    "type": "integer",
                    "default": 3,
                },
                "tags": {"items": {"type": "string"}, "type": "array"},
                "k": {"exclusiveMinimum": 0, "type": "integer", "default": 1},
            },
            [],
        ),
    ),
    (
        anything,
        root({"a": {}, "b": {}, "c": {"default": None}, "d": {"default": 5}}, ["a", "b"]),
    ),
    (
        recursive,
        root(
            {"tree": {"$ref": "#/$defs/Node"}},
            ["tree"],
            **{
                "$defs": {
                    "Node": {
                        "properties": {
                            "value": {"title": "Value", "type": "integer"},
                            "children": {
                                "default": [],
                                "items": {"$ref": "#/$defs/Node"},
                                "title": "Children",
                                "type": "array",
                            },
                        },
                        "required": ["value"],
                        "title": "Node",
                        "type": "object",
                    }
                }
            },
        ),
    ),
    (
        discriminated,
        root(
            {
                "pet": {
                    "anyOf": [
                        {
                            "properties": {
                                "kind": {"const": "cat", "title": "Kind", "type": "string"},
                                "lives": {"title": "Lives", "type": "integer"},
                            },
                            "required": ["kind", "lives"],
                            "title": "Cat",
                            "type": "object",
                        },
                        {
                            "properties": {
                                "kind": {"const": "dog", "title": "Kind", "type": "string"},
                                "good": {"title": "Good", "type": "boolean"},
                            },
                            "required": ["kind", "good"],
                            "title": "Dog",
                            "type": "object",
                        },
                    ]
                }
            },
            ["pet"],
        ),
    ),
    (
        reserved_names,
        root(
            {
                "json": {"type": "string"},
                "schema": {"type": "integer"},
                "copy": {"type": "boolean"},
                "model_config": {"type": "string"},
                "validate": {"type": "string"},
                "dict": {"type": "string"},
                "_cursor": {"type": "string", "default": ""},
            },
            ["json", "schema", "copy", "model_config", "validate", "dict"],
        ),
    ),
    (context_everywhere, root({"a": {"type": "integer"}}, ["a"])),
    (
        kinds,
        root(
            {
                "a": {"type": "integer"},
                "b": {"type": "string"},
                "c": {"type": "boolean", "default": False},
            },
            ["a", "b"],
        ),
    ),
    (no_params, root({}, [])),
    (generator, root({"x": {"type": "integer"}}, ["x"])),
    (unserializable_default, root({"x": {"type": "integer"}}, [])),
]


@pytest.mark.parametrize(("fn", "expected"), CASES, ids=[fn.__name__ for fn, _ in CASES])
def test_schema(fn: Callable[..., Any], expected: dict[str, Any]) -> None:
    assert tool(fn).parameters_schema == expected


def test_description_is_summary_and_body_not_sections() -> None:
    def f(x: int) -> None:
        """Summary line.

        Extended paragraph
        on two lines.

        Args:
            x: The x.

        Returns:
            Nothing.
        """

    assert tool(f).description == "Summary line.\n\nExtended paragraph\non two lines."


def test_no_docstring_means_empty_description() -> None:
    def f(x: int) -> None: ...

    t = tool(f)
    assert t.description == ""
    assert t.parameters_schema == root({"x": {"type": "integer"}}, ["x"])


def test_partial_hides_bound_values_and_keeps_wrapped_name_and_docs() -> None:
    def search(api_key: str, query: str, limit: int = 5) -> str:
        """Search the index.

        Args:
            api_key: Secret key.
            query: What to look for.
            limit: Max results.
        """
        return query

    t = tool(functools.partial(search, "sk-secret", limit=10))
    assert t.name == "search"
    assert t.description == "Search the index."
    assert t.parameters_schema == root(
        {"query": {"type": "string", "description": "What to look for."}}, ["query"]
    )
    assert "sk-secret" not in str(t.to_wire())
    assert t.invoke({"query": "q"}).output == "q"


def test_bound_method_drops_self() -> None:
    class Store:
        def get(self, key: str) -> str:
            """Get a value.

            Args:
                key: The key.
            """
            return key.upper()

    t = tool(Store().get)
    assert t.parameters_schema == root(
        {"key": {"type": "string", "description": "The key."}}, ["key"]
    )
    assert t.invoke({"key": "a"}).output == "A"


def test_two_recursive_types_with_one_name_are_kept_apart() -> None:
    def make(name: str) -> type[BaseModel]:
        class Tree(BaseModel):
            label: str
            kids: list[Tree] = []

        Tree.__name__ = Tree.__qualname__ = "Tree"
        Tree.model_rebuild()
        return Tree

    first = make("a")

    class Tree(BaseModel):  # same name, different fields
        size: int
        kids: list[Tree] = []

    def f(a: first, b: Tree) -> None: ...  # type: ignore[valid-type]

    schema = tool(f).parameters_schema  # pyright: ignore[reportUnknownArgumentType]
    assert schema is not None
    assert schema["properties"] == {"a": {"$ref": "#/$defs/Tree"}, "b": {"$ref": "#/$defs/Tree2"}}
    assert schema["$defs"]["Tree"]["properties"]["label"] == {"title": "Label", "type": "string"}
    assert schema["$defs"]["Tree2"]["properties"]["size"] == {"title": "Size", "type": "integer"}
    assert schema["$defs"]["Tree2"]["properties"]["kids"]["items"] == {"$ref": "#/$defs/Tree2"}


def test_ref_with_description_sibling_is_inlined() -> None:
    class Outer(BaseModel):
        addr: Address = Field(description="Home address")

    def f(o: Outer) -> None: ...

    schema = tool(f).parameters_schema
    assert schema is not None
    assert "$defs" not in schema
    assert schema["properties"]["o"]["properties"]["addr"] == {
        **ADDRESS,
        "description": "Home address",
    }


def test_schema_is_built_once_and_cached() -> None:
    t = tool(basics)
    assert t.parameters_schema is t.parameters_schema
    assert t.to_wire()["client"]["input_schema"] is not t.parameters_schema  # wire gets a copy
