"""Tools the server runs as inference.sh apps (`@app_tool`) or agents (`@agent_tool`)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from ..errors import ToolDefinitionError
from ._decorator import default_name
from ._json import JSONObject, copy_json
from ._params import Parameters, ParamsSource, parameters_from
from ._tool import Tool, check_name

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
        *,
        name: str,
        ref: str,
        function: str | None = None,
        session_enabled: bool | None = None,
        setup: Mapping[str, Any] | None = None,
        input: Mapping[str, Any] | None = None,
        fixed_input: Mapping[str, Any] | None = None,
        parameters: Parameters | None = None,
        description: str | None = None,
        display_name: str | None = None,
        require_approval: bool = False,
        approval_timeout: int | None = None,
    ) -> None:
        super().__init__(
            name=name,
            description=description,
            display_name=display_name,
            require_approval=require_approval,
            approval_timeout=approval_timeout,
            parameters=parameters,
        )
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
        self,
        *,
        name: str,
        ref: str,
        parameters: Parameters | None = None,
        description: str | None = None,
        display_name: str | None = None,
        require_approval: bool = False,
        approval_timeout: int | None = None,
    ) -> None:
        super().__init__(
            name=name,
            description=description,
            display_name=display_name,
            require_approval=require_approval,
            approval_timeout=approval_timeout,
            parameters=parameters,
        )
        self.ref = ref

    def _config(self) -> JSONObject:
        return {"ref": self.ref}


def _ref_problem(ref: object, what: str) -> str | None:
    if isinstance(ref, str) and _REF.match(ref):
        return None
    return f"{what} ref {ref!r} is invalid: use 'namespace/name' or 'namespace/name@version'"


@overload
def app_tool(
    ref: str,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    display_name: str | None = None,
    function: str | None = None,
    session_enabled: bool | None = None,
    setup: Mapping[str, Any] | None = None,
    input: Mapping[str, Any] | None = None,
    fixed_input: Mapping[str, Any] | None = None,
    require_approval: bool = False,
    approval_timeout: int | None = None,
) -> Callable[[Callable[..., Any]], AppTool]: ...
@overload
def app_tool(
    name: str,
    ref: str,
    /,
    *,
    params: ParamsSource = None,
    description: str | None = None,
    display_name: str | None = None,
    function: str | None = None,
    session_enabled: bool | None = None,
    setup: Mapping[str, Any] | None = None,
    input: Mapping[str, Any] | None = None,
    fixed_input: Mapping[str, Any] | None = None,
    require_approval: bool = False,
    approval_timeout: int | None = None,
) -> AppTool: ...
def app_tool(
    first: str,
    ref: str | None = None,
    /,
    *,
    name: str | None = None,
    params: ParamsSource = None,
    description: str | None = None,
    display_name: str | None = None,
    function: str | None = None,
    session_enabled: bool | None = None,
    setup: Mapping[str, Any] | None = None,
    input: Mapping[str, Any] | None = None,
    fixed_input: Mapping[str, Any] | None = None,
    require_approval: bool = False,
    approval_timeout: int | None = None,
) -> AppTool | Callable[[Callable[..., Any]], AppTool]:
    """An inference.sh app as a tool: `@app_tool("ns/app@ver")` on a stub, or a direct call.

    Decorator form: the stub's name, docstring and signature define the tool (the stub never
    runs). Call form: `app_tool("generate_image", "infsh/flux-schnell@latest",
    params=Prompt, description="...")`.

    Raises:
        ToolDefinitionError: Bad name, bad ref or bad stub signature (all listed).
    """
    options: dict[str, Any] = {
        "function": function,
        "session_enabled": session_enabled,
        "setup": setup,
        "input": input,
        "fixed_input": fixed_input,
        "description": description,
        "display_name": display_name,
        "require_approval": require_approval,
        "approval_timeout": approval_timeout,
    }
    localns = sys._getframe(1).f_locals  # pyright: ignore[reportPrivateUsage]
    if ref is not None:
        return _server_tool(AppTool, "app", first, ref, params, options, localns)
    return lambda stub: _server_tool(
        AppTool, "app", name or default_name(stub), first, stub, options, localns
    )


@overload
def agent_tool(
    ref: str,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    display_name: str | None = None,
    require_approval: bool = False,
    approval_timeout: int | None = None,
) -> Callable[[Callable[..., Any]], AgentTool]: ...
@overload
def agent_tool(
    name: str,
    ref: str,
    /,
    *,
    params: ParamsSource = None,
    description: str | None = None,
    display_name: str | None = None,
    require_approval: bool = False,
    approval_timeout: int | None = None,
) -> AgentTool: ...
def agent_tool(
    first: str,
    ref: str | None = None,
    /,
    *,
    name: str | None = None,
    params: ParamsSource = None,
    description: str | None = None,
    display_name: str | None = None,
    require_approval: bool = False,
    approval_timeout: int | None = None,
) -> AgentTool | Callable[[Callable[..., Any]], AgentTool]:
    """Another agent as a tool: `@agent_tool("ns/agent@ver")` on a stub, or a direct call.

    Raises:
        ToolDefinitionError: Bad name, bad ref or bad stub signature (all listed).
    """
    options: dict[str, Any] = {
        "description": description,
        "display_name": display_name,
        "require_approval": require_approval,
        "approval_timeout": approval_timeout,
    }
    localns = sys._getframe(1).f_locals  # pyright: ignore[reportPrivateUsage]
    if ref is not None:
        return _server_tool(AgentTool, "agent", first, ref, params, options, localns)
    return lambda stub: _server_tool(
        AgentTool, "agent", name or default_name(stub), first, stub, options, localns
    )


def _server_tool(
    cls: Callable[..., _T],
    kind: str,
    name: str,
    ref: str,
    params: ParamsSource,
    options: dict[str, Any],
    localns: Mapping[str, Any],
) -> _T:
    problems = [p for p in (check_name(name), _ref_problem(ref, kind)) if p]
    parameters: Parameters | None = None  # no stub or params=: the server knows the schema
    if params is not None:
        parameters, found = parameters_from(params, localns=localns)
        problems += found
    if problems:
        raise ToolDefinitionError(str(name), problems)
    return cls(name=name, ref=ref, parameters=parameters, **options)
