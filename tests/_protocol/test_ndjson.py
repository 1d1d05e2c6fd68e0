import json

from hypothesis import given
from hypothesis import strategies as st

from inferencesh._protocol.ndjson import NdjsonDecoder

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


@given(objs=st.lists(objects, max_size=8), cuts=st.lists(st.integers(min_value=0), max_size=12))
def test_any_split_of_the_bytes_yields_the_same_objects(
    objs: list[dict[str, object]], cuts: list[int]
) -> None:
    data = encode(objs)
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    decoder = NdjsonDecoder()
    out: list[dict[str, object]] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.flush())
    assert out == objs


def test_blank_lines_and_crlf_are_skipped() -> None:
    decoder = NdjsonDecoder()
    assert decoder.feed(b'\n\r\n{"a":1}\r\n\n{"b"') == [{"a": 1}]
    assert decoder.feed(b":2}\n") == [{"b": 2}]


def test_a_bad_line_is_skipped_and_the_rest_kept() -> None:
    decoder = NdjsonDecoder()
    assert decoder.feed(b'{"a":1}\nnot json\n[1,2]\n{"b":2}\n') == [{"a": 1}, {"b": 2}]


def test_flush_returns_a_last_line_without_newline() -> None:
    decoder = NdjsonDecoder()
    assert decoder.feed(b'{"a":1}') == []
    assert decoder.flush() == [{"a": 1}]
    assert decoder.flush() == []


def test_multibyte_characters_split_across_chunks() -> None:
    data = json.dumps({"t": "héllo ✓"}, ensure_ascii=False).encode() + b"\n"
    decoder = NdjsonDecoder()
    out = [o for i in range(len(data)) for o in decoder.feed(data[i : i + 1])]
    assert out == [{"t": "héllo ✓"}]
