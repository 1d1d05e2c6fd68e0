"""Request bodies are strict JSON, and a value that is not names its path."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferencesh._protocol import jsonbody
from inferencesh._protocol.jsonbody import encode_json, json_path
from inferencesh.errors import InvalidInputError


def test_a_good_body_is_compact_utf8() -> None:
    assert encode_json({"a": [1, 2.5, None, True], "é": "ü"}) == (
        '{"a":[1,2.5,null,true],"é":"ü"}'.encode()
    )


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(alphabet=st.characters(exclude_categories=("Cs",))),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=20,
    )
)
def test_any_json_value_round_trips(value: Any) -> None:
    assert json.loads(encode_json(value)) == value


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"input": {"a": math.nan}}, "input.a"),
        ({"input": [[0, math.inf]]}, "input[0][1]"),
        ({"input": {"k": "\udc80"}}, "input.k"),
        ({"input": {"\ud800": 1}}, "input"),
        ({"input": {math.nan: 1}}, "input"),
        ({"input": {None: object()}}, "input.None"),
        ({"input": ({"x": {1, 2}},)}, "input[0].x"),
        ({"a b": {"c.d": math.nan}}, '["a b"]["c.d"]'),
        ({"input": {(1, 2): "tuple key"}}, "input"),
        ({"input": ["fine", 1.5, "ok", {"deeper": math.nan}]}, "input[3].deeper"),
        (math.nan, "the body"),
    ],
)
def test_the_first_bad_value_is_named_by_its_path(body: Any, path: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        encode_json(body)
    assert info.value.path == path
    assert isinstance(info.value.__cause__, TypeError | ValueError)


def test_a_circular_body_is_named_where_it_closes() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(InvalidInputError, match="circular") as info:
        encode_json({"input": {"xs": loop}})
    assert info.value.path == "input.xs[1]"


def test_nesting_beyond_the_encoder_names_where_it_starts() -> None:
    deep: Any = []
    for _ in range(50_000):
        deep = [deep]
    with pytest.raises(InvalidInputError, match="levels deep") as info:
        encode_json({"input": deep})
    assert info.value.path == "input[0][0][0][0][0]"


def test_a_value_json_refuses_but_the_walk_accepts_is_still_typed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> str:
        raise ValueError("an encoder that refuses more than JSON does")

    monkeypatch.setattr(jsonbody.json, "dumps", refuse)
    with pytest.raises(InvalidInputError, match="cannot be sent as JSON: an encoder") as info:
        encode_json({"x": 1})
    assert info.value.path == ""


def test_paths_read_like_python() -> None:
    assert json_path(("input", "images", 0, "url")) == "input.images[0].url"
    assert json_path(("input", "7", "a-b", "x y")) == 'input["7"].a-b["x y"]'
    assert json_path(()) == "the body"
