"""Which agent a chat talks to, and the `POST /agents/run` body that says so.

An agent is a template (`"acme/support@latest"`) or an ad-hoc config (`core_app`, a system
prompt, tools...: the protocol's `AgentConfigInput`). Either way this process may hold tools
the agent calls: client tools with their handlers, and server-side tools whose approval
policy decides here. `AgentSpec` keeps both: the wire config (tools as `to_wire()` entries,
handlers stripped) and the local tools by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, cast

from pydantic import BaseModel, ConfigDict

from inferencesh.errors import ConfigurationError
from inferencesh.tools import InternalTools, Skill, Tool, Toolset

__all__ = ["AgentConfig", "AgentSpec", "CoreApp", "ToolSource"]

CoreApp: TypeAlias = str | Mapping[str, Any]
"""The agent's LLM app: a ref, or `{"ref": ..., "input": {...}}` (LLM settings go in `input`)."""

ToolSource: TypeAlias = Tool | Toolset | Mapping[str, Any]
"""A tool the agent gets: a `@tool`/`app_tool`/... object, a toolset, or a ready wire dict."""


class AgentConfig(BaseModel):
    """An ad-hoc agent (the protocol's `AgentConfigInput`); fields it does not name pass through.

    Example:
        ```python
        config = AgentConfig(core_app="infsh/claude-haiku-45@latest", tools=[get_weather])
        agent = client.agent(config)
        ```
    """

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    core_app: CoreApp
    name: str | None = None
    description: str | None = None
    system_prompt: str | None = None
    example_prompts: list[str] | None = None
    tools: list[Any] | None = None
    """`Tool` objects, toolsets or wire dicts."""
    internal_tools: Any = None
    """`internal_tools(...)` or a dict of flags."""
    skills: list[Any] | None = None
    """`Skill` objects or wire dicts."""
    context: list[Any] | None = None
    """Context declarations (`{name, description?, required?, default?}`), not values."""
    output_schema: dict[str, Any] | None = None
    """JSON Schema of the structured result (with the `finish` internal tool)."""


@dataclass(frozen=True, kw_only=True)
class AgentSpec:
    """The agent of a chat: a template ref or an ad-hoc wire config, plus the local tools."""

    ref: str | None = None
    config: dict[str, Any] | None = None
    """The `agent_config` to send (tools already in wire form)."""
    name: str = "agent"
    """What events call this agent: the config's name, else the ref, else `"agent"`."""
    tools: dict[str, Tool] = field(default_factory=dict[str, Tool])
    """Tools this process holds, by the name the model calls them."""

    @classmethod
    def build(
        cls,
        agent: str | AgentConfig | Mapping[str, Any] | None = None,
        *,
        tools: Iterable[ToolSource] | None = None,
        **fields: Any,
    ) -> AgentSpec:
        """The spec from `client.agent(...)`'s arguments.

        Args:
            agent: A template ref, or a whole config (`AgentConfig` or dict).
            tools: Tools for the agent: sent with an ad-hoc config; with a template only
                their handlers (and approval policies) are used, the template names the tools.
            **fields: The other `AgentConfigInput` fields of an ad-hoc agent (`core_app`,
                `system_prompt`, `name`, ...); None values are left out.

        Raises:
            ConfigurationError: Neither a ref nor a `core_app`, or both; a bad tool.
        """
        given = {k: v for k, v in fields.items() if v is not None}
        if isinstance(agent, str):
            if not agent or "/" not in agent:
                raise ConfigurationError(
                    f"agent {agent!r} is not a template ref: use 'namespace/name@version'"
                )
            extra = sorted(set(given) - {"name"})
            if extra:
                raise ConfigurationError(
                    f"a template agent ({agent!r}) takes its config from the server; "
                    f"drop {', '.join(extra)} (or build an ad-hoc agent with core_app=)"
                )
            local = _local_tools(tools or ())
            return cls(ref=agent, name=given.get("name") or agent, tools=local)
        config: dict[str, Any] = {}
        if isinstance(agent, AgentConfig):
            config = agent.model_dump(exclude_none=True)
        elif agent is not None:
            config = dict(agent)
        config.update(given)
        listed: Iterable[ToolSource] = config.pop("tools", None) or ()
        all_tools: list[ToolSource] = [*listed, *(tools or ())]
        if not config.get("core_app"):
            raise ConfigurationError(
                "an ad-hoc agent needs core_app= (its LLM app, e.g. "
                "'infsh/claude-haiku-45@latest'), or pass a template ref: client.agent('ns/name')"
            )
        core_app = config["core_app"]
        config["core_app"] = {"ref": core_app} if isinstance(core_app, str) else dict(core_app)
        if isinstance(config.get("internal_tools"), InternalTools):
            config["internal_tools"] = config["internal_tools"].to_wire()
        if config.get("skills"):
            config["skills"] = [
                s.to_wire() if isinstance(s, Skill) else dict(s) for s in config["skills"]
            ]
        local = _local_tools(all_tools)
        config["tools"] = [_wire(t) for t in _flatten(all_tools)]
        return cls(config=config, name=config.get("name") or "agent", tools=local)

    def run_body(
        self,
        *,
        chat_id: str | None,
        text: str,
        attachments: Sequence[Mapping[str, Any]] = (),
        context: Mapping[str, str] | None = None,
        output_schema: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The `POST /agents/run` body of one message.

        Args:
            chat_id: The chat to continue, or None for a new one.
            text: The user's message.
            attachments: Uploaded files (`FileRef` dicts).
            context: Per-chat context values (`{{context.KEY}}` in tool URLs and prompts).
            output_schema: Ask for a structured result of this JSON Schema (ad-hoc agents).
        """
        message: dict[str, Any] = {"text": text}
        if attachments:
            message["attachments"] = [dict(a) for a in attachments]
        body: dict[str, Any] = {"chat_id": chat_id, "input": message}
        if self.ref is not None:
            body["agent"] = self.ref
        else:
            # Shallow: only top-level keys are replaced below, and the body is encoded at once.
            config = dict(self.config or {})
            if output_schema is not None:
                config["output_schema"] = dict(output_schema)
                config["internal_tools"] = {**(config.get("internal_tools") or {}), "finish": True}
            body["agent_config"] = config
            body["agent_name"] = config.get("name")
        if context:
            body["context"] = dict(context)
        return body


def _flatten(tools: Iterable[ToolSource]) -> list[Tool | Mapping[str, Any]]:
    out: list[Tool | Mapping[str, Any]] = []
    for item in tools:
        if isinstance(item, Toolset):
            out.extend(item)
        else:
            out.append(item)
    return out


def _wire(item: Tool | Mapping[str, Any]) -> dict[str, Any]:
    return item.to_wire() if isinstance(item, Tool) else dict(item)


def _local_tools(tools: Iterable[ToolSource]) -> dict[str, Tool]:
    local: dict[str, Tool] = {}
    for item in _flatten(tools):
        thing = cast(object, item)  # callers without a type checker pass anything
        if isinstance(thing, Tool):
            if thing.name in local:
                raise ConfigurationError(f"two tools are named {thing.name!r}: rename one")
            local[thing.name] = thing
        elif not isinstance(thing, Mapping):
            raise ConfigurationError(
                f"tools takes @tool functions, tool objects or wire dicts, not"
                f" {type(thing).__name__}: decorate it with @tool"
            )
    return local
