"""Per-annotation cache: the cheap decoration-time check, the TypeAdapter and its JSON schema.

Many tools share annotations (`str`, `int`, `list[str]`, one model used by ten tools), so each
distinct annotation is checked, adapted and rendered once per process. The same adapter that
renders a parameter's schema later validates that parameter's arguments.
"""

from __future__ import annotations

import collections
import collections.abc
import datetime
import decimal
import enum
import ipaddress
import pathlib
import re
import types
import uuid
from typing import (
    Annotated,
    Any,
    ForwardRef,
    Literal,
    NewType,
    NotRequired,
    Required,
    TypeVar,
    Union,
    get_args,
    get_origin,
)

from pydantic import BaseModel, TypeAdapter
from typing_extensions import ReadOnly, TypeAliasType

from ._fast import fast_schema
from ._json import JSONObject
from ._refs import normalize_schema

__all__ = ["TypeEntry", "annotation_problem", "type_entry"]

_MAX_ENTRIES = 4096

# Leaves pydantic renders without help; anything else not recognised below is tried with a
# real TypeAdapter (cached) so the check never rejects a type pydantic supports.
_OK_LEAVES: frozenset[Any] = frozenset(
    {
        Any,
        object,
        str,
        int,
        float,
        bool,
        bytes,
        bytearray,
        type(None),
        None,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
        decimal.Decimal,
        pathlib.Path,
        pathlib.PurePath,
        pathlib.PosixPath,
        pathlib.PurePosixPath,
        ipaddress.IPv4Address,
        ipaddress.IPv6Address,
        ipaddress.IPv4Network,
        ipaddress.IPv6Network,
        ipaddress.IPv4Interface,
        ipaddress.IPv6Interface,
        re.Pattern,
        list,
        dict,
        tuple,
        set,
        frozenset,
        collections.deque,
    }
)
_CONTAINERS: frozenset[Any] = frozenset(
    {
        list,
        dict,
        tuple,
        set,
        frozenset,
        collections.deque,
        collections.OrderedDict,
        collections.defaultdict,
        collections.Counter,
        collections.abc.Sequence,
        collections.abc.MutableSequence,
        collections.abc.Set,
        collections.abc.MutableSet,
        collections.abc.Mapping,
        collections.abc.MutableMapping,
        collections.abc.Iterable,
        collections.abc.Collection,
    }
)
_CALLABLE: Any = collections.abc.Callable
_WRAPPERS: frozenset[Any] = frozenset({Required, NotRequired, ReadOnly})
_LITERAL_VALUE_TYPES = (str, int, bool, bytes, enum.Enum, type(None))


class TypeEntry:
    """Everything cached about one annotation."""

    __slots__ = ("_adapter", "_problem", "_schema", "annotation")

    def __init__(self, annotation: Any) -> None:
        self.annotation = annotation
        self._adapter: TypeAdapter[Any] | None = None
        self._schema: JSONObject | None = None
        self._problem: str | None | bool = False  # False: not checked yet

    @property
    def adapter(self) -> TypeAdapter[Any]:
        """The pydantic adapter, built on first use."""
        if self._adapter is None:
            self._adapter = TypeAdapter(self.annotation)
        return self._adapter

    @property
    def problem(self) -> str | None:
        """Why this annotation cannot be a tool parameter, or None (checked once)."""
        if self._problem is False:
            self._problem = _find_problem(self.annotation)
        return self._problem  # pyright: ignore[reportReturnType]

    def schema(self) -> JSONObject:
        """Validation-mode JSON schema, normalised (see `_refs.normalize_schema`).

        The caller must copy it before changing it: the dict is shared by every tool with this
        annotation. Raises pydantic's errors (e.g. `PydanticInvalidForJsonSchema`).
        """
        if self._schema is None:
            fast = fast_schema(self.annotation)
            self._schema = (
                fast if fast is not None else normalize_schema(self.adapter.json_schema())
            )
        return self._schema


_entries: dict[Any, TypeEntry] = {}


def _key(annotation: Any) -> Any:
    if isinstance(annotation, type):
        return annotation
    # `int | str == str | int` and `Literal[1, 2] == Literal[2, 1]`; the repr keeps the order,
    # which the schema's `anyOf`/`enum` order depends on.
    return (annotation, repr(annotation))


def type_entry(annotation: Any) -> TypeEntry:
    """The cache entry for an annotation (a fresh, uncached one if it is unhashable)."""
    try:
        key = _key(annotation)
        entry = _entries.get(key)
    except TypeError:  # unhashable metadata, e.g. Annotated[int, {"a": 1}]
        return TypeEntry(annotation)
    if entry is None:
        if len(_entries) >= _MAX_ENTRIES:
            _entries.clear()  # bounded; dynamically created types must not leak forever
        entry = _entries[key] = TypeEntry(annotation)
    return entry


def annotation_problem(annotation: Any) -> str | None:
    """Why an annotation has no JSON schema, or None. Cheap for cached annotations."""
    return type_entry(annotation).problem


def _find_problem(ann: Any) -> str | None:
    try:
        if ann in _OK_LEAVES:
            return None
    except TypeError:  # unhashable
        pass
    if isinstance(ann, str | ForwardRef):
        name = ann if isinstance(ann, str) else ann.__forward_arg__
        return f"the forward reference {name!r} cannot be resolved; define or import it first"
    if isinstance(ann, TypeVar):
        return None
    origin = get_origin(ann)
    args = get_args(ann)
    if origin is Annotated or origin in _WRAPPERS:
        return _find_problem(args[0])
    if origin is Union or origin is types.UnionType:
        return next((p for a in args if (p := _find_problem(a))), None)
    if origin is Literal:
        bad = [v for v in args if not isinstance(v, _LITERAL_VALUE_TYPES)]
        return f"Literal values must be JSON scalars, not {bad[0]!r}" if bad else None
    if origin is _CALLABLE or ann is _CALLABLE:
        return f"{_show(ann)} has no JSON schema (a model cannot send a function)"
    if origin is type or ann is type:
        return f"{_show(ann)} has no JSON schema; accept a str or Literal name instead"
    if origin is not None and origin in _CONTAINERS:
        return next((p for a in args if a is not ... and (p := _find_problem(a))), None)
    if isinstance(ann, NewType):
        return _find_problem(ann.__supertype__)
    if isinstance(ann, TypeAliasType | getattr(types, "TypeAliasType", TypeAliasType)):
        return _adapter_problem(ann)  # may be recursive and lazily evaluated: ask pydantic
    if isinstance(ann, type):
        if issubclass(ann, BaseModel):
            return _model_problem(ann)
        if issubclass(ann, enum.Enum):
            return None
    return _adapter_problem(ann)


def _model_problem(model: type[BaseModel]) -> str | None:
    if model.__pydantic_complete__:
        return None
    try:
        model.model_rebuild()
    except Exception as exc:
        return f"model {model.__name__} is not fully defined: {_first_line(exc)}"
    return None


def _adapter_problem(ann: Any) -> str | None:
    try:
        type_entry(ann).adapter  # noqa: B018 -- building it is the check
    except Exception as exc:
        return f"{_show(ann)} is not supported by pydantic: {_first_line(exc)}"
    return None


def _show(ann: Any) -> str:
    if isinstance(ann, type):
        return ann.__qualname__
    return repr(ann).replace("collections.abc.", "").replace("typing.", "")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
