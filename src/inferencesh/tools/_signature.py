"""Callable → parameter list, with every definition problem collected (decoration time).

This is the eager, cheap half of the schema engine: it resolves annotations (also under
`from __future__ import annotations`), finds the injected context, drops `self`/`cls` and
values bound by `functools.partial`, reads `Annotated` metadata and `Field` defaults, and
checks each annotation with the per-type cache. No JSON schema is built here.
"""

from __future__ import annotations

import functools
import importlib
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
    "parameters_of",
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


@dataclass(slots=True)  # not frozen: its __init__ is 3x faster, and decoration makes 5 a tool
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
        parameters = parameters_of(fn)
    except (TypeError, ValueError) as exc:
        return Signature((), (), False), [f"cannot read the signature: {exc}"]
    target = doc_target(fn)
    bound_keywords = _partial_keywords(fn)
    hints, unresolved = _resolve(target, localns)

    params: list[ParamInfo] = []
    order: list[tuple[str, bool, bool]] = []
    skips_first = False
    for index, (name, kind, default, annotated) in enumerate(parameters):
        if index == 0 and method and name in ("self", "cls"):
            skips_first = True
            continue
        if name in bound_keywords:
            continue  # its value is fixed by functools.partial and must never be shown
        positional_only = kind is _POSITIONAL_ONLY
        if name in unresolved:
            text, error = unresolved[name]
            if looks_like_context_annotation(text):
                order.append((name, positional_only, True))
                continue
            if kind not in _VAR:
                problems.append(
                    f"parameter {name!r}: cannot resolve the annotation {text!r} ({error});"
                    " define or import the type before the tool is decorated"
                )
                continue
        annotation = hints.get(name, _EMPTY) if annotated else _EMPTY
        if annotation is not _EMPTY and is_context_annotation(annotation):
            order.append((name, positional_only, True))
            continue
        if kind in _VAR:
            if schema_from_signature:
                star = "*" if kind is inspect.Parameter.VAR_POSITIONAL else "**"
                problems.append(
                    f"{star}{name} is not supported: tool arguments are a JSON object with named"
                    " keys; declare each parameter (or one list/TypedDict parameter) instead"
                )
            continue
        if not schema_from_signature:
            order.append((name, positional_only, False))
            continue
        info = split_annotation(name, annotation, default, positional_only)
        problem = annotation_problem(info.annotation)
        if problem is not None:
            problems.append(f"parameter {name!r}: {problem}")
        params.append(info)
        order.append((name, positional_only, False))
    return Signature(tuple(params), tuple(order), skips_first), problems


_POSITIONAL_ONLY = inspect.Parameter.POSITIONAL_ONLY
_POSITIONAL_OR_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD
_KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY
_CO_VARARGS = inspect.CO_VARARGS
_CO_VARKEYWORDS = inspect.CO_VARKEYWORDS
_Param = tuple[str, inspect._ParameterKind, Any, bool]  # pyright: ignore[reportPrivateUsage]


def parameters_of(fn: Any) -> list[_Param]:
    """(name, kind, default, annotated) per parameter, like `inspect.signature(fn)`.

    Plain functions are read straight from their code object: `inspect.signature` costs
    ~8 us for five parameters, a quarter of the whole decoration budget.
    """
    if (
        type(fn) is not types.FunctionType
        or hasattr(fn, "__wrapped__")
        or hasattr(fn, "__signature__")
    ):
        return [
            (p.name, p.kind, p.default, p.annotation is not _EMPTY)
            for p in inspect.signature(fn).parameters.values()
        ]
    code = fn.__code__
    names = code.co_varnames
    annotations = raw_annotations(fn)
    positional, keyword_only = code.co_argcount, code.co_kwonlyargcount
    defaults: tuple[Any, ...] = fn.__defaults__ or ()
    kwdefaults: dict[str, Any] = fn.__kwdefaults__ or {}
    first_default = positional - len(defaults)
    out: list[_Param] = []
    for i in range(positional):
        kind = _POSITIONAL_ONLY if i < code.co_posonlyargcount else _POSITIONAL_OR_KEYWORD
        default = defaults[i - first_default] if i >= first_default else _EMPTY
        out.append((names[i], kind, default, names[i] in annotations))
    extra = positional + keyword_only
    if code.co_flags & _CO_VARARGS:
        name = names[extra]
        out.append((name, inspect.Parameter.VAR_POSITIONAL, _EMPTY, name in annotations))
        extra += 1
    for name in names[positional : positional + keyword_only]:
        out.append((name, _KEYWORD_ONLY, kwdefaults.get(name, _EMPTY), name in annotations))
    if code.co_flags & _CO_VARKEYWORDS:
        name = names[extra]
        out.append((name, inspect.Parameter.VAR_KEYWORD, _EMPTY, name in annotations))
    return out


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
    elif not isinstance(default, FieldInfo):  # the common case: nothing to split
        has_default = default is not _EMPTY
        return ParamInfo(name, base, positional_only, has_default, default if has_default else None)
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


def raw_annotations(fn: Any) -> dict[str, Any]:
    """`fn.__annotations__`, without evaluating names that do not exist (yet)."""
    try:
        return dict(getattr(fn, "__annotations__", None) or {})
    except NameError:  # pragma: no cover -- Python 3.14+ evaluates annotations on access
        annotationlib = importlib.import_module("annotationlib")
        forward = annotationlib.Format.FORWARDREF
        return dict(annotationlib.get_annotations(fn, format=forward))


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
    globalns: dict[str, Any] = getattr(inspect.unwrap(target), "__globals__", {})
    # At module level the caller's locals are the globals: skip them (and never copy a big
    # namespace; eval takes any mapping as locals).
    local = None if localns is None or localns is globalns else cast(dict[str, Any], localns)
    try:
        return get_type_hints(target, localns=local, include_extras=True), {}
    except Exception:
        pass
    raw = raw_annotations(target)
    hints: dict[str, Any] = {}
    unresolved: dict[str, tuple[str, str]] = {}
    for name, value in raw.items():
        holder = types.SimpleNamespace(__annotations__={name: value})
        try:
            hints.update(get_type_hints(holder, globalns, local, include_extras=True))
        except Exception as exc:
            text = (
                value if isinstance(value, str) else getattr(value, "__forward_arg__", repr(value))
            )
            unresolved[name] = (text, f"{type(exc).__name__}: {exc}")
    return hints, unresolved
