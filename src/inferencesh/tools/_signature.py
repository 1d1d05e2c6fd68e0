"""Callable → parameter list, with every definition problem collected (decoration time).

This is the eager, cheap half of the schema engine: it resolves annotations (also under
`from __future__ import annotations`), finds the injected context, drops `self`/`cls` and
values bound by `functools.partial`, reads `Annotated` metadata and `Field` defaults, and
checks each annotation with the per-type cache. No JSON schema is built here.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, cast, get_args, get_origin, get_type_hints

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ._context import is_context_annotation, looks_like_context_annotation
from ._types import annotation_problem

__all__ = [
    "NO_DEFAULT",
    "doc_target",
    "OMIT",
    "ParamInfo",
    "Signature",
    "inspect_callable",
    "param_from_field",
    "split_annotation",
]

_EMPTY = inspect.Parameter.empty
NO_DEFAULT: Any = _EMPTY
"""Marks a required parameter in `split_annotation`."""


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()
"""Default of an optional key that is left out of the arguments when the model omits it
(TypedDict `NotRequired` keys, `optional()` helpers): the handler's own default applies."""
_VAR = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """One parameter the model fills in."""

    name: str
    annotation: Any
    """What the schema and validator are built from (bare strings removed from `Annotated`)."""
    positional_only: bool = False
    has_default: bool = False
    default: Any = None
    default_factory: Callable[[], Any] | None = None
    field_description: str | None = None
    """From `Field(description=...)`, in `Annotated` or as the default."""
    annotation_description: str | None = None
    """From a bare string in `Annotated[T, "..."]`."""

    def default_value(self) -> Any:
        """The value used when the model leaves this parameter out."""
        return self.default_factory() if self.default_factory is not None else self.default


@dataclass(frozen=True, slots=True)
class Signature:
    """How to call a handler: schema parameters plus injected ones, in signature order."""

    params: tuple[ParamInfo, ...]
    call_order: tuple[tuple[str, bool, bool], ...]
    """(name, positional_only, is_context) for every parameter the call passes."""
    skips_first: bool
    """The first parameter (`self`/`cls`) is supplied by binding, not by the model."""


def inspect_callable(
    fn: Callable[..., Any],
    *,
    localns: Mapping[str, Any] | None = None,
    method: bool = False,
    schema_from_signature: bool = True,
) -> tuple[Signature, list[str]]:
    """Read a callable's parameters; return them with the list of problems found.

    Args:
        fn: The function, bound method, `functools.partial` or callable object.
        localns: The namespace the function was defined in (for postponed annotations of
            names local to a function body).
        method: Skip a leading `self`/`cls` (a function decorated in a class body).
        schema_from_signature: False when the schema comes from elsewhere (`params=`): then
            only context parameters are looked up and `**kwargs` is allowed.
    """
    problems: list[str] = []
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        return Signature((), (), False), [f"cannot read the signature: {exc}"]
    target = doc_target(fn)
    bound_keywords = _partial_keywords(fn)
    hints, unresolved = _resolve(target, localns)

    params: list[ParamInfo] = []
    order: list[tuple[str, bool, bool]] = []
    skips_first = False
    for index, p in enumerate(sig.parameters.values()):
        if index == 0 and method and p.name in ("self", "cls"):
            skips_first = True
            continue
        if p.name in bound_keywords:
            continue  # its value is fixed by functools.partial and must never be shown
        positional_only = p.kind is inspect.Parameter.POSITIONAL_ONLY
        if p.name in unresolved:
            text, error = unresolved[p.name]
            if looks_like_context_annotation(text):
                order.append((p.name, positional_only, True))
            elif p.kind not in _VAR:
                problems.append(
                    f"parameter {p.name!r}: cannot resolve the annotation {text!r} ({error});"
                    " define or import the type before the tool is decorated"
                )
            continue
        annotation = hints.get(p.name, _EMPTY) if p.annotation is not _EMPTY else _EMPTY
        if annotation is not _EMPTY and is_context_annotation(annotation):
            order.append((p.name, positional_only, True))
            continue
        if p.kind in _VAR:
            if schema_from_signature:
                star = "*" if p.kind is inspect.Parameter.VAR_POSITIONAL else "**"
                problems.append(
                    f"{star}{p.name} is not supported: tool arguments are a JSON object with named"
                    " keys; declare each parameter (or one list/TypedDict parameter) instead"
                )
            continue
        if not schema_from_signature:
            order.append((p.name, positional_only, False))
            continue
        info = split_annotation(p.name, annotation, p.default, positional_only)
        problem = annotation_problem(info.annotation)
        if problem is not None:
            problems.append(f"parameter {p.name!r}: {problem}")
        params.append(info)
        order.append((p.name, positional_only, False))
    return Signature(tuple(params), tuple(order), skips_first), problems


