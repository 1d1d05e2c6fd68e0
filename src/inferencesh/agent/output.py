"""Structured output: the JSON Schema sent for a type, and the agent's result read back as it."""

from __future__ import annotations

import json
from typing import Any, TypeVar, cast

from pydantic import TypeAdapter, ValidationError

from inferencesh.errors import AgentOutputError

__all__ = ["output_schema", "read_output"]

M = TypeVar("M")


def _adapter(output_type: Any) -> TypeAdapter[Any]:
    return TypeAdapter(output_type)


def output_schema(output_type: type[M]) -> dict[str, Any]:
    """The JSON Schema the agent's finish tool must fill for `output_type`.

    Raises:
        TypeError: pydantic cannot describe the type (e.g. an arbitrary class).
    """
    try:
        return _adapter(output_type).json_schema()
    except Exception as exc:
        raise TypeError(
            f"output_type {output_type!r} has no JSON schema: use a pydantic model, a"
            f" dataclass, a TypedDict or JSON-like types ({exc})"
        ) from exc


def read_output(output_type: type[M], output: Any) -> M:
    """`output` (the chat's structured result) validated as `output_type`.

    Raises:
        AgentOutputError: There is no result, or it does not fit; the message says why.
    """
    if output is None:
        raise AgentOutputError(
            "the agent ended its turn without a structured result (it did not call its finish"
            " tool)",
            output=None,
        )
    value = output
    if isinstance(value, str):
        try:
            value = json.loads(value)  # some servers keep the finish tool's JSON as text
        except ValueError:
            pass
    try:
        return cast(M, _adapter(output_type).validate_python(value))
    except ValidationError as exc:
        name = getattr(output_type, "__name__", repr(output_type))
        raise AgentOutputError(
            f"the agent's structured result does not fit {name}: {exc}", output=output
        ) from exc
