"""`FunctionTool`: a Python function the model can call (wire kind `client`)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from typing import Any, Generic, Literal, ParamSpec, TypeVar, cast

from ..errors import ToolError
from ._context import ToolContext
from ._json import JSONObject
from ._options import ToolOptions
from ._params import Parameters
from ._result import ToolResult, error_result, result_text
from ._signature import Signature
from ._tool import Tool
from ._validate import InvalidArguments, ValidatedArgs

__all__ = ["FunctionTool"]

P = ParamSpec("P")
R = TypeVar("R")

_Arguments = str | bytes | Mapping[str, Any] | ValidatedArgs | None


class FunctionTool(Tool, Generic[P, R]):
    """A function turned into a tool by `@tool`; still callable as the function itself.

    The agent runner calls `invoke()`/`ainvoke()` with the model's raw arguments: they are
    validated, the context is injected, the handler runs and its return value (or a raised
    `ToolError`, or the validation error) becomes a `ToolResult`.
    """

    kind = "client"

    def __init__(
        self,
        fn: Callable[P, R],
        options: ToolOptions,
        *,
        parameters: Parameters,
        signature: Signature,
        from_signature: bool,
        is_async: bool,
        binding: Literal["method", "classmethod"] | None = None,
        threaded: bool = True,
        mask_error_details: bool = False,
    ) -> None:
        super().__init__(options, parameters=parameters)
        self.threaded = threaded
        """Sync handlers run in a worker thread (False: on the runner's own thread)."""
        self.mask_error_details = mask_error_details
        """Send the model a generic message, not the exception's, when the handler fails."""
        self._fn: Callable[..., Any] = fn
        self._signature = signature
        self._from_signature = from_signature
        self._is_async = is_async
        self._binding = binding
        # Look like the wrapped function (help(), inspect.signature(), pickling by name).
        self.__wrapped__ = fn
        self.__name__: str = getattr(fn, "__name__", options.name)
        self.__qualname__: str = getattr(fn, "__qualname__", self.__name__)
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__module__ = getattr(fn, "__module__", None) or __name__

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the original function directly (no validation, no context injection)."""
        return self._fn(*args, **kwargs)

    def __get__(self, instance: object, owner: type | None = None) -> FunctionTool[..., R]:
        """Bind a tool defined in a class body to the instance (or class), like a method."""
        if self._binding is None or (instance is None and self._binding == "method"):
            return self
        bound = copy.copy(self)
        target = owner if self._binding == "classmethod" else instance
        bound._fn = cast(Any, self._fn).__get__(target, owner)
        bound._binding = None
        return bound

    @property
    def handler(self) -> Callable[..., Any]:
        """The function that runs (bound, if the tool was read from an instance)."""
        return self._fn

    @property
    def is_async(self) -> bool:
        """True for `async def` handlers: call `ainvoke()`, not `invoke()`."""
        return self._is_async

    def _config(self) -> JSONObject:
        return {"input_schema": self._input_schema()}

    def bind(
        self, arguments: ValidatedArgs, *, context: ToolContext | None = None
    ) -> Callable[[], Any]:
        """The handler with validated arguments (and the context) bound: call it to run.

        What it returns is what the handler returns (a coroutine for `async def` handlers);
        nothing is converted or caught: the agent runner does that.
        """
        call = self._prepare(arguments, context)
        assert not isinstance(call, ToolResult)  # validated arguments are never rejected
        return functools.partial(self._fn, *call[0], **call[1])

    def invoke(self, arguments: _Arguments, *, context: ToolContext | None = None) -> ToolResult:
        """Validate, call a sync handler, and convert what it returns.

        Args:
            arguments: The model's arguments (JSON text or decoded), or `ValidatedArgs`.
            context: Injected into `ToolContext` parameters (a bare one if None).

        Raises:
            TypeError: The handler is async, or returned something that is not JSON.
        """
        if self._is_async:
            raise TypeError(f"tool {self.name!r} is async: use `await tool.ainvoke(...)`")
        call = self._prepare(arguments, context)
        if isinstance(call, ToolResult):
            return call
        try:
            value = self._fn(*call[0], **call[1])
        except ToolError as exc:
            return error_result(str(exc))
        return ToolResult(output=result_text(value, self.name))

    async def ainvoke(
        self, arguments: _Arguments, *, context: ToolContext | None = None
    ) -> ToolResult:
        """Like `invoke()`, for any handler: async ones are awaited, sync ones run in a thread.

        Raises:
            TypeError: The handler returned something that is not JSON.
        """
        call = self._prepare(arguments, context)
        if isinstance(call, ToolResult):
            return call
        try:
            if self._is_async:
                value = await self._fn(*call[0], **call[1])
            else:
                from anyio import to_thread  # imported here: not needed by sync users

                value = await to_thread.run_sync(functools.partial(self._fn, *call[0], **call[1]))
        except ToolError as exc:
            return error_result(str(exc))
        return ToolResult(output=result_text(value, self.name))

    def _prepare(
        self, arguments: _Arguments, context: ToolContext | None
    ) -> tuple[list[Any], dict[str, Any]] | ToolResult:
        validated = (
            arguments
            if isinstance(arguments, ValidatedArgs)
            else self.validate_arguments(arguments)
        )
        if isinstance(validated, InvalidArguments):
            return ToolResult(output=validated.to_text(), is_error=True)
        values = validated.arguments
        ctx = context if context is not None else ToolContext(tool_name=self.name)
        args: list[Any] = []
        kwargs: dict[str, Any] = {} if self._from_signature else dict(values)
        for name, positional_only, is_context in self._signature.call_order:
            if is_context:
                value = ctx
            elif not self._from_signature or name not in values:
                continue
            else:
                value = values[name]
            if positional_only:
                args.append(value)
            else:
                kwargs[name] = value
        return args, kwargs
