from __future__ import annotations

import pytest

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


def test_malformed_sections_do_not_break_the_tool() -> None:
    doc = "Summary.\n\n    Returns:\n    Raises:\n    Args:\n    "
    assert parse_docstring(doc).description == "Summary."


def test_empty_entries_are_skipped() -> None:
    doc = "Summary.\n\n:param x:\n:param y: Why.\n"
    assert parse_docstring(doc) == ParsedDoc("Summary.", {"y": "Why."})


def test_args_first_unindented_until_the_next_section() -> None:
    doc = "Args:\nx: The x.\n\ny: The y.\nReturns:\n    Nothing."
    assert parse_docstring(doc) == ParsedDoc(None, {"x": "The x.", "y": "The y."})


def test_first_entry_of_a_name_wins() -> None:
    doc = "Summary.\n\nArgs:\n    x: First.\n    x: Second.\n"
    assert parse_docstring(doc) == ParsedDoc("Summary.", {"x": "First."})
