"""`@tool`: a typed, documented function becomes a client tool.

Decoration is cheap and eager where it must be: the name, the signature and every annotation
are checked now (one `ToolDefinitionError` lists all problems), while the JSON schema and the
docstring are left for first use.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Any, Literal, ParamSpec, TypeVar, cast, overload

from typing_extensions import Unpack

from ..errors import ToolDefinitionError
from ._function import FunctionTool
from ._options import ToolOptionArgs, ToolOptions
from ._params import Parameters, ParamsSource, parameters_from
from ._signature import doc_target, inspect_callable, parameters_of

__all__ = ["default_name", "tool"]

P = ParamSpec("P")
R = TypeVar("R")


@overload
def tool(fn: Callable[P, R], /) -> FunctionTool[P, R]: ...
@overload
def tool(
    *,
    name: str | None = None,
    strict: bool = False,
    params: ParamsSource = None,
    threaded: bool = True,
    mask_error_details: bool = False,
    **options: Unpack[ToolOptionArgs],
) -> Callable[[Callable[P, R]], FunctionTool[P, R]]: ...
def tool(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    strict: bool = False,
    params: ParamsSource = None,
    threaded: bool = True,
    mask_error_details: bool = False,
    **options: Unpack[ToolOptionArgs],
) -> FunctionTool[P, R] | Callable[[Callable[P, R]], FunctionTool[P, R]]:
    """Turn a typed, documented function (sync or async) into a client tool.

    The schema comes from the type hints, the descriptions from the docstring (Google,
    NumPy, reST or Epytext) or `Annotated`/`Field`. The result is still callable as the
    function, and the agent runner calls `invoke()`/`ainvoke()` on it.

    Args:
        fn: The function (when used as a bare `@tool`).
        name: The name the model sees; defaults to the function's name.
        strict: Emit a strict-mode schema (all properties required, optionals nullable).
        params: Take the schema from a model, TypedDict or `string()`/`obj()` helpers instead
            of the signature; the handler then receives the arguments as keywords.
        threaded: Run a sync handler in a worker thread (the default), so it never blocks
            the agent runner; False runs it on the runner's thread (thread-bound libraries).
        mask_error_details: When the handler raises (anything but `ToolError`), send the
            model a generic message instead of the exception's type and message.
        **options: The options every tool kind shares (`ToolOptions`): `description`
            (overrides the docstring's), `display_name`, `require_approval` (`True`, or a
            policy deciding each call) and `approval_timeout` (seconds; 0 waits forever).

    Raises:
        ToolDefinitionError: The function cannot be a tool; the message lists every reason.

    Example:
        ```python
        @tool
        def get_weather(city: str, units: Literal["c", "f"] = "c") -> str:
            '''Get the current weather.

            Args:
                city: City name, e.g. "Paris".
                units: Temperature units.
            '''
        ```
    """
    localns = sys._getframe(1).f_locals  # pyright: ignore[reportPrivateUsage]

    def decorate(f: Callable[P, R]) -> FunctionTool[P, R]:
        return _function_tool(
            f,
            name=name,
            options=options,
            strict=strict,
            params=params,
            localns=localns,
            threaded=threaded,
            mask_error_details=mask_error_details,
        )

    return decorate if fn is None else decorate(fn)


def _function_tool(
    f: Any,
    *,
    name: str | None,
    options: ToolOptionArgs,
    strict: bool,
    params: ParamsSource,
    localns: Mapping[str, Any],
    threaded: bool = True,
    mask_error_details: bool = False,
) -> Any:
    binding: Literal["method", "classmethod"] | None = None
    fn: Any = f
    if isinstance(f, staticmethod | classmethod):
        fn = cast(Any, f).__func__
        binding = "classmethod" if isinstance(f, classmethod) else None
    elif _defined_in_class(fn):
        binding = "method"
    tool_options = ToolOptions.of(name if name is not None else default_name(fn), options)
    problems = tool_options.problems()
    from_signature = params is None
    sig, found = inspect_callable(
        fn, localns=localns, method=binding is not None, schema_from_signature=from_signature
    )
    problems += found
    if from_signature:
        parameters = Parameters(sig.params, doc=_doc(fn), strict=strict)
    else:
        parameters, found = parameters_from(params, strict=strict, localns=localns)
        parameters.fallback_doc(_doc(fn))  # the handler's docstring still describes the tool
        problems += found
        problems += _unaccepted(fn, parameters, sig.call_order)
    if problems:
        raise ToolDefinitionError(str(tool_options.name), problems)
    result = FunctionTool(
        fn,
        tool_options,
        parameters=parameters,
        signature=sig,
        from_signature=from_signature,
        is_async=inspect.iscoroutinefunction(doc_target(fn)),
        binding=binding,
        threaded=threaded,
        mask_error_details=mask_error_details,
    )
    if strict:
        result.parameters_schema  # noqa: B018 -- strict problems must surface at decoration
    return result


def _defined_in_class(fn: Any) -> bool:
    qualname: str = getattr(fn, "__qualname__", "")
    if not inspect.isfunction(fn) or "." not in qualname:
        return False
    if qualname.rsplit(".", 2)[-2] == "<locals>":
        return False
    params = parameters_of(fn)
    return bool(params) and params[0][0] in ("self", "cls")


def default_name(fn: Any) -> str:
    if inspect.isroutine(fn) or isinstance(fn, functools.partial):
        return getattr(doc_target(fn), "__name__", "")
    return getattr(fn, "__name__", type(fn).__name__)  # a callable object: its class name


def _doc(fn: Any) -> str | None:
    target = doc_target(fn)
    doc: str | None = getattr(target, "__doc__", None)
    if not doc and not inspect.isroutine(fn) and not isinstance(fn, functools.partial):
        doc = type(fn).__doc__  # a callable object: its class describes it
    return doc


def _unaccepted(
    fn: Any, parameters: Parameters, order: tuple[tuple[str, bool, bool], ...]
) -> list[str]:
    try:
        takes_kwargs = any(
            p.kind is inspect.Parameter.VAR_KEYWORD
            for p in inspect.signature(fn).parameters.values()
        )
    except (TypeError, ValueError):
        return []
    if takes_kwargs or parameters.params is None:
        return []
    names = {n for n, positional_only, _ in order if not positional_only}
    return [
        f"the handler does not accept the argument {p.name!r} from params= (add it or **kwargs)"
        for p in parameters.params
        if p.name not in names
    ]
