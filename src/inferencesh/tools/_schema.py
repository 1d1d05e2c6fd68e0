"""Parameter list + docstring → the root JSON schema (pure, called lazily, cached by callers).

The root is assembled here rather than by `TypeAdapter(fn)`: each parameter's schema comes
from the per-annotation cache, so a tool costs a docstring parse and some dict building.

Description precedence per parameter: `Field(description=...)` > a bare string in
`Annotated[T, "..."]` > the docstring entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic_core import to_jsonable_python

from ._docstrings import ParsedDoc
from ._json import JSONObject, copy_json
from ._refs import merge_defs
from ._signature import OMIT, ParamInfo
from ._types import type_entry

__all__ = ["build_parameters_schema", "property_description"]


def property_description(param: ParamInfo, doc: ParsedDoc) -> str | None:
    """The description a parameter gets, by the documented precedence."""
    return param.field_description or param.annotation_description or doc.params.get(param.name)


def build_parameters_schema(
    params: Sequence[ParamInfo], doc: ParsedDoc
) -> tuple[JSONObject, list[str]]:
    """Return the closed root object schema and the problems found (empty when it is valid)."""
    properties: JSONObject = {}
    required: list[str] = []
    defs: dict[str, Any] = {}
    problems: list[str] = []
    for param in params:
        try:
            prop = copy_json(type_entry(param.annotation).schema())
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            problems.append(f"parameter {param.name!r}: has no JSON schema: {first}")
            continue
        prop = merge_defs(defs, prop)
        description = property_description(param, doc)
        if description:
            prop["description"] = description
        if param.has_default:
            prop.pop("default", None)
            if param.default_factory is None and param.default is not OMIT:
                try:
                    prop["default"] = to_jsonable_python(param.default)
                except Exception:
                    pass
        else:
            required.append(param.name)
        properties[param.name] = prop
    schema: JSONObject = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if defs:
        schema["$defs"] = defs
    return schema, problems
