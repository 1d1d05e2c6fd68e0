from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferencesh.tools import tool
from inferencesh.tools._docstrings import ParsedDoc, parse_docstring

GOOGLE = """Fetch rows.

    Reads the table.

    Args:
        table (str): Table name,
            possibly qualified.
        limit: Max rows.

    Keyword Args:
        timeout (float, optional): Seconds.

    Other Parameters:
        trace: Debug flag.

    Returns:
        The rows.
    """

NUMPY = """Fetch rows.

    Reads the table.

    Parameters
    ----------
    table : str
        Table name,
        possibly qualified.
    x, y : float
        Coordinates.

    Returns
    -------
    list
    """

REST = """Fetch rows.

    Reads the table.

    :param str table: Table name,
        possibly qualified.
    :param limit: Max rows.
    :type limit: int
    :keyword timeout: Seconds.
    :returns: The rows.
    """

EPYTEXT = """Fetch rows.

    Reads the table.

    @param table: Table name,
        possibly qualified.
    @type table: str
    @keyword timeout: Seconds.
    @return: The rows.
    """


@pytest.mark.parametrize(
    ("doc", "params"),
    [
        (
            GOOGLE,
            {
                "table": "Table name, possibly qualified.",
                "limit": "Max rows.",
                "timeout": "Seconds.",
                "trace": "Debug flag.",
            },
        ),
        (
            NUMPY,
            {"table": "Table name, possibly qualified.", "x": "Coordinates.", "y": "Coordinates."},
        ),
        (
            REST,
            {
                "table": "Table name, possibly qualified.",
                "limit": "Max rows.",
                "timeout": "Seconds.",
            },
        ),
        (EPYTEXT, {"table": "Table name, possibly qualified.", "timeout": "Seconds."}),
    ],
    ids=["google", "numpy", "rest", "epytext"],
)
def test_styles(doc: str, params: dict[str, str]) -> None:
    assert parse_docstring(doc) == ParsedDoc("Fetch rows.\n\nReads the table.", params)


def test_args_first_docstring() -> None:
    def f(x: int, y: int) -> None:
        """Args:
        x: The x.
        y: The y
            continued.
        """

    parsed = parse_docstring(f.__doc__)
    assert parsed == ParsedDoc(None, {"x": "The x.", "y": "The y continued."})


def test_args_first_docstring_indented_body() -> None:
    doc = "Args:\n        x: The x.\n        y: The y.\n    "
    assert parse_docstring(doc) == ParsedDoc(None, {"x": "The x.", "y": "The y."})


def test_args_first_then_other_section() -> None:
    doc = "Args:\n        x: The x.\n\n    Returns:\n        y.\n    "
    assert parse_docstring(doc) == ParsedDoc(None, {"x": "The x."})


def test_no_blank_line_before_args() -> None:
    doc = "Summary line.\n    Args:\n        x: The x.\n    "
    assert parse_docstring(doc) == ParsedDoc("Summary line.", {"x": "The x."})


def test_plain_docstring_is_all_description() -> None:
    doc = "Do a thing.\n\n    With details.\n    "
    assert parse_docstring(doc) == ParsedDoc("Do a thing.\n\nWith details.", {})


@pytest.mark.parametrize("doc", [None, "", "   \n  "])
def test_missing_docstring(doc: str | None) -> None:
    assert parse_docstring(doc) == ParsedDoc(None, {})


def test_sections_after_args_are_not_descriptions() -> None:
    doc = """Summary.

    Args:
        x: The x.

    Note:
        Not a parameter.

    Examples:
        >>> f(1)
    """
    assert parse_docstring(doc) == ParsedDoc("Summary.", {"x": "The x."})


def test_stale_and_star_entries_never_raise() -> None:
    def f(x: int) -> None:
        """Summary.

        Args:
            gone: Removed long ago.
            *args: Varargs.
            x: The x.
        """

    t = tool(f)
    assert t.parameters_schema == {
        "type": "object",
        "properties": {"x": {"type": "integer", "description": "The x."}},
        "required": ["x"],
        "additionalProperties": False,
    }


