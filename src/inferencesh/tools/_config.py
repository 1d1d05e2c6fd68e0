"""Agent-config pieces next to `tools`: `internal_tools` flags and `skills` entries."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Literal, Self, TypeAlias

from ._json import JSONObject

__all__ = ["InternalTools", "Skill", "internal_tools"]

InternalTool: TypeAlias = Literal[
    "plan",
    "memory",
    "widget",
    "finish",
    "skills",
    "meta",
    "artifact",
    "spawn",
    "agent",
    "remote",
    "knowledge",
    "wait",
    "host_context",
]
_ALL_FOUR = ("plan", "memory", "widget", "finish")


class InternalTools:
    """The server's built-in tools to switch on or off (`agent_config.internal_tools`).

    Immutable: every method returns a new value. Only flags you set are sent; the server
    decides the rest (e.g. `skills` is on by default). Web search, code execution and image
    generation are not internal tools in the protocol: add them as `app_tool`s.
    """

    __slots__ = ("_flags",)

    def __init__(self, flags: dict[str, bool] | None = None) -> None:
        self._flags: dict[str, bool] = dict(flags or {})

    def _set(self, key: InternalTool, enabled: bool) -> Self:
        return type(self)({**self._flags, key: enabled})

    def plan(self, enabled: bool = True) -> Self:
        """Plan tools (create, update, load a plan)."""
        return self._set("plan", enabled)

    def memory(self, enabled: bool = True) -> Self:
        """Memory tools (set, get, get_all)."""
        return self._set("memory", enabled)

    def widget(self, enabled: bool = True) -> Self:
        """UI/HTML widget tools (top-level agents only)."""
        return self._set("widget", enabled)

    def finish(self, enabled: bool = True) -> Self:
        """The finish tool that returns structured output (sub-agents, `output_schema`)."""
        return self._set("finish", enabled)

    def skills(self, enabled: bool = True) -> Self:
        """`skill_get` for the configured skills (on by default on the server)."""
        return self._set("skills", enabled)

    def meta(self, enabled: bool = True) -> Self:
        """search_tools / list_tools / execute_tool."""
        return self._set("meta", enabled)

    def artifact(self, enabled: bool = True) -> Self:
        """Publish HTML/Markdown pages."""
        return self._set("artifact", enabled)

    def spawn(self, enabled: bool = True) -> Self:
        """Spawn tool (JS SDK 0.6.54)."""
        return self._set("spawn", enabled)

    def agent(self, enabled: bool = True) -> Self:
        """Run a copy of this agent on a side task."""
        return self._set("agent", enabled)

    def remote(self, enabled: bool = True) -> Self:
        """Commands on the user's connected remotes."""
        return self._set("remote", enabled)

    def knowledge(self, enabled: bool = True) -> Self:
        """Search, read, save and delete skills and knowledge."""
        return self._set("knowledge", enabled)

    def wait(self, enabled: bool = True) -> Self:
        """The wait tool."""
        return self._set("wait", enabled)

    def all(self) -> Self:
        """plan, memory, widget and finish on (the JS builder's `all()`)."""
        return type(self)({**self._flags, **dict.fromkeys(_ALL_FOUR, True)})

    def none(self) -> Self:
        """plan, memory, widget and finish off (the JS builder's `none()`)."""
        return type(self)({**self._flags, **dict.fromkeys(_ALL_FOUR, False)})

    def to_wire(self) -> JSONObject:
        """The `internal_tools` object: only the flags that were set."""
        return dict(self._flags)

    build = to_wire
    """Alias of `to_wire()` for code ported from the JS builder."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InternalTools) and other._flags == self._flags

    def __hash__(self) -> int:
        return hash(frozenset(self._flags.items()))

    def __repr__(self) -> str:
        flags = ", ".join(f"{k}={v}" for k, v in self._flags.items())
        return f"internal_tools({flags})"


def internal_tools(
    *,
    plan: bool | None = None,
    memory: bool | None = None,
    widget: bool | None = None,
    finish: bool | None = None,
    skills: bool | None = None,
    meta: bool | None = None,
    artifact: bool | None = None,
    spawn: bool | None = None,
    agent: bool | None = None,
    remote: bool | None = None,
    knowledge: bool | None = None,
    wait: bool | None = None,
    host_context: bool | None = None,
) -> InternalTools:
    """Internal tool flags: `internal_tools(plan=True)` or `internal_tools().plan()`.

    Both forms give the same `InternalTools`. `host_context` is deprecated and ignored by the
    server.
    """
    given = {
        "plan": plan,
        "memory": memory,
        "widget": widget,
        "finish": finish,
        "skills": skills,
        "meta": meta,
        "artifact": artifact,
        "spawn": spawn,
        "agent": agent,
        "remote": remote,
        "knowledge": knowledge,
        "wait": wait,
        "host_context": host_context,
    }
    return InternalTools({k: v for k, v in given.items() if v is not None})


@dataclass(frozen=True, slots=True)
class Skill:
    """A skill the agent can read (`agent_config.skills[]`).

    Its text is inline markdown (`content=`), fetched from `url=`, or a stored skill
    (`skill_id=`/`version_id=`).

    Raises:
        ValueError: No source, or more than one of `content`, `url`, `skill_id`/`version_id`.
    """

    name: str
    description: str
    _: KW_ONLY
    content: str | None = None
    """Inline markdown."""
    url: str | None = None
    """Where the server fetches the markdown from."""
    skill_id: str | None = None
    version_id: str | None = None
    preload: bool | None = None
    """Inject the skill up front instead of on request."""

    def __post_init__(self) -> None:
        sources = [
            s
            for s, given in (
                ("content", self.content is not None),
                ("url", self.url is not None),
                ("skill_id/version_id", self.skill_id is not None or self.version_id is not None),
            )
            if given
        ]
        if len(sources) != 1:
            found = " and ".join(sources) if sources else "none"
            raise ValueError(
                f"Skill {self.name!r} needs exactly one of content=, url= or skill_id="
                f" (got {found})"
            )
        if not self.name:
            raise ValueError("Skill name is empty")

    def to_wire(self) -> JSONObject:
        """The `skills[]` entry: name, description and the keys that were set."""
        out: JSONObject = {"name": self.name, "description": self.description}
        for key in ("skill_id", "version_id", "url", "content", "preload"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out
