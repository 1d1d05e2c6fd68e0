"""Docstring → tool description and parameter descriptions.

NumPy, reST/Sphinx and Epytext are read with docstring-parser (imported on first need);
Google, the common case, with a small parser here (see `_google_params`). docstring-parser's
known Google gaps are covered: a docstring that starts with `Args:` (its parser raises), no
blank line between the summary and `Args:`, and `Keyword Args` / `Other Parameters` sections
(unknown to it, so their entries were dropped). The style is detected with a few regexes so
only one parser runs (docstring-parser's AUTO mode runs all four: ~3x slower).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = ["ParsedDoc", "parse_docstring"]

_GOOGLE_PARAM_SECTIONS = (
    "Args",
    "Arguments",
    "Parameters",
    "Params",
    "Keyword Args",
    "Keyword Arguments",
    "Kwargs",
    "Other Parameters",
    "Other Params",
    "Other Args",
    "Other Arguments",
)
_GOOGLE_OTHER_SECTIONS = (
    "Returns",
    "Return",
    "Yields",
    "Yield",
    "Raises",
    "Raise",
    "Exceptions",
    "Except",
    "Warns",
    "Warnings",
    "Warning",
    "Note",
    "Notes",
    "Example",
    "Examples",
    "Attributes",
    "See Also",
    "Todo",
    "References",
    "Methods",
)
_GOOGLE_HEADER = re.compile(
    r"^[ \t]*(?:"
    + "|".join(re.escape(t) for t in _GOOGLE_PARAM_SECTIONS + _GOOGLE_OTHER_SECTIONS)
    + r")[ \t]*:[ \t]*$",
    re.MULTILINE,
)
_GOOGLE_PARAM_HEADER = re.compile(
    r"^[ \t]*(?:" + "|".join(map(re.escape, _GOOGLE_PARAM_SECTIONS)) + r")[ \t]*:[ \t]*$"
)
# `name: text`, `name (type): text`, `*args: text`; the type may hold parentheses.
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}([A-Za-z_]\w*)\s*(?:\(.*?\))?\s*:(.*)$")
_NUMPY_HEADER = re.compile(r"^[ \t]*[A-Z][A-Za-z ]*[ \t]*\n[ \t]*-{3,}[ \t]*$", re.MULTILINE)
_REST_FIELD = re.compile(
    r"^[ \t]*:(?:param|parameter|arg|argument|key|keyword|type|raises?|except|exception"
    r"|returns?|rtype|yields?|ytype|var|ivar|cvar|meta)\b",
    re.MULTILINE,
)
_EPYTEXT_FIELD = re.compile(
    r"^[ \t]*@(?:param|type|keyword|kwarg|kwparam|returns?|rtype|raises?|ivar|cvar|var"
    r"|note|see|since|deprecated|author)\b",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class ParsedDoc:
    """What a docstring says about a tool."""

    description: str | None
    """Text before the first section (summary and extended paragraphs); None if empty."""
    params: dict[str, str] = field(default_factory=dict[str, str])
    """Parameter name → description, multi-line descriptions joined with spaces."""


_EMPTY = ParsedDoc(None)


def parse_docstring(doc: str | None) -> ParsedDoc:
    """Parse a raw `__doc__`; never raises (stale or odd entries are ignored)."""
    if not doc or not doc.strip():
        return _EMPTY
    return _parse_cached(doc)


@lru_cache(maxsize=2048)
def _parse_cached(doc: str) -> ParsedDoc:
    text = _indent_leading_section(inspect.cleandoc(doc))
    for header, parse in (
        (_NUMPY_HEADER, _numpy_params),
        (_REST_FIELD, _rest_params),
        (_EPYTEXT_FIELD, _epytext_params),
        (_GOOGLE_HEADER, _google_params),
    ):
        match = header.search(text)
        if match is not None:
            try:
                params = parse(text, match.start())
            except Exception:
                params = {}
            return ParsedDoc(_description(text[: match.start()]), params)
    return ParsedDoc(_description(text))


def _indent_leading_section(text: str) -> str:
    """Re-indent the body of a Google section that opens the docstring.

    In `\"\"\"Args:` + indented entries, the header sits on the quote line, so
    `inspect.cleandoc` strips the entries' indentation too and they stop looking like a
    section body. Indent them again up to the next header.
    """
    lines = text.split("\n")
    if len(lines) < 2 or not _GOOGLE_HEADER.match(lines[0]) or lines[1][:1].isspace():
        return text
    for i in range(1, len(lines)):
        if _GOOGLE_HEADER.match(lines[i]):
            break
        if lines[i]:
            lines[i] = "    " + lines[i]
    return "\n".join(lines)


def _description(text: str) -> str | None:
    return text.strip() or None


def _join(text: str | None) -> str:
    return " ".join(line.strip() for line in (text or "").splitlines() if line.strip())


def _collect(entries: list[Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in entries:
        description = _join(entry.description)
        if not description:
            continue
        # NumPy allows `x, y : float`; Google/reST may write `*args`.
        for name in str(entry.arg_name).split(","):
            name = name.strip().lstrip("*")
            if name and name not in out:
                out[name] = description
    return out


def _google_params(text: str, start: int) -> dict[str, str]:
    """Entries of the Google parameter sections (`Args`, `Keyword Args`, `Other Parameters`...).

    Hand-written rather than docstring-parser's Google parser: importing docstring-parser
    costs ~3 ms (it loads every style), which alone made a process's first tool slower than
    pydantic's own function schema; this also covers its gaps natively. The tests check it
    against docstring-parser on docstrings without those gaps.
    """
    out: dict[str, str] = {}
    name: str | None = None
    parts: list[str] = []
    in_params = False
    header_indent = 0
    entry_indent: int | None = None
    for line in text[start:].split("\n"):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if _GOOGLE_HEADER.match(line) or (in_params and stripped and indent <= header_indent):
            _add(out, name, parts)
            name, parts, entry_indent = None, [], None
            in_params = _GOOGLE_PARAM_HEADER.match(line) is not None
            header_indent = indent
            continue
        if not in_params or not stripped:
            continue
        if entry_indent is None:
            entry_indent = indent
        if indent <= entry_indent:
            _add(out, name, parts)
            match = _GOOGLE_ENTRY.match(stripped)
            name, parts = (match[1], [match[2]]) if match else (None, [])
        else:
            parts.append(stripped)
    _add(out, name, parts)
    return out


def _add(out: dict[str, str], name: str | None, parts: list[str]) -> None:
    description = " ".join(p.strip() for p in parts if p.strip())
    if name and description and name not in out:
        out[name] = description


def _numpy_params(text: str, start: int) -> dict[str, str]:
    from docstring_parser.numpydoc import NumpydocParser

    return _collect(NumpydocParser().parse(text).params)


def _rest_params(text: str, start: int) -> dict[str, str]:
    from docstring_parser import rest

    return _collect(rest.parse(text).params)


def _epytext_params(text: str, start: int) -> dict[str, str]:
    from docstring_parser import epydoc

    return _collect(epydoc.parse(text).params)
