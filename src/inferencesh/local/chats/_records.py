"""What the emulator keeps per chat, and the DTOs clients see of it (agents.md §3).

Every record holds its DTO as a plain JSON dict, changed only by `ChatStore` under its lock.
The state machines live here as tables: a change not in the table is a 409
`invalid_transition`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inferencesh.local.chats._config import AgentConfig, ToolDef
from inferencesh.local.core._envelope import ApiError
from inferencesh.local.core._ids import TEAM_ID, USER_ID
from inferencesh.local.core._streams import Topic

__all__ = [
    "INVOCATION_TERMINAL",
    "RUN_TERMINAL",
    "Chat",
    "Invocation",
    "Run",
    "Step",
    "base_dto",
    "check_transition",
]

RUN_TERMINAL = frozenset({"completed", "failed", "canceled", "rejected"})
INVOCATION_TERMINAL = frozenset({"completed", "failed", "cancelled"})
MESSAGE_TERMINAL = frozenset({"ready", "failed", "cancelled"})

_RUN_MOVES: dict[str, frozenset[str]] = {
    "submitted": frozenset({"working", "failed", "canceled"}),
    "working": frozenset({"input_required", "completed", "failed", "canceled"}),
    "input_required": frozenset({"working", "completed", "failed", "canceled"}),
}
_INVOCATION_MOVES: dict[str, frozenset[str]] = {
    "pending": frozenset(
        {"in_progress", "awaiting_input", "awaiting_approval", "failed", "cancelled"}
    ),
    "awaiting_approval": frozenset({"awaiting_input", "in_progress", "failed", "cancelled"}),
    "awaiting_input": frozenset({"completed", "failed", "cancelled"}),
    "in_progress": frozenset({"completed", "failed", "cancelled"}),
}
_INTERRUPT_MOVES: dict[str, frozenset[str]] = {
    "pending": frozenset({"resolved", "expired", "cancelled"}),
}
_TABLES = {"run": _RUN_MOVES, "tool invocation": _INVOCATION_MOVES, "interrupt": _INTERRUPT_MOVES}


def check_transition(what: str, ident: str, current: str, target: str) -> None:
    """Refuse a move the state machine of `what` does not allow.

    Raises:
        ApiError: 409 `invalid_transition`, saying where the resource is.
    """
    if target not in _TABLES[what].get(current, frozenset()):
        raise ApiError(
            409,
            "invalid_transition",
            f"{what} {ident} is {current}; it cannot become {target}",
            extra={"current_status": current},
        )


def base_dto(ident: str, prefix: str, now: str) -> dict[str, Any]:
    """The fields every DTO has (BaseModel + Permission)."""
    return {
        "id": ident,
        "short_id": ident.removeprefix(prefix + "_")[:8],
        "created_at": now,
        "updated_at": now,
        "user_id": USER_ID,
        "team_id": TEAM_ID,
        "visibility": "private",
    }


@dataclass(eq=False, kw_only=True)
class Step:
    """One model call of a run and the tool calls it made."""

    message_id: str
    invocations: list[str] = field(default_factory=list[str])
    finish_output: Any = None
    finished: bool = False
    """The `finish` tool succeeded in this step: the run ends with its output."""


@dataclass(eq=False, kw_only=True)
class Run:
    """An agent run: one user message and everything the agent did for it."""

    dto: dict[str, Any]
    chat_id: str
    pending_message: str | None
    """The assistant message the next model call fills (created `pending`)."""
    base_url: str = ""
    steps: int = 0
    step: Step | None = None
    stream_opens_at_start: int = 0

    @property
    def id(self) -> str:
        """The run's id."""
        return str(self.dto["id"])

    @property
    def state(self) -> str:
        """`submitted`, `working`, `input_required`, or a terminal state."""
        return str(self.dto["state"])

    @property
    def active(self) -> bool:
        """Not ended yet."""
        return self.state not in RUN_TERMINAL


@dataclass(eq=False, kw_only=True)
class Invocation:
    """A tool call being run (ToolInvocationDTO), and the tool it calls."""

    dto: dict[str, Any]
    tool: ToolDef | None
    """None for a tool the agent does not have (the invocation fails)."""
    chat_id: str
    run_id: str
    message_id: str
    interrupt_id: str | None = None

    @property
    def id(self) -> str:
        """The invocation's id (what `/tools/{id}` takes)."""
        return str(self.dto["id"])

    @property
    def status(self) -> str:
        """The invocation's status."""
        return str(self.dto["status"])


@dataclass(eq=False, kw_only=True)
class Chat:
    """A chat: its DTO fields, config, messages, runs and live streams."""

    dto: dict[str, Any]
    config: AgentConfig
    seq: int
    messages: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    runs: list[Run] = field(default_factory=list[Run])
    interrupts: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    children: list[str] = field(default_factory=list[str])
    topic: Topic = field(default_factory=Topic)
    model_calls: int = 0
    delta_seq: int = 0
    stream_opens: int = 0
    stream_opens_at_last_end: int = 0
    """`stream_opens` when the chat's last run ended: a stream still open from before then
    follows an earlier turn (its client may have left without the server noticing yet)."""

    @property
    def id(self) -> str:
        """The chat's id."""
        return str(self.dto["id"])

    @property
    def last_run(self) -> Run | None:
        """The latest run (`active_run` on the wire, ended or not)."""
        return self.runs[-1] if self.runs else None

    @property
    def busy(self) -> bool:
        """A run has not ended."""
        run = self.last_run
        return run is not None and run.active

    def status(self) -> str:
        """ChatStatus derived from the run, as the JS SDK's reducer maps it."""
        run = self.last_run
        if run is None or not run.active:
            return "idle"
        return "awaiting_input" if run.state == "input_required" else "busy"

    def pending_interrupts(self) -> list[dict[str, Any]]:
        """Interrupts still waiting for an answer."""
        return [dict(i) for i in self.interrupts if i["status"] == "pending"]
