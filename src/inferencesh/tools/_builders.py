"""The JS SDK's schema helpers (`string()`, `obj()`, `optional()`, ...) for porting code.

The decorators are the primary interface; these exist so a JS tool definition can be moved
over line by line. They render exactly what the JS builders send (key order `type,
description, enum, properties, required, items`; `required` on the root even when empty,
on nested objects only when non-empty; no `additionalProperties`), and each helper also knows
the Python type used to validate the model's arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from ._json import JSONObject

__all__ = [
    "Param",
    "array",
    "boolean",
    "enum_of",
    "integer",
    "number",
    "obj",
    "optional",
    "render_params",
    "string",
]

_Kind = Literal["string", "number", "integer", "boolean", "enum", "array", "object"]
_SCALARS: dict[str, Any] = {"string": str, "number": float, "integer": int, "boolean": bool}


@dataclass(frozen=True, kw_only=True, slots=True)
class Param:
    """One parameter built with the helpers below; immutable."""

    kind: _Kind
    description: str = ""
    values: tuple[str, ...] = ()
    items: Param | None = None
    properties: Mapping[str, Param] = field(default_factory=dict[str, "Param"])
    is_optional: bool = False

    def to_schema(self) -> JSONObject:
        """The JSON schema of this parameter, as the JS builders render it."""
        out: JSONObject = {"type": "string" if self.kind == "enum" else self.kind}
        if self.description:
            out["description"] = self.description
        if self.kind == "enum":
            out["enum"] = list(self.values)
        if self.kind == "object":
            out["properties"] = {k: p.to_schema() for k, p in self.properties.items()}
            required = [k for k, p in self.properties.items() if not p.is_optional]
            if required:
                out["required"] = required
        if self.items is not None:
            out["items"] = self.items.to_schema()
        return out

    def annotation(self) -> Any:
        """The Python type that validates values of this parameter."""
        if self.kind in _SCALARS:
            return _SCALARS[self.kind]
        if self.kind == "enum":
            return Literal[self.values]
        if self.kind == "array":
            assert self.items is not None
            return list[self.items.annotation()]
        fields = {
            k: NotRequired[p.annotation()] if p.is_optional else p.annotation()
            for k, p in self.properties.items()
        }
        return TypedDict("obj", fields)  # pyright: ignore[reportArgumentType]


def render_params(params: Mapping[str, Param]) -> JSONObject:
    """The root schema for a mapping of helpers: `required` lists the non-optional names."""
    return {
        "type": "object",
        "properties": {k: p.to_schema() for k, p in params.items()},
        "required": [k for k, p in params.items() if not p.is_optional],
    }


def string(description: str = "") -> Param:
    """A string parameter."""
    return Param(kind="string", description=description)


def number(description: str = "") -> Param:
    """A number parameter (integers are accepted too)."""
    return Param(kind="number", description=description)


def integer(description: str = "") -> Param:
    """An integer parameter."""
    return Param(kind="integer", description=description)


def boolean(description: str = "") -> Param:
    """A boolean parameter."""
    return Param(kind="boolean", description=description)


def enum_of(values: Sequence[str], description: str = "") -> Param:
    """A string parameter limited to `values`."""
    if isinstance(values, str) or not values:
        raise ValueError("enum_of() needs a non-empty sequence of strings, e.g. ['low', 'high']")
    return Param(kind="enum", values=tuple(values), description=description)


def array(items: Param, description: str = "") -> Param:
    """A list whose elements match `items`."""
    return Param(kind="array", items=items, description=description)


def obj(properties: Mapping[str, Param], description: str = "") -> Param:
    """An object with named properties; wrap one in `optional()` to make it omittable."""
    return Param(kind="object", properties=dict(properties), description=description)


def optional(param: Param) -> Param:
    """The same parameter, no longer listed in its parent's `required`."""
    return replace(param, is_optional=True)
