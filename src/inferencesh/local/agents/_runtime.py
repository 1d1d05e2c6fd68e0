"""`AgentRuntime`: the emulator's chats, models, templates and turn engine, wired together."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import TypeAdapter
from starlette.routing import BaseRoute

from inferencesh.local.agents._templates import AgentTemplate, AgentTemplates, to_config
from inferencesh.local.apps._registry import AppRegistry, parse_ref
from inferencesh.local.chats._config import AgentConfig, parse_agent_config
from inferencesh.local.chats._engine import TurnEngine
from inferencesh.local.chats._routes import chat_routes
from inferencesh.local.chats._service import ChatService
from inferencesh.local.chats._store import ChatStore
from inferencesh.local.chats._tools import ServerTools
from inferencesh.local.core._envelope import ApiError
from inferencesh.local.core._ids import Clock
from inferencesh.local.core._streams import StreamSettings
from inferencesh.local.models._registry import ModelRegistry
from inferencesh.local.tasks._service import TaskService
from inferencesh.local.tasks._state import TaskStore

__all__ = ["AgentRuntime"]

_ANY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


class AgentRuntime:
    """Everything agents need on one emulator."""

    def __init__(
        self,
        *,
        clock: Clock,
        apps: AppRegistry,
        tasks: TaskService,
        task_store: TaskStore,
        secrets: Mapping[str, str],
        on_change: Callable[[], None],
        max_chats: int,
        max_stream_buffer: int | None = None,
        stream_wait: float,
        allow_api_key_approvals: bool,
    ) -> None:
        self.apps = apps
        self.allow_api_key_approvals = allow_api_key_approvals
        self.models = ModelRegistry()
        self.templates = AgentTemplates()
        self.store = ChatStore(clock=clock, max_chats=max_chats, on_change=on_change)
        self.store.max_stream_buffer = max_stream_buffer
        self.engine = TurnEngine(
            store=self.store,
            models=self.models,
            resolve_agent=self.resolve,
            stream_wait=stream_wait,
        )
        self.engine.tools = ServerTools(
            store=self.store,
            tasks=tasks,
            task_store=task_store,
            secrets=secrets,
            run_child=self.engine.run_child,
        )
        self.service = ChatService(
            store=self.store,
            engine=self.engine,
            resolve_agent=self.resolve,
            app_schema=self.app_schema,
            approvals_allowed=lambda: self.allow_api_key_approvals,
        )

    def routes(self, settings: StreamSettings) -> list[BaseRoute]:
        """The HTTP routes of agents and chats."""
        return chat_routes(self.service, settings)

    def add_template(
        self, ref: str, config: Mapping[str, Any] | Any, version: str
    ) -> AgentTemplate:
        """Register an agent template (checked now).

        Raises:
            ValueError: `ref` is not `namespace/name`, or the config is invalid.
        """
        try:
            name, _version, function = parse_ref(ref)
        except ValueError as exc:
            raise ValueError(f"an agent ref looks like namespace/name, got {ref!r}") from exc
        if function is not None or name != ref.split("@", 1)[0]:
            raise ValueError(f"register an agent as namespace/name (no version), got {ref!r}")
        template = AgentTemplate(ref=name, version=version, config=to_config(config))
        try:
            parse_agent_config(template.config, where=f"agent {name}", app_schema=self.app_schema)
        except ApiError as exc:
            raise ValueError(exc.detail) from exc
        self.templates.add(template)
        return template

    def resolve(self, ref: str) -> tuple[AgentConfig, dict[str, Any]]:
        """A template's config and the chat's agent fields.

        Raises:
            ApiError: 404 for an unknown agent.
        """
        template = self.templates.get(ref)
        if template is None:
            raise ApiError(404, "not_found", f"agent {ref} not found")
        config = parse_agent_config(
            template.config, where=f"agent {template.ref}", app_schema=self.app_schema
        )
        return config, template.agent_fields()

    def app_schema(self, ref: str) -> dict[str, Any]:
        """An app's input schema for the model (an object schema; any object if unknown)."""
        try:
            name, _version, function = parse_ref(ref)
        except ValueError:
            return dict(_ANY_OBJECT)
        app = self.apps.get(name)
        if app is None:
            return dict(_ANY_OBJECT)
        spec = app.functions.get(function or "run") or next(iter(app.functions.values()))
        validator: TypeAdapter[Any] | None = spec.validator
        if validator is None:
            return dict(_ANY_OBJECT)
        try:
            schema = validator.json_schema()
        except Exception:  # a type pydantic cannot describe: the model gets any object
            return dict(_ANY_OBJECT)
        return schema if schema.get("type") == "object" else dict(_ANY_OBJECT)

    def close(self) -> None:
        """Stop every turn and end the chat streams."""
        self.engine.close()
        self.store.close_streams()