def param_from_field(name: str, field: FieldInfo, annotation: Any) -> ParamInfo:
    """A parameter built from a pydantic model field (for `params=SomeModel`)."""
    metadata = [*field.metadata]
    if _affects_schema(field, ignore_metadata=True):
        metadata.append(field)
    base = Annotated[annotation, *metadata] if metadata else annotation
    has_default = field.default is not PydanticUndefined or field.default_factory is not None
    return ParamInfo(
        name=name,
        annotation=base,
        has_default=has_default,
        default=None if field.default is PydanticUndefined else field.default,
        default_factory=field.default_factory,  # pyright: ignore[reportArgumentType]
        field_description=field.description,
    )


def split_annotation(
    name: str, annotation: Any, default: Any = NO_DEFAULT, positional_only: bool = False
) -> ParamInfo:
    """Build a parameter from its resolved annotation and default (`NO_DEFAULT`: required).

    Bare strings in `Annotated` become the annotation description; `Field()` (in `Annotated`
    or as the default) gives the description and default, and stays in the annotation only
    when it also changes the schema (constraints, title, examples...).
    """
    base = Any if annotation is _EMPTY else annotation
    metadata: list[Any] = []
    if get_origin(base) is Annotated:
        base, *metadata = get_args(base)
    if isinstance(default, FieldInfo):
        metadata.append(default)
        default = _EMPTY
    texts = [m for m in metadata if isinstance(m, str)]
    fields = [m for m in metadata if isinstance(m, FieldInfo)]
    kept = [
        m
        for m in metadata
        if not isinstance(m, str) and (not isinstance(m, FieldInfo) or _affects_schema(m))
    ]
    factory: Callable[[], Any] | None = None
    for f in fields:  # later Field() wins, as in pydantic
        if f.default is not PydanticUndefined:
            default, factory = f.default, None
        elif f.default_factory is not None:
            default, factory = _EMPTY, f.default_factory  # pyright: ignore[reportAssignmentType]
    return ParamInfo(
        name=name,
        annotation=Annotated[base, *kept] if kept else base,
        positional_only=positional_only,
        has_default=default is not _EMPTY or factory is not None,
        default=None if default is _EMPTY else default,
        default_factory=factory,
        field_description=next((f.description for f in reversed(fields) if f.description), None),
        annotation_description=texts[0] if texts else None,
    )


def _affects_schema(field: FieldInfo, *, ignore_metadata: bool = False) -> bool:
    """Whether a Field carries more than description/default (those are handled here).

    Dropping description-only Fields from the annotation lets `Annotated[str, Field(...)]`
    share the cached `str` adapter instead of building one per parameter.
    """
    return bool(
        (field.metadata and not ignore_metadata)
        or field.title is not None
        or field.examples is not None
        or field.json_schema_extra is not None
        or field.discriminator is not None
        or field.deprecated is not None
    )


def doc_target(fn: Any) -> Any:
    """The plain function whose `__annotations__` and `__globals__` describe `fn`."""
    target: Any = fn
    while True:
        if isinstance(target, functools.partial):
            target = cast(Any, target).func
        elif isinstance(target, types.MethodType | staticmethod | classmethod):
            target = cast(Any, target).__func__
        elif not isinstance(target, types.FunctionType | type) and callable(target):
            target = type(target).__call__
        else:
            return target


def _partial_keywords(fn: Any) -> frozenset[str]:
    names: set[str] = set()
    while True:
        if isinstance(fn, functools.partial):
            bound = cast(Any, fn)
            names.update(bound.keywords)
            fn = bound.func
        elif isinstance(fn, types.MethodType):
            fn = fn.__func__
        else:
            return frozenset(names)


def _resolve(
    target: Any, localns: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """Resolve annotations; unresolvable ones are returned by name with their text and error."""
    local = dict(localns) if localns is not None else None
    try:
        return get_type_hints(target, localns=local, include_extras=True), {}
    except Exception:
        pass
    raw: dict[str, Any] = dict(getattr(target, "__annotations__", None) or {})
    globalns: dict[str, Any] = getattr(inspect.unwrap(target), "__globals__", {})
    hints: dict[str, Any] = {}
    unresolved: dict[str, tuple[str, str]] = {}
    for name, value in raw.items():
        holder = types.SimpleNamespace(__annotations__={name: value})
        try:
            hints.update(get_type_hints(holder, globalns, local, include_extras=True))
        except Exception as exc:
            text = value if isinstance(value, str) else repr(value)
            unresolved[name] = (text, f"{type(exc).__name__}: {exc}")
    return hints, unresolved
