"""Agent configs (`AgentConfigInput`) as the emulator uses them: checked once, then read.

Both SDKs' builder outputs are accepted (tools.md): JSON `null` means absent, `call` tools are
`http` tools, MCP tools may name a `server` or an `integration_id`. A config that cannot work
(no `core_app`, a tool without a name or of an unknown kind, two tools with one name) is a
400 naming the field, before anything is created.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from inferencesh.local.core._envelope import ApiError
from inferencesh.local.models._base import json_list, json_object

__all__ = ["AgentConfig", "ToolDef", "parse_agent_config"]

TOOL_KINDS = ("client", "app", "agent", "hook", "http", "call", "mcp", "internal")
FINISH = "finish"
_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}
_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"message": {"type": "string", "description": "What to ask the agent."}},
    "required": ["message"],
}


@dataclass(frozen=True, kw_only=True)
class ToolDef:
    """One tool of an agent, as the model sees it and as the emulator runs it."""

    name: str
    kind: str
    """The invocation's `type`: a `call` tool is an `http` tool."""
    description: str
    display_name: str
    parameters: dict[str, Any]
    require_approval: bool = False
    approval_timeout: float | None = None
    """Seconds an approval may wait before it is denied (None or 0: forever)."""
    config: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """The kind's own object (`app: {...}`, `hook: {...}`, ...)."""


@dataclass(frozen=True, kw_only=True)
class AgentConfig:
    """A checked agent config."""

    raw: dict[str, Any]
    name: str
    description: str
    system_prompt: str
    core_ref: str
    core_input: dict[str, Any]
    tools: tuple[ToolDef, ...]
    output_schema: dict[str, Any] | None
    allow_all_tools: bool
    skills: tuple[dict[str, Any], ...]

    def tool(self, name: str) -> ToolDef | None:
        """The tool the model calls `name`, if the agent has one."""
        return next((t for t in self.tools if t.name == name), None)


def _bad(where: str, problem: str) -> ApiError:
    return ApiError(400, "invalid_request", f"{where}: {problem}")


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    plain = json_object(value)
    if plain is None:
        raise _bad(where, "must be an object")
    return {k: v for k, v in plain.items() if v is not None}


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(where, "must be a string")
    return value


def parse_agent_config(
    raw: Any, *, where: str = "agent_config", app_schema: Callable[[str], dict[str, Any]]
) -> AgentConfig:
    """Check an `AgentConfigInput`.

    Args:
        raw: The config as sent.
        where: Where it was in the request (for error messages).
        app_schema: The input schema of an app tool's app, by ref.

    Raises:
        ApiError: 400 `invalid_request` naming the first problem.
    """
    config = _object(raw, where)
    core = config.get("core_app")
    if isinstance(core, str):
        core = {"ref": core}
    core_app = _object(core, f"{where}.core_app")
    ref = core_app.get("ref") or core_app.get("id")
    if not isinstance(ref, str) or not ref.strip():
        raise _bad(f"{where}.core_app", "an agent needs core_app.ref (the LLM app)")
    core_input = _object(core_app.get("input"), f"{where}.core_app.input")
    output_schema: Any = config.get("output_schema")
    schema = json_object(output_schema)
    if output_schema is not None and schema is None:
        raise _bad(f"{where}.output_schema", "must be a JSON schema object")
    internal = _object(config.get("internal_tools"), f"{where}.internal_tools")
    permissions = _object(config.get("permissions"), f"{where}.permissions")
    raw_tools = json_list(config.get("tools") or [])
    if raw_tools is None:
        raise _bad(f"{where}.tools", "must be a list")
    tools = [_tool(entry, f"{where}.tools[{i}]", app_schema) for i, entry in enumerate(raw_tools)]
    raw_skills = json_list(config.get("skills") or [])
    if raw_skills is None:
        raise _bad(f"{where}.skills", "must be a list")
    skills = tuple(_object(s, f"{where}.skills[{i}]") for i, s in enumerate(raw_skills))
    tools += _internal_tools(internal, schema, skills)
    seen: set[str] = set()
    for tool in tools:
        if tool.name in seen:
            raise _bad(f"{where}.tools", f"two tools are named {tool.name!r}")
        seen.add(tool.name)
    return AgentConfig(
        raw=config,
        name=_text(config.get("name"), f"{where}.name"),
        description=_text(config.get("description"), f"{where}.description"),
        system_prompt=_system_prompt(config, skills, where),
        core_ref=ref.strip(),
        core_input=core_input,
        tools=tuple(tools),
        output_schema=schema,
        allow_all_tools=bool(permissions.get("allow_all_tools")),
        skills=skills,
    )


