"""Where a tool's parameters come from, and their lazily built, cached schema and validator.

Sources (`params=` everywhere, or the decorated function itself): a function signature, a
pydantic model, a TypedDict, a dataclass, a mapping of `string()`/`obj()`... helpers, or a
ready JSON schema (sent as is; arguments are then only checked to be an object).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any, NotRequired, Required, TypeAlias, cast, get_args, get_origin, get_type_hints

from pydantic import BaseModel
from typing_extensions import ReadOnly, is_typeddict

from ..errors import ToolDefinitionError
from ._builders import Param, render_params
from ._docstrings import ParsedDoc, parse_docstring
from ._json import JSONObject
from ._schema import build_parameters_schema
from ._signature import (
    NO_DEFAULT,
    OMIT,
    ParamInfo,
    inspect_callable,
    param_from_field,
    split_annotation,
)
from ._strict import drop_default_nulls, to_strict
from ._types import annotation_problem
from ._validate import InvalidArguments, ValidatedArgs, decode_arguments, validate_params

__all__ = ["Parameters", "ParamsSource", "parameters_from"]

ParamsSource: TypeAlias = (
    "Callable[..., Any] | type[BaseModel] | type | Mapping[str, Param] | Mapping[str, Any] | None"
)
"""What `params=` accepts: a stub function, a model/TypedDict/dataclass, helpers, a schema."""

_EMPTY_DOC = ParsedDoc(None)


class Parameters:
    """A tool's parameter list with its schema and validator, both built on first use."""

    __slots__ = ("_base", "_doc", "_parsed", "_schema", "params", "strict")

    def __init__(
        self,
        params: tuple[ParamInfo, ...] | None,
        *,
        doc: str | None = None,
        schema: JSONObject | None = None,
        strict: bool = False,
    ) -> None:
        self.params = params
        """None when only a raw JSON schema is known (no type validation)."""
        self.strict = strict
        self._doc = doc
        self._parsed: ParsedDoc | None = None
        self._base = schema
        self._schema: JSONObject | None = None

    def fallback_doc(self, doc: str | None) -> None:
        """Use `doc` for descriptions if the source had no docstring of its own."""
        if self._doc is None:
            self._doc = doc

    @property
    def doc(self) -> ParsedDoc:
        """The parsed docstring (parsed once, on first use)."""
        if self._parsed is None:
            self._parsed = parse_docstring(self._doc) if self._doc else _EMPTY_DOC
        return self._parsed

    def base_schema(self, tool: str) -> JSONObject:
        """The non-strict schema; raises ToolDefinitionError if a type cannot be rendered."""
        if self._base is None:
            assert self.params is not None
            schema, problems = build_parameters_schema(self.params, self.doc)
            if problems:
                raise ToolDefinitionError(tool, problems)
            self._base = schema
        return self._base

    def schema(self, tool: str) -> JSONObject:
        """The schema sent to the model (the strict form when strict mode is on)."""
        if self._schema is None:
            base = self.base_schema(tool)
            if self.strict:
                strict, problems = to_strict(base)
                if problems:
                    raise ToolDefinitionError(tool, [f"strict mode: {p}" for p in problems])
                base = strict
            self._schema = base
        return self._schema

    def validate(
        self, tool: str, raw: str | bytes | Mapping[str, Any] | None
    ) -> ValidatedArgs | InvalidArguments:
        """Decode and validate the model's arguments."""
        values = decode_arguments(tool, raw)
        if isinstance(values, InvalidArguments):
            return values
        if self.strict:
            values = drop_default_nulls(values, self.base_schema(tool))
        if self.params is None:
            return ValidatedArgs(arguments=values)
        return validate_params(tool, self.params, values)


def parameters_from(
    source: ParamsSource, *, strict: bool = False, localns: Mapping[str, Any] | None = None
) -> tuple[Parameters, list[str]]:
    """Build `Parameters` from any supported source; return it with the problems found."""
    if source is None:
        return Parameters((), schema=render_params({}), strict=strict), []
    if isinstance(source, type) and issubclass(source, BaseModel):
        return _from_model(source, strict)
    if isinstance(source, type) and is_typeddict(source):
        return _from_typeddict(source, strict)
    if isinstance(source, Mapping):
        return _from_mapping(source, strict)  # pyright: ignore[reportUnknownArgumentType]
    if isinstance(source, type) and not dataclasses.is_dataclass(source):
        shown = getattr(cast(Any, source), "__qualname__", "?")
        return Parameters(()), [
            f"params={shown} is not supported: pass a pydantic model, a TypedDict,"
            " a dataclass, a function, a mapping of string()/obj()... helpers or a JSON schema"
        ]
    if callable(source):
        sig, problems = inspect_callable(source, localns=localns)
        doc = None if isinstance(source, type) else inspect.getdoc(source)
        return Parameters(sig.params, doc=doc, strict=strict), problems
    return Parameters(()), [f"params={source!r} is not supported"]


def _from_model(model: type[BaseModel], strict: bool) -> tuple[Parameters, list[str]]:
    problem = annotation_problem(model)
    if problem is not None:
        return Parameters(()), [problem]
    params = tuple(
        param_from_field(f.alias or name, f, f.annotation) for name, f in model.model_fields.items()
    )
    problems = [
        f"field {p.name!r}: {problem}"
        for p in params
        if (problem := annotation_problem(p.annotation)) is not None
    ]
    return Parameters(params, strict=strict), problems


def _from_typeddict(td: type, strict: bool) -> tuple[Parameters, list[str]]:
    try:
        hints = get_type_hints(td, include_extras=True)
    except Exception as exc:
        return Parameters(()), [f"cannot resolve the annotations of {td.__qualname__}: {exc}"]
    required_keys: frozenset[str] = getattr(td, "__required_keys__", frozenset())
    params: list[ParamInfo] = []
    problems: list[str] = []
    for name, hint in hints.items():
        # Under PEP 563 the class cannot see `NotRequired` in its string annotations, so
        # `__required_keys__` is wrong there; the resolved hint still carries the marker.
        marker = get_origin(hint)
        required = marker is Required or (marker is not NotRequired and name in required_keys)
        info = split_annotation(name, _strip_required(hint), NO_DEFAULT if required else OMIT)
        problem = annotation_problem(info.annotation)
        if problem is not None:
            problems.append(f"key {name!r}: {problem}")
        params.append(info)
    return Parameters(tuple(params), strict=strict), problems


def _strip_required(hint: Any) -> Any:
    while get_origin(hint) in (Required, NotRequired, ReadOnly):
        hint = get_args(hint)[0]
    return hint


def _from_mapping(source: Mapping[str, Any], strict: bool) -> tuple[Parameters, list[str]]:
    if all(isinstance(v, Param) for v in source.values()):
        helpers: Mapping[str, Param] = source
        params = tuple(
            ParamInfo(
                name=k,
                annotation=p.annotation(),
                has_default=p.is_optional,
                default=OMIT if p.is_optional else None,
            )
            for k, p in helpers.items()
        )
        return Parameters(params, schema=render_params(helpers), strict=strict), []
    if source.get("type") == "object":
        return Parameters(None, schema=dict(source), strict=strict), []
    return Parameters(()), [
        "params mapping must be either {name: string()/obj()/... helper} or a JSON schema"
        ' with "type": "object"'
    ]
