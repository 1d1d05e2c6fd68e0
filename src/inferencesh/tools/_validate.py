"""Model arguments → validated Python values, or a structured error the model can read.

Each parameter is validated by the same cached `TypeAdapter` that rendered its schema, in
pydantic's lax Python mode on the decoded JSON. Nothing is guessed: a `str` parameter given
`"[1,2]"` keeps the string, and a `list` parameter given that string is an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ._json import JSONObject
from ._signature import OMIT, ParamInfo
from ._types import type_entry

__all__ = ["FieldError", "InvalidArguments", "ValidatedArgs", "decode_arguments", "validate_params"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ValidatedArgs:
    """Arguments that passed validation, keyed by parameter name, defaults filled in."""

    arguments: dict[str, Any] = field(default_factory=dict[str, Any])


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldError:
    """One problem with the model's arguments."""

    field: str
    """Dotted path to the bad value (`"units"`, `"items[2].id"`); `""` for the whole object."""
    message: str
    type: str
    """pydantic's error type (`"missing"`, `"int_parsing"`...), or `"extra_forbidden"`."""


@dataclass(frozen=True, kw_only=True, slots=True)
class InvalidArguments:
    """The model's arguments did not validate; send `to_text()` back as the tool result."""

    tool: str
    errors: tuple[FieldError, ...]

    def to_json(self) -> JSONObject:
        """The error as a JSON object naming every bad field."""
        return {
            "error": "invalid_arguments",
            "message": (
                f"The arguments for tool {self.tool!r} are invalid. Fix the fields listed below"
                " and call the tool again."
            ),
            "fields": [{"field": e.field, "message": e.message} for e in self.errors],
        }

    def to_text(self) -> str:
        """`to_json()` as the string a tool result carries."""
        return json.dumps(self.to_json(), ensure_ascii=False)


def decode_arguments(
    tool: str, raw: str | bytes | Mapping[str, Any] | None
) -> dict[str, Any] | InvalidArguments:
    """Decode the raw arguments into a JSON object (`""`/None count as `{}`)."""
    if raw is None:
        return {}
    if isinstance(raw, str | bytes):
        if not raw.strip():
            return {}
        try:
            decoded = json.loads(raw)
        except ValueError as exc:
            return _whole(tool, f"the arguments are not valid JSON: {exc}", "json_invalid")
    else:
        decoded = raw
    if not isinstance(decoded, Mapping):
        return _whole(tool, "the arguments must be a JSON object", "dict_type")
    return dict(decoded)  # pyright: ignore[reportUnknownArgumentType]


def validate_params(
    tool: str, params: Sequence[ParamInfo], values: Mapping[str, Any]
) -> ValidatedArgs | InvalidArguments:
    """Validate decoded arguments against the parameters; collect every error."""
    errors: list[FieldError] = []
    known = {p.name for p in params}
    for key in values:
        if key not in known:
            expected = ", ".join(sorted(known)) or "none"
            errors.append(
                FieldError(
                    field=key,
                    message=f"unexpected argument; the parameters are: {expected}",
                    type="extra_forbidden",
                )
            )
    out: dict[str, Any] = {}
    for param in params:
        if param.name not in values:
            if param.has_default:
                if param.default is not OMIT:
                    out[param.name] = param.default_value()
            else:
                errors.append(
                    FieldError(field=param.name, message="Field required", type="missing")
                )
            continue
        try:
            out[param.name] = type_entry(param.annotation).adapter.validate_python(
                values[param.name]
            )
        except ValidationError as exc:
            errors.extend(
                FieldError(field=_path(param.name, e["loc"]), message=e["msg"], type=e["type"])
                for e in exc.errors(include_url=False, include_input=False)
            )
    if errors:
        return InvalidArguments(tool=tool, errors=tuple(errors))
    return ValidatedArgs(arguments=out)


def _path(name: str, loc: tuple[int | str, ...]) -> str:
    out = name
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _whole(tool: str, message: str, kind: str) -> InvalidArguments:
    return InvalidArguments(tool=tool, errors=(FieldError(field="", message=message, type=kind),))