def _system_prompt(
    config: Mapping[str, Any], skills: tuple[dict[str, Any], ...], where: str
) -> str:
    prompt = _text(config.get("system_prompt"), f"{where}.system_prompt")
    preloaded = [s for s in skills if s.get("preload") and isinstance(s.get("content"), str)]
    for skill in preloaded:
        prompt += f"\n\n# Skill: {skill.get('name', '')}\n{skill['content']}"
    return prompt.strip()


def _tool(entry: Any, where: str, app_schema: Callable[[str], dict[str, Any]]) -> ToolDef:
    tool = _object(entry, where)
    name = tool.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _bad(f"{where}.name", "every tool needs a name")
    kind = tool.get("type")
    if kind is None:  # infer from the one config object present
        kind = next((k for k in TOOL_KINDS if k in tool), None)
    if kind not in TOOL_KINDS:
        raise _bad(f"{where}.type", f"unknown tool type {kind!r} (one of {', '.join(TOOL_KINDS)})")
    own = _object(tool.get(kind), f"{where}.{kind}")
    if kind == "call":
        kind = "http"
        own = own or _object(tool.get("http"), f"{where}.http")
    timeout = tool.get("approval_timeout")
    if timeout is not None and (not isinstance(timeout, int | float) or timeout < 0):
        raise _bad(f"{where}.approval_timeout", "must be a number of seconds >= 0")
    if kind == "app":
        ref = own.get("ref")
        if not isinstance(ref, str) or not ref:
            raise _bad(f"{where}.app.ref", "an app tool needs the app's ref")
        parameters = app_schema(ref)
    elif kind == "agent":
        ref = own.get("ref")
        if not isinstance(ref, str) or not ref:
            raise _bad(f"{where}.agent.ref", "an agent tool needs the agent's ref")
        parameters = _MESSAGE_SCHEMA
    elif kind in ("hook", "http"):
        url = own.get("url")
        if not isinstance(url, str) or not url:
            raise _bad(f"{where}.{kind}.url", f"a {kind} tool needs a url")
        parameters = _object(own.get("input_schema"), f"{where}.{kind}.input_schema") or _OBJECT
    else:
        parameters = _object(own.get("input_schema"), f"{where}.{kind}.input_schema") or _OBJECT
    description = _text(tool.get("description"), f"{where}.description")
    return ToolDef(
        name=name,
        kind=str(kind),
        description=description,
        display_name=_text(tool.get("display_name"), f"{where}.display_name") or name,
        parameters=dict(parameters),
        require_approval=bool(tool.get("require_approval")),
        approval_timeout=float(timeout) if timeout else None,
        config=own,
    )


def _internal(name: str, description: str, parameters: dict[str, Any]) -> ToolDef:
    return ToolDef(
        name=name,
        kind="internal",
        description=description,
        display_name=name,
        parameters=parameters,
        config={"operation": name},
    )


def _internal_tools(
    flags: Mapping[str, Any],
    output_schema: dict[str, Any] | None,
    skills: tuple[dict[str, Any], ...],
) -> list[ToolDef]:
    tools: list[ToolDef] = []
    string = {"type": "string"}
    if flags.get("plan"):
        step = {
            "type": "object",
            "properties": {"title": string, "description": string},
            "required": ["title"],
        }
        tools += [
            _internal(
                "plan_create",
                "Write down a plan: a list of steps.",
                {
                    "type": "object",
                    "properties": {"steps": {"type": "array", "items": step}},
                    "required": ["steps"],
                },
            ),
            _internal(
                "plan_update",
                "Update a step of the plan (status: pending, in_progress, completed, skipped).",
                {
                    "type": "object",
                    "properties": {"index": {"type": "integer"}, "status": string, "notes": string},
                    "required": ["index", "status"],
                },
            ),
            _internal("plan_load", "Read the current plan.", dict(_OBJECT)),
        ]
    if flags.get("memory"):
        tools += [
            _internal(
                "memory_set",
                "Remember a value under a key for the rest of the chat.",
                {
                    "type": "object",
                    "properties": {"key": string, "value": string},
                    "required": ["key", "value"],
                },
            ),
            _internal(
                "memory_get",
                "Read the value remembered under a key.",
                {"type": "object", "properties": {"key": string}, "required": ["key"]},
            ),
            _internal("memory_get_all", "Read everything remembered.", dict(_OBJECT)),
        ]
    if flags.get("finish") or output_schema is not None:
        parameters = output_schema or {"type": "object", "properties": {"result": string}}
        tools.append(
            _internal(FINISH, "Finish the task and return the final result.", dict(parameters))
        )
    if skills and flags.get("skills", True):
        tools.append(
            _internal(
                "skill_get",
                "Read one of the agent's skills by name: "
                + ", ".join(str(s.get("name", "")) for s in skills),
                {"type": "object", "properties": {"name": string}, "required": ["name"]},
            )
        )
    return tools
