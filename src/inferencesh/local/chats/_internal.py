"""The internal tools the emulator runs itself: plan, memory, skills and finish.

Each works on the chat's `agent_data` (`plan_steps`, `memory`) or answers from the config;
`finish` hands back the output that ends the run (`chat.output`). The emulator does not
validate `finish`'s arguments against `output_schema`: clients validate `chat.output`, and
tests can then script output that does not fit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["InternalResult", "run_internal"]

_PLAN_STATUSES = ("pending", "in_progress", "completed", "skipped", "failed")


@dataclass(frozen=True, kw_only=True)
class InternalResult:
    """What an internal tool did: its result text, and for `finish` the run's output."""

    ok: bool
    result: str
    finished: bool = False
    output: Any = None


def _ok(value: Any) -> InternalResult:
    return InternalResult(ok=True, result=value if isinstance(value, str) else json.dumps(value))


def _error(message: str) -> InternalResult:
    return InternalResult(ok=False, result=message)


def run_internal(
    operation: str,
    arguments: Mapping[str, Any],
    agent_data: dict[str, Any],
    skills: Sequence[Mapping[str, Any]],
) -> InternalResult:
    """Run one internal tool on `agent_data` (changed in place)."""
    if operation == "finish":
        return InternalResult(ok=True, result="Finished.", finished=True, output=dict(arguments))
    if operation.startswith("plan_"):
        return _plan(operation, arguments, agent_data.setdefault("plan_steps", []))
    if operation.startswith("memory_"):
        return _memory(operation, arguments, agent_data.setdefault("memory", {}))
    if operation == "skill_get":
        name = arguments.get("name")
        for skill in skills:
            if skill.get("name") == name:
                content = skill.get("content")
                if isinstance(content, str):
                    return _ok(content)
                return _error(f"skill {name!r} has no inline content in the emulator")
        return _error(f"no skill named {name!r}")
    return _error(f"unknown internal tool {operation!r}")


def _plan(
    operation: str, arguments: Mapping[str, Any], steps: list[dict[str, Any]]
) -> InternalResult:
    if operation == "plan_load":
        return _ok({"steps": steps})
    if operation == "plan_create":
        raw = arguments.get("steps")
        if not isinstance(raw, list) or not raw:
            return _error("plan_create needs steps: a non-empty list of {title, description}")
        new: list[dict[str, Any]] = []
        for index, item in enumerate(raw):  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
            entry: Mapping[str, Any] = item if isinstance(item, Mapping) else {"title": str(item)}  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
            new.append(
                {
                    "index": index,
                    "title": str(entry.get("title", "")),
                    "description": str(entry.get("description", "")),
                    "status": "pending",
                }
            )
        steps[:] = new
        return _ok({"steps": steps})
    index = arguments.get("index")
    status = arguments.get("status")
    if not isinstance(index, int) or not 0 <= index < len(steps):
        return _error(f"plan_update: no step {index!r} (the plan has {len(steps)})")
    if status not in _PLAN_STATUSES:
        return _error(f"plan_update: status must be one of {', '.join(_PLAN_STATUSES)}")
    step = dict(steps[index], status=status)
    if isinstance(arguments.get("notes"), str):
        step["notes"] = arguments["notes"]
    steps[index] = step
    return _ok(step)


def _memory(operation: str, arguments: Mapping[str, Any], memory: dict[str, Any]) -> InternalResult:
    if operation == "memory_get_all":
        return _ok(dict(memory))
    key = arguments.get("key")
    if not isinstance(key, str) or not key:
        return _error(f"{operation} needs a key")
    if operation == "memory_set":
        memory[key] = arguments.get("value")
        return _ok(f"Remembered {key}.")
    if key not in memory:
        return _error(f"nothing is remembered under {key!r}")
    return _ok(memory[key])