@pytest.mark.parametrize(
    "doc",
    [
        "Summary.\n\n    Returns:\n    Raises:\n    Args:\n    ",
        "Summary.\n\n:param a b c: docstring-parser raises on this\n",
        "Summary.\n\n@param: and on this\n",
    ],
)
def test_malformed_docstrings_do_not_break_the_tool(doc: str) -> None:
    assert parse_docstring(doc) == ParsedDoc("Summary.", {})


def test_empty_entries_are_skipped() -> None:
    doc = "Summary.\n\n:param x:\n:param y: Why.\n"
    assert parse_docstring(doc) == ParsedDoc("Summary.", {"y": "Why."})


def test_args_first_unindented_until_the_next_section() -> None:
    doc = "Args:\nx: The x.\n\ny: The y.\nReturns:\n    Nothing."
    assert parse_docstring(doc) == ParsedDoc(None, {"x": "The x.", "y": "The y."})


def test_numpy_repeated_name_keeps_the_first() -> None:
    doc = "Summary.\n\nParameters\n----------\nx, x : int\n    The x.\n"
    assert parse_docstring(doc) == ParsedDoc("Summary.", {"x": "The x."})


def test_first_entry_of_a_name_wins() -> None:
    doc = "Summary.\n\nArgs:\n    x: First.\n    x: Second.\n"
    assert parse_docstring(doc) == ParsedDoc("Summary.", {"x": "First."})


def _reference_google(doc: str) -> dict[str, str]:
    """docstring-parser's Google parser, taught the extra section titles."""
    from docstring_parser.google import DEFAULT_SECTIONS, GoogleParser, Section, SectionType

    extra = [
        Section(title, "param", SectionType.MULTIPLE)
        for title in ("Keyword Args", "Keyword Arguments", "Other Parameters")
    ]
    parsed = GoogleParser([*DEFAULT_SECTIONS, *extra]).parse(doc)
    return {
        p.arg_name: " ".join(
            line.strip() for line in (p.description or "").splitlines() if line.strip()
        )
        for p in parsed.params
    }


identifiers = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
phrases = st.lists(
    st.sampled_from(["the", "x", "value", "(in px)", "a: b", "count", "e.g."]),
    min_size=1,
    max_size=4,
).map(" ".join)
types_ = st.sampled_from(
    ["", " (int)", " (str, optional)", " (dict[str, int])", " (tuple(int, int))"]
)


@st.composite
def google_docstrings(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    lines = ["Summary line.", ""]
    if draw(st.booleans()):
        lines += ["A longer body", "on two lines.", ""]
    expected: dict[str, str] = {}
    sections = draw(
        st.lists(
            st.sampled_from(["Args", "Keyword Args", "Other Parameters"]),
            min_size=1,
            max_size=2,
            unique=True,
        )
    )
    names = draw(st.lists(identifiers, min_size=len(sections), max_size=5, unique=True))
    chunks = [names[i :: len(sections)] for i in range(len(sections))]
    for title, chunk in zip(sections, chunks, strict=True):
        lines.append(f"{title}:")
        for name in chunk:
            first, more = draw(phrases), draw(st.lists(phrases, max_size=2))
            lines.append(f"    {name}{draw(types_)}: {first}")
            lines += [f"        {m}" for m in more]
            expected[name] = " ".join([first, *more])
        lines.append("")
    if draw(st.booleans()):
        lines += ["Returns:", "    Something.", ""]
    return "\n".join(lines), expected


@settings(max_examples=300, deadline=None)
@given(google_docstrings())
def test_google_parser_agrees_with_docstring_parser(case: tuple[str, dict[str, str]]) -> None:
    doc, expected = case
    ours = parse_docstring(doc)
    assert ours.params == expected
    assert _reference_google(doc) == expected
    assert ours.description is not None and ours.description.startswith("Summary line.")


def test_typed_entries_with_colons_and_parentheses() -> None:
    doc = """Summary.

    Args:
        x (tuple(int, int)): The x (in px): see below.
        y (Callable[[int], str], optional):
            Described on the next line.
        **kwargs: Extra options.
        not an entry line
    """
    assert parse_docstring(doc).params == {
        "x": "The x (in px): see below.",
        "y": "Described on the next line.",
        "kwargs": "Extra options.",
    }


def test_text_back_at_header_level_ends_the_section() -> None:
    doc = "Summary.\n\nArgs:\n    x: The x.\nNot an entry: just text.\n"
    assert parse_docstring(doc).params == {"x": "The x."}
