"""Tools the server runs by calling out: webhooks (`hook`), HTTP endpoints (`http`), MCP (`mcp`)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypeAlias

from typing_extensions import TypedDict, Unpack

from ..errors import ToolDefinitionError
from ._json import JSONObject
from ._options import ToolOptionArgs, ToolOptions
from ._params import Parameters, ParamsSource, parameters_from
from ._tool import Tool

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

    def __init__(
        self,
        options: ToolOptions,
        *,
        url: str,
        secret: str | None = None,
        parameters: Parameters | None = None,
    ) -> None:
        super().__init__(options, parameters=parameters)
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
        options: ToolOptions,
        *,
        url: str,
        method: HttpMethod | None = None,
        auth: HttpAuth | None = None,
        headers: Mapping[str, str] | None = None,
        parameters: Parameters | None = None,
    ) -> None:
        super().__init__(options, parameters=parameters)
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

    def __init__(self, options: ToolOptions, *, server: str, tool_name: str) -> None:
        super().__init__(options)
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
    options: ToolOptions, params: ParamsSource, strict: bool, localns: Mapping[str, Any]
) -> tuple[Parameters, list[str]]:
    parameters, problems = parameters_from(params, strict=strict, localns=localns)
    return parameters, options.problems() + problems


def webhook_tool(
    name: str,
    url: str,
    *,
    params: ParamsSource = None,
    secret: str | None = None,
    strict: bool = False,
    **options: Unpack[ToolOptionArgs],
) -> WebhookTool:
    """A tool the server runs by POSTing the arguments to `url`.

    Args:
        name: The name the model sees.
        url: The webhook URL.
        params: The parameters: a stub function, model, TypedDict, helpers or JSON schema.
        secret: Name of a vault secret the server sends as the `X-Hook-Secret` header.
        strict: Emit a strict-mode schema.
        **options: The options every tool kind shares (`ToolOptions`): `description`
            (defaults to a stub's docstring, else ""), `display_name`, `require_approval`
            (`True`, or a policy deciding each call) and `approval_timeout` (seconds).

    Raises:
        ToolDefinitionError: Bad name, URL or parameters (all listed).
    """
    localns = sys._getframe(1).f_locals  # pyright: ignore[reportPrivateUsage]
    tool_options = ToolOptions.of(name, options)
    parameters, problems = _common(tool_options, params, strict, localns)
    problems += [p for p in (_url_problem(url),) if p]
    if problems:
        raise ToolDefinitionError(str(name), problems)
    result = WebhookTool(tool_options, url=url, secret=secret, parameters=parameters)
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
    strict: bool = False,
    **options: Unpack[ToolOptionArgs],
) -> HttpTool:
    """A tool the server runs by calling an HTTP endpoint.

    Args:
        name: The name the model sees.
        url: The endpoint; may contain `{{context.KEY}}` placeholders.
        method: GET, POST, PUT, PATCH or DELETE (None: the server's default, POST).
        auth: How to authenticate, e.g. `{"type": "bearer", "secret": "API_TOKEN"}`.
        headers: Extra headers; values may reference secrets as `${{secrets.NAME}}`.
        params: The parameters: a stub function, model, TypedDict, helpers or JSON schema.
        strict: Emit a strict-mode schema.
        **options: The options every tool kind shares (`ToolOptions`): `description`
            (defaults to a stub's docstring, else ""), `display_name`, `require_approval`
            (`True`, or a policy deciding each call) and `approval_timeout` (seconds).

    Raises:
        ToolDefinitionError: Bad name, URL, method, auth or parameters (all listed).
    """
    localns = sys._getframe(1).f_locals  # pyright: ignore[reportPrivateUsage]
    tool_options = ToolOptions.of(name, options)
    parameters, problems = _common(tool_options, params, strict, localns)
    problems += [p for p in (_url_problem(url),) if p]
    if method is not None and method not in _METHODS:
        problems.append(f"method {method!r} is invalid: use one of {', '.join(_METHODS)}")
    if auth is not None:
        problems += _auth_problems(auth)
    if problems:
        raise ToolDefinitionError(str(name), problems)
    result = HttpTool(
        tool_options, url=url, method=method, auth=auth, headers=headers, parameters=parameters
    )
    if strict:
        result.parameters_schema  # noqa: B018 -- strict problems must surface now
    return result


def mcp_tool(
    name: str,
    *,
    server: str,
    tool_name: str | None = None,
    **options: Unpack[ToolOptionArgs],
) -> McpTool:
    """A tool of a connected MCP server (`server` is its slug, e.g. `"exa"`).

    Args:
        name: The name the model sees.
        server: The MCP server's slug.
        tool_name: The tool's name on that server (defaults to `name`).
        **options: The options every tool kind shares (`ToolOptions`).

    Raises:
        ToolDefinitionError: Bad name, options or empty server.
    """
    tool_options = ToolOptions.of(name, options)
    problems = tool_options.problems()
    if not server:
        problems.append("server is empty: pass the MCP server's slug, e.g. server='exa'")
    if problems:
        raise ToolDefinitionError(str(name), problems)
    return McpTool(tool_options, server=server, tool_name=tool_name or name)
