"""Tools the server runs by calling out: webhooks (`hook`), HTTP endpoints (`http`), MCP (`mcp`)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypeAlias

from typing_extensions import TypedDict

from ..errors import ToolDefinitionError
from ._json import JSONObject
from ._params import Parameters, ParamsSource, parameters_from
from ._tool import Tool, check_name

__all__ = [
    "HttpAuth",
    "HttpTool",
    "McpTool",
    "WebhookTool",
    "http_tool",
    "mcp_tool",
    "webhook_tool",
]

HttpMethod: TypeAlias = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class BearerAuth(TypedDict):
    """`Authorization: Bearer <secret value>`; `secret` names a vault secret."""

    type: Literal["bearer"]
    secret: str


class ApiKeyAuth(TypedDict):
    """The secret's value in a header (`X-API-Key` unless `header` says otherwise)."""

    type: Literal["api_key"]
    secret: str
    header: NotRequired[str]


class CredentialAuth(TypedDict):
    """A connected account's credential for `provider` (e.g. `"google"`)."""

    type: Literal["credential"]
    provider: str


class IntegrationAuth(TypedDict):
    """A connected integration (the JS builder's form)."""

    type: Literal["integration"]
    provider: str
    integration_id: NotRequired[str]


HttpAuth: TypeAlias = BearerAuth | ApiKeyAuth | CredentialAuth | IntegrationAuth
"""How the server authenticates an `http` tool's request; secrets are vault names, not values."""

