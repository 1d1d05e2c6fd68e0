"""An app's input from the command line: `--input JSON`, `--input @file.json`, `-i key=value`.

`-i` values are JSON when they parse as JSON (`steps=5` is the number 5, `tags=["a","b"]` a
list), else the text as written (`text=hello`). `key=@path` names a file, which is uploaded
and passed as its URI; quote a text that starts with `@` as JSON: `-i 'handle="@me"'`.
Pairs are applied after `--input`, so they override its keys; `a.b=1` sets a nested key.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, cast

from inferencesh.cli._common import EXIT_USAGE, CommandError

__all__ = ["build_input"]


def build_input(raw: str | None, pairs: list[str]) -> dict[str, Any]:
    """The input object from `--input` (JSON text, `@file` or `@-` for stdin) and `-i` pairs.

    Raises:
        CommandError: the JSON does not parse, is not an object, or a file cannot be read
            (exit code 2).
    """
    data: dict[str, Any] = {}
    if raw is not None:
        data = _object(_read_json(raw))
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"-i takes KEY=VALUE, got {pair!r}", EXIT_USAGE)
        _set(data, key.split("."), _value(value))
    return data


def _read_json(raw: str) -> Any:
    where = "--input"
    if raw.startswith("@"):
        where = raw[1:]
        try:
            raw = sys.stdin.read() if where == "-" else Path(where).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise CommandError(
                f"cannot read the input file {where}: {reason}", EXIT_USAGE
            ) from None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise CommandError(f"input is not JSON ({where}): {exc}", EXIT_USAGE) from None


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CommandError(
            f"the input must be a JSON object, got {type(value).__name__}", EXIT_USAGE
        )
    return cast("dict[str, Any]", value)


def _value(text: str) -> Any:
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise CommandError(f"no such file: {text[1:]}", EXIT_USAGE)
        return path  # the client uploads it and sends its URI
    try:
        return json.loads(text)
    except ValueError:
        return text


def _set(data: dict[str, Any], keys: list[str], value: Any) -> None:
    node = data
    for key in keys[:-1]:
        child: Any = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise CommandError(f"-i {'.'.join(keys)}: {key} is not an object", EXIT_USAGE)
        node = cast("dict[str, Any]", child)
    node[keys[-1]] = value
