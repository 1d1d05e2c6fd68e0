import json
import sys
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferencesh._protocol import ndjson
from inferencesh._protocol.ndjson import NdjsonDecoder, fast_loads

# Every test runs with orjson (the default on CPython) and with the standard library's json
# (the fallback where orjson is not installed): both must decode the same.
LOADS: list[Callable[[bytes], Any]] = [orjson.loads, json.loads]
with_both = pytest.mark.parametrize("loads", LOADS, ids=["orjson", "json"])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)


def encode(objs: list[dict[str, object]]) -> bytes:
    return b"".join(json.dumps(o, ensure_ascii=False).encode() + b"\n" for o in objs)


@with_both
@given(objs=st.lists(objects, max_size=8), cuts=st.lists(st.integers(min_value=0), max_size=12))
def test_any_split_of_the_bytes_yields_the_same_objects(
    loads: Callable[[bytes], Any], objs: list[dict[str, object]], cuts: list[int]
) -> None:
    data = encode(objs)
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    decoder = NdjsonDecoder(loads)
    out: list[dict[str, object]] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.flush())
    assert out == objs


@with_both
def test_blank_lines_and_crlf_are_skipped(loads: Callable[[bytes], Any]) -> None:
    decoder = NdjsonDecoder(loads)
    assert decoder.feed(b'\n\r\n{"a":1}\r\n\n{"b"') == [{"a": 1}]
    assert decoder.feed(b":2}\n") == [{"b": 2}]


@with_both
def test_a_bad_line_is_skipped_and_the_rest_kept(loads: Callable[[bytes], Any]) -> None:
    decoder = NdjsonDecoder(loads)
    assert decoder.feed(b'{"a":1}\nnot json\n[1,2]\n{"b":2}\n') == [{"a": 1}, {"b": 2}]


@with_both
def test_flush_returns_a_last_line_without_newline(loads: Callable[[bytes], Any]) -> None:
    decoder = NdjsonDecoder(loads)
    assert decoder.feed(b'{"a":1}') == []
    assert decoder.flush() == [{"a": 1}]
    assert decoder.flush() == []


@with_both
def test_multibyte_characters_split_across_chunks(loads: Callable[[bytes], Any]) -> None:
    data = json.dumps({"t": "héllo ✓"}, ensure_ascii=False).encode() + b"\n"
    decoder = NdjsonDecoder(loads)
    out = [o for i in range(len(data)) for o in decoder.feed(data[i : i + 1])]
    assert out == [{"t": "héllo ✓"}]


@with_both
def test_what_orjson_refuses_is_decoded_as_json_decodes_it(loads: Callable[[bytes], Any]) -> None:
    lines = [b'{"a":NaN}', b'{"s":"\\ud800"}', b'{"x":1e999}', b'{"i":%d}' % 2**63]
    lines += [b'{"big":%d}' % 2**70, b'{"neg":%d}' % -(2**63 + 1), b'{"f":0.%s}' % (b"3" * 25)]
    decoder = NdjsonDecoder(loads)
    expected = [json.loads(line) for line in lines]
    assert repr(decoder.feed(b"\n".join(lines) + b"\n")) == repr(expected)
    for line, obj in zip(lines, expected, strict=True):  # alone, or with other lines
        assert repr(decoder.feed(line + b"\n")) == repr([obj])
        assert repr(decoder.feed(b'{"a":1}\n' + line + b"\n")) == repr([{"a": 1}, obj])


def test_without_orjson_the_standard_library_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "orjson", None)  # `import orjson` raises ImportError
    monkeypatch.setattr(ndjson, "_loads", None)
    assert fast_loads() is json.loads
    assert NdjsonDecoder().feed(b'{"a":1}\n') == [{"a": 1}]


def test_with_orjson_installed_it_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ndjson, "_loads", None)
    assert fast_loads() is orjson.loads