_AUTH_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "bearer": (frozenset({"secret"}), frozenset()),
    "api_key": (frozenset({"secret"}), frozenset({"header"})),
    "credential": (frozenset({"provider"}), frozenset()),
    "integration": (frozenset({"provider"}), frozenset({"integration_id"})),
}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class WebhookTool(Tool):
    """The server POSTs the arguments to `url` (wire kind `hook`)."""

    kind = "hook"

    def __init__(self, *, url: str, secret: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.url = url
        self.secret = secret

    def _config(self) -> JSONObject:
        out: JSONObject = {"url": self.url}
        if self.secret is not None:
            out["secret"] = self.secret
        out["input_schema"] = self._input_schema()
        return out


class HttpTool(Tool):
    """The server calls an HTTP endpoint with the arguments (wire kind `http`)."""

    kind = "http"

    def __init__(
        self,
        *,
        url: str,
        method: HttpMethod | None = None,
        auth: HttpAuth | None = None,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.url = url
        self.method: HttpMethod | None = method
        self.auth: HttpAuth | None = auth
        self.headers = dict(headers) if headers is not None else None

    def _config(self) -> JSONObject:
        out: JSONObject = {"url": self.url}
        if self.method is not None:
            out["method"] = self.method
        if self.auth is not None:
            out["auth"] = dict(self.auth)
        if self.headers is not None:
            out["headers"] = dict(self.headers)
        out["input_schema"] = self._input_schema()
        return out


class McpTool(Tool):
    """A tool of a connected MCP server (wire kind `mcp`); its schema comes from the server."""

    kind = "mcp"

    def __init__(self, *, server: str, tool_name: str, **options: Any) -> None:
        super().__init__(**options)
        self.server = server
        self.tool_name = tool_name

    def _config(self) -> JSONObject:
        return {"server": self.server, "tool_name": self.tool_name}


def _url_problem(url: object) -> str | None:
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return None
    return f"url {url!r} is invalid: it must start with https:// (or http://)"


def _auth_problems(auth: Mapping[str, Any]) -> list[str]:
    kind = auth.get("type")
    if kind not in _AUTH_KEYS:
        return [f"auth type {kind!r} is unknown: use one of {', '.join(map(repr, _AUTH_KEYS))}"]
    required, optional = _AUTH_KEYS[kind]
    problems = [f"auth {kind!r} needs {key!r}" for key in sorted(required - auth.keys())]
    extra = auth.keys() - required - optional - {"type"}
    problems += [f"auth {kind!r} does not take {key!r}" for key in sorted(extra)]
    return problems


def _common(
    name: str, params: ParamsSource, strict: bool, localns: Mapping[str, Any]
) -> tuple[Parameters, list[str]]:
    parameters, problems = parameters_from(params, strict=strict, localns=localns)
    name_problem = check_name(name)
    return parameters, [name_problem, *problems] if name_problem else problems


def webhook_tool(
    name: str,
    url: str,
    *,
    params: ParamsSource = None,
    secret: str | None = None,
    description: str | None = None,
    display_name: str | None = None,
    require_approval: bool = False,
    approval_timeout: int | None = None,
    strict: bool = False,
) -> WebhookTool:
    """A tool the server runs by POSTing the arguments to `url`.

    Args:
        name: The name the model sees.
        url: The webhook URL.
        params: The parameters: a stub function, model, TypedDict, helpers or JSON schema.
        secret: Name of a vault secret the server sends as the `X-Hook-Secret` header.
        description: What the tool does (defaults to a stub's docstring, else "").
        display_name: Name shown to people; defaults to `name`.
        require_approval: Ask a human before every call.
        approval_timeout: Seconds to wait for that approval (0 waits forever).
        strict: Emit a strict-mode schema.

    Raises:
        ToolDefinitionError: Bad name, URL or parameters (all listed).
    """
    localns = sys._getframe(1).f_locals  # pyright: ignore[reportPrivateUsage]
    parameters, problems = _common(name, params, strict, localns)
    problems += [p for p in (_url_problem(url),) if p]
    if problems:
        raise ToolDefinitionError(str(name), problems)
    result = WebhookTool(
        url=url,
        secret=secret,
        name=name,
        description=description,
        display_name=display_name,
        require_approval=require_approval,
        approval_timeout=approval_timeout,
        parameters=parameters,
    )
    if strict:
        result.parameters_schema  # noqa: B018 -- strict problems must surface now
    return result


def http_tool(
    name: str,
    url: str,
    *,
    method: HttpMethod | None = None,
    auth: HttpAuth | None = None,
    headers: Mapping[str, str] | None = None,
    params: ParamsSource = None,
    description: str | None = None,
    display_name: str | None = None,
    require_approval: bool = False,
    approval_timeout: int | None = None,
    strict: bool = False,
) -> HttpTool:
    """A tool the server runs by calling an HTTP endpoint.

    Args:
        name: The name the model sees.
        url: The endpoint; may contain `{{context.KEY}}` placeholders.
        method: GET, POST, PUT, PATCH or DELETE (None: the server's default, POST).
        auth: How to authenticate, e.g. `{"type": "bearer", "secret": "API_TOKEN"}`.
        headers: Extra headers; values may reference secrets as `${{secrets.NAME}}`.
        params: The parameters: a stub function, model, TypedDict, helpers or JSON schema.
        description: What the tool does (defaults to a stub's docstring, else "").
        display_name: Name shown to people; defaults to `name`.
        require_approval: Ask a human before every call.
        approval_timeout: Seconds to wait for that approval (0 waits forever).
        strict: Emit a strict-mode schema.

    Raises:
        ToolDefinitionError: Bad name, URL, method, auth or parameters (all listed).
    """
    localns = sys._getframe(1).f_locals  # pyright: ignore[reportPrivateUsage]
    parameters, problems = _common(name, params, strict, localns)
    problems += [p for p in (_url_problem(url),) if p]
    if method is not None and method not in _METHODS:
        problems.append(f"method {method!r} is invalid: use one of {', '.join(_METHODS)}")
    if auth is not None:
        problems += _auth_problems(auth)
    if problems:
        raise ToolDefinitionError(str(name), problems)
    result = HttpTool(
        url=url,
        method=method,
        auth=auth,
        headers=headers,
        name=name,
        description=description,
        display_name=display_name,
        require_approval=require_approval,
        approval_timeout=approval_timeout,
        parameters=parameters,
    )
    if strict:
        result.parameters_schema  # noqa: B018 -- strict problems must surface now
    return result


def mcp_tool(
    name: str,
    *,
    server: str,
    tool_name: str | None = None,
    description: str | None = None,
    display_name: str | None = None,
    require_approval: bool = False,
    approval_timeout: int | None = None,
) -> McpTool:
    """A tool of a connected MCP server (`server` is its slug, e.g. `"exa"`).

    Raises:
        ToolDefinitionError: Bad name or empty server.
    """
    problems = [p for p in (check_name(name),) if p]
    if not server:
        problems.append("server is empty: pass the MCP server's slug, e.g. server='exa'")
    if problems:
        raise ToolDefinitionError(str(name), problems)
    return McpTool(
        server=server,
        tool_name=tool_name or name,
        name=name,
        description=description,
        display_name=display_name,
        require_approval=require_approval,
        approval_timeout=approval_timeout,
    )
