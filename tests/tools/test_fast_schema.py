"""The hand-written schemas of common annotations are exactly what pydantic renders."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal, Optional, Union

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from inferencesh.tools._fast import fast_schema
from inferencesh.tools._refs import normalize_schema


class Model(BaseModel):
    x: int


def literal(values: list[Any]) -> Any:
    return Literal[tuple(values)]


leaves = st.sampled_from([str, int, float, bool, type(None), Any, object, datetime.date, Model])
literals = st.one_of(
    st.lists(st.text(max_size=3), min_size=1, max_size=3, unique=True),
    st.lists(st.integers(-5, 5), min_size=1, max_size=3, unique=True),
    st.lists(st.booleans(), min_size=1, max_size=2, unique=True),
    st.lists(
        st.one_of(st.integers(0, 2), st.text(max_size=1)), min_size=2, max_size=3, unique=True
    ),
).map(literal)


def combine(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        inner.map(lambda t: list[t]),
        inner.map(lambda t: set[t]),
        inner.map(lambda t: frozenset[t]),
        inner.map(lambda t: tuple[t, ...]),
        st.lists(inner, min_size=1, max_size=3).map(lambda ts: tuple[tuple(ts)]),
        inner.map(lambda t: dict[str, t]),
        inner.map(lambda t: dict[int, t]),
        st.lists(inner, min_size=2, max_size=3).map(lambda ts: Union[tuple(ts)]),  # noqa: UP007
        inner.map(lambda t: Optional[t]),  # noqa: UP045
    )


annotations = st.recursive(leaves | literals, combine, max_leaves=5)


@settings(max_examples=400, deadline=None)
@given(annotations)
def test_fast_schema_equals_pydantic(annotation: Any) -> None:
    fast = fast_schema(annotation)
    if fast is not None:
        assert fast == normalize_schema(TypeAdapter(annotation).json_schema())


def test_covers_the_common_cases() -> None:
    for annotation in (
        str,
        list[str] | None,
        Literal["a", "b"],
        dict[str, int],
        tuple[int, str],
        list,
        dict,
    ):
        assert fast_schema(annotation) is not None
    for annotation in (
        datetime.date,
        Model,
        tuple[()],
        Literal[1, "a"],
        dict[int, str],
        list[Model],
    ):
        assert fast_schema(annotation) is None
    assert fast_schema(Annotated[int, {"unhashable": 1}]) is None


def test_repeated_union_branches_collapse_like_pydantic() -> None:
    annotation = Union[list[int], tuple[int, ...]]  # noqa: UP007
    assert fast_schema(annotation) == {"items": {"type": "integer"}, "type": "array"}
    assert fast_schema(annotation) == TypeAdapter(annotation).json_schema()
