"""Tools the server runs as inference.sh apps (`@app_tool`) or agents (`@agent_tool`)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from typing_extensions import TypedDict, Unpack

from ..errors import ToolDefinitionError
from ._decorator import default_name
from ._json import JSONObject, copy_json
from ._options import ToolOptionArgs, ToolOptions
from ._params import Parameters, ParamsSource, parameters_from
from ._tool import Tool

__all__ = ["AgentTool", "AppTool", "agent_tool", "app_tool"]

_T = TypeVar("_T", bound=Tool)

_REF = re.compile(r"^[\w.-]+/[\w.-]+(@[\w.-]+)?$")


class AppTool(Tool):
    """An inference.sh app the agent can call as a tool (wire kind `app`); runs on the server.

    The app's own input schema is what the model sees (the protocol has no `input_schema` for
    this kind); a stub's signature gives the name, description and a local validator.
    """

    kind = "app"

    def __init__(
        self,
        options: ToolOptions,
        *,
        ref: str,
        function: str | None = None,
        session_enabled: bool | None = None,
        setup: Mapping[str, Any] | None = None,
        input: Mapping[str, Any] | None = None,
        fixed_input: Mapping[str, Any] | None = None,
        parameters: Parameters | None = None,
    ) -> None:
        super().__init__(options, parameters=parameters)
        self.ref = ref
        self.function = function
        self.session_enabled = session_enabled
        self.setup = dict(setup) if setup is not None else None
        self.input = dict(input) if input is not None else None
        self.fixed_input = dict(fixed_input) if fixed_input is not None else None

    def _config(self) -> JSONObject:
        out: JSONObject = {"ref": self.ref}
        if self.function is not None:
            out["function"] = self.function
        if self.session_enabled is not None:
            out["session_enabled"] = self.session_enabled
        for key, value in (
            ("setup", self.setup),
            ("input", self.input),
            ("fixed_input", self.fixed_input),
        ):
            if value is not None:
                out[key] = copy_json(value)
        return out


class AgentTool(Tool):
    """Another agent used as a tool (wire kind `agent`); runs on the server."""

    kind = "agent"

    def __init__(
        self, options: ToolOptions, *, ref: str, parameters: Parameters | None = None
    ) -> None:
        super().__init__(options, parameters=parameters)
        self.ref = ref

    def _config(self) -> JSONObject:
        return {"ref": self.ref}


def _ref_problem(ref: object, what: str) -> str | None:
    if isinstance(ref, str) and _REF.match(ref):
        return None
    return f"{what} ref {ref!r} is invalid: use 'namespace/name' or 'namespace/name@version'"


class _AppConfig(TypedDict, total=False):
    function: str | None
    session_enabled: bool | None
    setup: Mapping[str, Any] | None
    input: Mapping[str, Any] | None
    fixed_input: Mapping[str, Any] | None


@overload
def app_tool(
    ref: str,
    /,
    *,
    name: str | None = None,
    function: str | None = None,
    session_enabled: bool | None = None,
    setup: Mapping[str, Any] | None = None,
    input: Mapping[str, Any] | None = None,
    fixed_input: Mapping[str, Any] | None = None,
    **options: Unpack[ToolOptionArgs],
) -> Callable[[Callable[..., Any]], AppTool]: ...
@overload
def app_tool(
    name: str,
    ref: str,
    /,
    *,
    params: ParamsSource = None,
    function: str | None = None,
    session_enabled: bool | None = None,
    setup: Mapping[str, Any] | None = None,
    input: Mapping[str, Any] | None = None,
    fixed_input: Mapping[str, Any] | None = None,
    **options: Unpack[ToolOptionArgs],
) -> AppTool: ...
def app_tool(
    first: str,
    ref: str | None = None,
    /,
    *,
    name: str | None = None,
    params: ParamsSource = None,
    function: str | None = None,
    session_enabled: bool | None = None,
    setup: Mapping[str, Any] | None = None,
    input: Mapping[str, Any] | None = None,
    fixed_input: Mapping[str, Any] | None = None,
    **options: Unpack[ToolOptionArgs],
) -> AppTool | Callable[[Callable[..., Any]], AppTool]:
    """An inference.sh app as a tool: `@app_tool("ns/app@ver")` on a stub, or a direct call.

    Decorator form: the stub's name, docstring and signature define the tool (the stub never
    runs). Call form: `app_tool("generate_image", "infsh/flux-schnell@latest",
    params=Prompt, description="...")`.

    Args:
        first: The app ref (decorator form) or the tool's name (call form).
        ref: The app ref, in the call form.
        name: The name the model sees (decorator form; defaults to the stub's name).
        params: The local schema (call form): a stub, model, TypedDict, helpers or schema.
        function: The app function to call, for apps with several.
        session_enabled: Keep one warm worker across the chat's calls.
        setup: The app's setup values.
        input: Input values merged under the model's arguments.
        fixed_input: Input values merged over the model's arguments, hidden from the model.
        **options: The options every tool kind shares (`ToolOptions`): `description`,
            `display_name`, `require_approval` (`True`, or a policy deciding each call) and
            `approval_timeout` (seconds).

    Raises:
        ToolDefinitionError: Bad name, bad ref, bad options or bad stub signature (all listed).
    """
    config: _AppConfig = {
        "function": function,
        "session_enabled": session_enabled,
        "setup": setup,
        "input": input,
        "fixed_input": fixed_input,
    }
    localns = sys._getframe(1).f_locals  # pyright: ignore[reportPrivateUsage]

    def make(tool_options: ToolOptions, ref: str, parameters: Parameters | None) -> AppTool:
        return AppTool(tool_options, ref=ref, parameters=parameters, **config)

    if ref is not None:
        return _server_tool(make, "app", first, ref, params, options, localns)
    return lambda stub: _server_tool(
        make, "app", name or default_name(stub), first, stub, options, localns
    )


@overload
def agent_tool(
    ref: str,
    /,
    *,
    name: str | None = None,
    **options: Unpack[ToolOptionArgs],
) -> Callable[[Callable[..., Any]], AgentTool]: ...
@overload
def agent_tool(
    name: str,
    ref: str,
    /,
    *,
    params: ParamsSource = None,
    **options: Unpack[ToolOptionArgs],
) -> AgentTool: ...
def agent_tool(
    first: str,
    ref: str | None = None,
    /,
    *,
    name: str | None = None,
    params: ParamsSource = None,
    **options: Unpack[ToolOptionArgs],
) -> AgentTool | Callable[[Callable[..., Any]], AgentTool]:
    """Another agent as a tool: `@agent_tool("ns/agent@ver")` on a stub, or a direct call.

    Args:
        first: The agent ref (decorator form) or the tool's name (call form).
        ref: The agent ref, in the call form.
        name: The name the model sees (decorator form; defaults to the stub's name).
        params: The local schema (call form): a stub, model, TypedDict, helpers or schema.
        **options: The options every tool kind shares (`ToolOptions`).

    Raises:
        ToolDefinitionError: Bad name, bad ref, bad options or bad stub signature (all listed).
    """
    localns = sys._getframe(1).f_locals  # pyright: ignore[reportPrivateUsage]

    def make(tool_options: ToolOptions, ref: str, parameters: Parameters | None) -> AgentTool:
        return AgentTool(tool_options, ref=ref, parameters=parameters)

    if ref is not None:
        return _server_tool(make, "agent", first, ref, params, options, localns)
    return lambda stub: _server_tool(
        make, "agent", name or default_name(stub), first, stub, options, localns
    )


def _server_tool(
    make: Callable[[ToolOptions, str, Parameters | None], _T],
    kind: str,
    name: str,
    ref: str,
    params: ParamsSource,
    options: ToolOptionArgs,
    localns: Mapping[str, Any],
) -> _T:
    tool_options = ToolOptions.of(name, options)
    problems = tool_options.problems()
    problems += [p for p in (_ref_problem(ref, kind),) if p]
    parameters: Parameters | None = None  # no stub or params=: the server knows the schema
    if params is not None:
        parameters, found = parameters_from(params, localns=localns)
        problems += found
    if problems:
        raise ToolDefinitionError(str(name), problems)
    return make(tool_options, ref, parameters)
