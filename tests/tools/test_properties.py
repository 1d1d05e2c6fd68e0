# pyright: reportUnknownVariableType=false, reportUnknownArgumentType=false
"""Property tests: generated signatures over a grammar of supported types, defaults and docstrings.

For every generated function:
- the schema is valid JSON Schema 2020-12 (checked against the meta-schema);
- every drawn value for every parameter validates against the schema and round-trips through
  the tool's validator to an equal Python value (omitted parameters come back as defaults);
- every documented parameter's description appears on its property.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any, Literal, NotRequired

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter
from typing_extensions import TypedDict

from inferencesh.tools import InvalidArguments, ValidatedArgs, tool

META = jsonschema.Draft202012Validator


def check(schema: dict[str, Any], instance: Any) -> None:
    """Validate an instance against a schema (jsonschema's own types are partly unknown)."""
    META(schema).validate(instance)  # pyright: ignore[reportUnknownMemberType]


class Color(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    S = 1
    L = 3


class Inner(BaseModel):
    label: str
    weight: float = 1.0


class Outer(BaseModel):
    inner: Inner
    tags: list[str] = []
    color: Color | None = None


@dataclass
class Pair:
    left: int
    right: str = "r"


class Options(TypedDict):
    name: str
    limit: NotRequired[int]


@dataclass(frozen=True)
class T:
    """A type of the grammar and a strategy for its Python values."""

    annotation: Any
    values: st.SearchStrategy[Any]
    strict_ok: bool = True  # expressible in strict mode
    nullable: bool = False


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
ints = st.integers(min_value=-(2**53), max_value=2**53)
floats = st.floats(allow_nan=False, allow_infinity=False)

LEAVES: list[T] = [
    T(str, text),
    T(int, ints),
    T(float, floats),
    T(bool, st.booleans()),
    T(bytes, text.map(str.encode)),
    T(datetime.date, st.dates()),
    T(datetime.datetime, st.datetimes(timezones=st.none() | st.just(datetime.UTC))),
    T(uuid.UUID, st.uuids()),
    T(decimal.Decimal, st.decimals(allow_nan=False, allow_infinity=False, places=3)),
    T(Literal["fast", "slow"], st.sampled_from(["fast", "slow"])),
    T(Literal[1, "one", True], st.sampled_from([1, "one", True])),
    T(Color, st.sampled_from(Color)),
    T(Size, st.sampled_from(Size)),
    T(
        Inner,
        st.builds(Inner, label=text, weight=floats),
    ),
    T(
        Outer,
        st.builds(
            Outer,
            inner=st.builds(Inner, label=text, weight=floats),
            tags=st.lists(text, max_size=3),
            color=st.none() | st.sampled_from(Color),
        ),
    ),
    T(Pair, st.builds(Pair, left=ints, right=text)),
    T(
        Options,
        st.fixed_dictionaries({"name": text}, optional={"limit": ints}),
    ),
]


def _list(t: T) -> T:
    return T(list[t.annotation], st.lists(t.values, max_size=3), t.strict_ok)


def _dict(t: T) -> T:
    return T(dict[str, t.annotation], st.dictionaries(text, t.values, max_size=3), strict_ok=False)


def _optional(t: T) -> T:
    return T(t.annotation | None, st.none() | t.values, t.strict_ok, nullable=True)


def _tuple(a: T, b: T) -> T:
    return T(
        tuple[a.annotation, b.annotation],
        st.tuples(a.values, b.values),
        a.strict_ok and b.strict_ok,
    )


SETS = [T(set[int], st.sets(ints, max_size=3)), T(frozenset[str], st.frozensets(text, max_size=3))]

types = st.recursive(
    st.sampled_from(LEAVES + SETS),
    lambda inner: st.one_of(
        inner.map(_list),
        inner.map(_dict),
        inner.map(_optional),
        st.tuples(inner, inner).map(lambda ab: _tuple(*ab)),
    ),
    max_leaves=3,
)

words = st.lists(
    st.sampled_from(["the", "count", "of", "rows", "city", "name", "max"]), min_size=1, max_size=5
).map(" ".join)


@dataclass
class Param:
    name: str
    type: T
    default: Any
    has_default: bool
    doc: str | None


@st.composite
def signatures(draw: st.DrawFn, strict: bool = False) -> list[Param]:
    n = draw(st.integers(min_value=0, max_value=5))
    params: list[Param] = []
    for i in range(n):
        t = draw(types.filter(lambda t: t.strict_ok) if strict else types)
        has_default = draw(st.booleans())
        default = draw(t.values) if has_default else None
        doc = draw(st.none() | words)
        params.append(Param(f"p{i}", t, default, has_default, doc))
    return params


def docstring(style: str, params: list[Param]) -> str:
    documented = [p for p in params if p.doc]
    if style == "google":
        body = "".join(f"\n    {p.name}: {p.doc}" for p in documented)
        return f"Summary line.\n\nArgs:{body}\n" if documented else "Summary line."
    if style == "numpy":
        body = "".join(f"\n{p.name} : something\n    {p.doc}" for p in documented)
        return f"Summary line.\n\nParameters\n----------{body}\n" if documented else "Summary line."
    if style == "rest":
        body = "".join(f"\n:param {p.name}: {p.doc}" for p in documented)
        return f"Summary line.\n{body}\n"
    body = "".join(f"\n@param {p.name}: {p.doc}" for p in documented)
    return f"Summary line.\n{body}\n"


def make_function(params: list[Param], style: str) -> Any:
    # Required parameters must come first in Python: make defaulted ones keyword-only.
    required = [p for p in params if not p.has_default]
    optional = [p for p in params if p.has_default]
    namespace: dict[str, Any] = {}
    parts = [f"{p.name}: T_{p.name}" for p in required]
    if optional:
        parts.append("*")
        parts += [f"{p.name}: T_{p.name} = D_{p.name}" for p in optional]
    for p in params:
        namespace[f"T_{p.name}"] = p.type.annotation
        namespace[f"D_{p.name}"] = p.default
    source = f"def generated({', '.join(parts)}):\n    return None\n"
    exec(compile(source, "<generated>", "exec", dont_inherit=True), namespace)
    fn = namespace["generated"]
    fn.__doc__ = docstring(style, params)
    return fn


styles = st.sampled_from(["google", "numpy", "rest", "epytext"])
# TOOLS_HYPOTHESIS_EXAMPLES=5000 for a long bug hunt.
SETTINGS = settings(
    max_examples=int(os.environ.get("TOOLS_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def to_json(t: T, value: Any) -> Any:
    return TypeAdapter(t.annotation).dump_python(value, mode="json")


@SETTINGS
@given(params=signatures(), style=styles, data=st.data())
def test_generated_signatures(params: list[Param], style: str, data: st.DataObject) -> None:
    t = tool(make_function(params, style))
    schema = t.parameters_schema
    assert schema is not None
    META.check_schema(schema)
    assert schema["required"] == [p.name for p in params if not p.has_default]

    for p in params:
        prop = schema["properties"][p.name]
        if p.doc:
            assert prop["description"] == p.doc
        else:
            assert "description" not in prop
        if p.has_default:
            assert prop["default"] == to_json(p.type, p.default)
            only_prop = {k: v for k, v in schema.items() if k in ("$defs", "properties")}
            check(only_prop | {"$ref": f"#/properties/{p.name}"}, prop["default"])

    # Draw a value for each parameter; leave some defaulted ones out.
    values = {p.name: data.draw(p.type.values) for p in params}
    sent = {
        n: v
        for n, v in values.items()
        if not any(p.name == n and p.has_default for p in params) or data.draw(st.booleans())
    }
    payload = {n: to_json(next(p.type for p in params if p.name == n), v) for n, v in sent.items()}
    check(schema, payload)
    result = t.validate_arguments(json.dumps(payload))
    assert isinstance(result, ValidatedArgs), result
    expected = {p.name: sent[p.name] if p.name in sent else p.default for p in params}
    assert result.arguments == expected


@SETTINGS
@given(params=signatures(strict=True), style=styles, data=st.data())
def test_generated_signatures_in_strict_mode(
    params: list[Param], style: str, data: st.DataObject
) -> None:
    fn = make_function(params, style)
    t = tool(strict=True)(fn)
    base = tool(fn).parameters_schema
    assert base is not None
    schema = t.parameters_schema
    assert schema is not None
    META.check_schema(schema)
    in_signature_order = [p.name for p in params if not p.has_default] + [
        p.name for p in params if p.has_default
    ]
    assert schema["required"] == in_signature_order
    _assert_closed(schema)

    payload: dict[str, Any] = {}
    expected: dict[str, Any] = {}
    for p in params:
        use_default = p.has_default and not p.type.nullable and data.draw(st.booleans())
        if use_default:
            payload[p.name], expected[p.name] = None, p.default  # null means "the default"
        else:
            value = data.draw(p.type.values)
            # A strict-mode model sends every key: null for nested keys it leaves unset.
            filled = with_nulls(to_json(p.type, value), base["properties"][p.name], base)
            payload[p.name], expected[p.name] = filled, value
    check(schema, payload)
    result = t.validate_arguments(payload)
    assert isinstance(result, ValidatedArgs), result
    assert result.arguments == expected


def with_nulls(value: Any, schema: Any, root: dict[str, Any]) -> Any:
    """Add `null` for every property a JSON value leaves out (what strict mode demands).

    A test helper walking untyped JSON (unknown-type reports are off for this file).
    """
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].split("/")[-1]]
    for branch in schema.get("anyOf", ()):
        kind = branch.get("type") or root.get("$defs", {}).get(
            branch.get("$ref", "/").split("/")[-1], {}
        ).get("type")
        if (kind == "object" and isinstance(value, dict)) or (
            kind == "array" and isinstance(value, list)
        ):
            return with_nulls(value, branch, root)
    if isinstance(value, dict) and "properties" in schema:
        return {
            k: with_nulls(value[k], s, root) if k in value else None
            for k, s in schema["properties"].items()
        }
    if isinstance(value, list) and "prefixItems" in schema:
        return [with_nulls(v, s, root) for v, s in zip(value, schema["prefixItems"], strict=False)]
    if isinstance(value, list) and "items" in schema:
        return [with_nulls(v, schema["items"], root) for v in value]
    return value


def _assert_closed(node: Any) -> None:
    if isinstance(node, dict):
        if "properties" in node:
            assert node["additionalProperties"] is False
            assert node["required"] == list(node["properties"])
        for value in node.values():
            _assert_closed(value)
    elif isinstance(node, list):
        for value in node:
            _assert_closed(value)


@SETTINGS
@given(params=signatures(), style=styles, data=st.data())
def test_values_of_the_wrong_shape_are_rejected_not_coerced(
    params: list[Param], style: str, data: st.DataObject
) -> None:
    t = tool(make_function(params, style))
    for p in params:
        if p.type.annotation is str:
            # A string that looks like JSON stays a string.
            raw = json.dumps(data.draw(st.lists(ints, max_size=3)))
            args = {q.name: to_json(q.type, data.draw(q.type.values)) for q in params}
            args[p.name] = raw
            result = t.validate_arguments(args)
            assert isinstance(result, ValidatedArgs)
            assert result.arguments[p.name] == raw
    result = t.validate_arguments({"not_a_parameter": 1})
    assert isinstance(result, InvalidArguments)
    assert "not_a_parameter" in [e.field for e in result.errors]
