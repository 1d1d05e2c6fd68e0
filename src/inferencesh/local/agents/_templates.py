"""Agent templates: agents registered on the emulator, served as `agent: "ns/name@version"`."""

from __future__ import annotations

import hashlib
import threading
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inferencesh.local.apps._registry import parse_ref
from inferencesh.local.models._base import json_object

__all__ = ["AgentTemplate", "AgentTemplates", "to_config"]


@dataclass(frozen=True, kw_only=True)
class AgentTemplate:
    """A registered agent: its ref, version and `AgentConfigInput`."""

    ref: str
    """`namespace/name`; requests may add any `@version` (or `@latest`)."""
    version: str
    config: dict[str, Any]

    @property
    def agent_id(self) -> str:
        """The agent's id (stable for its ref)."""
        return "agt_" + hashlib.sha256(self.ref.encode()).hexdigest()[:12]

    @property
    def version_id(self) -> str:
        """The version's id."""
        return "agv_" + hashlib.sha256(f"{self.ref}@{self.version}".encode()).hexdigest()[:12]

    def agent_fields(self) -> dict[str, Any]:
        """The chat's agent fields (`agent_id`, `agent_version_id`, `agent`)."""
        namespace, name = self.ref.split("/", 1)
        return {
            "agent_id": self.agent_id,
            "agent_version_id": self.version_id,
            "agent": {
                "id": self.agent_id,
                "namespace": namespace,
                "name": name,
                "version": self.version,
            },
        }


def to_config(config: Mapping[str, Any] | Any) -> dict[str, Any]:
    """A config as JSON: a mapping, or a model (`model_dump`).

    Tools may be `@tool` objects (their `to_wire()` is sent) or `AgentTool` dicts.
    """
    dump = getattr(config, "model_dump", None)
    plain = json_object(dump(mode="json", exclude_none=True) if callable(dump) else config)
    if plain is None:
        raise TypeError(f"an agent config is a mapping, got {type(config).__name__}")
    out = {k: v for k, v in plain.items() if v is not None}
    tools: Any = out.get("tools")
    if isinstance(tools, list | tuple):
        out["tools"] = [_wire(t) for t in typing.cast(list[Any], tools)]
    core = out.get("core_app")
    if isinstance(core, str):
        out["core_app"] = {"ref": core}
    return out


def _wire(tool: Any) -> Any:
    to_wire = getattr(tool, "to_wire", None)
    return to_wire() if callable(to_wire) else tool


class AgentTemplates:
    """The registered agents, by ref (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._templates: dict[str, AgentTemplate] = {}

    def add(self, template: AgentTemplate) -> None:
        """Register (or replace) a template."""
        with self._lock:
            self._templates[template.ref] = template

    def get(self, ref: str) -> AgentTemplate | None:
        """The template `ref` names (`ns/name[@version]`, or an agent id)."""
        with self._lock:
            for template in self._templates.values():
                if ref == template.agent_id:
                    return template
        try:
            name, _version, _function = parse_ref(ref)
        except ValueError:
            return None
        with self._lock:
            return self._templates.get(name)

    def __iter__(self) -> Any:
        with self._lock:
            return iter(list(self._templates.values()))
