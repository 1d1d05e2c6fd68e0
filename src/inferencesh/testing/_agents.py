"""Scripts for agents: model turns as the `local/scripted` core app and `ScriptedModel` take them.

A turn is plain JSON, so the same helpers build a Python `ScriptedModel`'s steps and the
`core_app.input.script` a client sends over the wire.
"""

from __future__ import annotations

from typing import Any

__all__ = ["call", "calls", "reply", "scripted_core_app"]

SCRIPTED_REF = "local/scripted"


def reply(text: str) -> dict[str, Any]:
    """A model turn that answers with `text` (and ends the run)."""
    return {"text": text}


def call(name: str, /, **arguments: Any) -> dict[str, Any]:
    """A model turn that calls one tool: `call("get_weather", city="Paris")`."""
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def calls(*turns: dict[str, Any], text: str = "") -> dict[str, Any]:
    """One model turn making several tool calls at once (each made with `call`), with text."""
    merged = [c for turn in turns for c in turn.get("tool_calls", [])]
    out: dict[str, Any] = {"tool_calls": merged}
    if text:
        out["text"] = text
    return out


def scripted_core_app(*turns: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """The `core_app` of an agent whose model calls follow `turns` (one per model call).

    Example:
        ```python
        agent = client.agent(
            core_app=scripted_core_app(call("get_weather", city="Paris"), reply("Sunny.")),
            tools=[get_weather],
        )
        ```

    Args:
        turns: The model's turns, in order, for every chat of the agent.
        settings: Other LLM settings to send in `core_app.input`.
    """
    return {"ref": SCRIPTED_REF, "input": {**settings, "script": list(turns)}}
