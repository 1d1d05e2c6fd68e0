"""`ScriptedModel` and the `local/scripted` core app: model turns read from a script.

A script is a list of model turns, one per model call in a chat (the first call of every
chat gets the first turn): `{"text": "..."}` to answer, `{"tool_calls": [{"name": ...,
"arguments": {...}}]}` to call tools (text optional). Over the wire the script is
`core_app.input.script` of an agent whose `core_app.ref` is `local/scripted`; in Python a
`ScriptedModel` registered for any ref takes turns, or functions of the request that return a
turn (and may assert on what the model was given).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from inferencesh.local.models._base import (
    Emit,
    ModelError,
    ModelReply,
    ModelRequest,
    reply_from_turn,
    stream_reply,
)

__all__ = ["SCRIPTED_REF", "ScriptStep", "ScriptedModel", "WireScriptModel"]

SCRIPTED_REF = "local/scripted"
"""The core app ref whose turns come from `core_app.input.script`."""

ScriptStep: TypeAlias = Mapping[str, Any] | Callable[[ModelRequest], Mapping[str, Any]]
"""A turn (`{"text"...}` / `{"tool_calls"...}`), or a function of the request returning one."""


class WireScriptModel:
    """The `local/scripted` core app: turn `n` of a chat is `core_app.input.script[n]`."""

    async def complete(self, request: ModelRequest, emit: Emit) -> ModelReply:
        """The script's turn for this call of the chat.

        Raises:
            ModelError: no script, a malformed turn, or the script is used up.
        """
        script = request.settings.get("script")
        if not isinstance(script, list):
            raise ModelError(
                f"{SCRIPTED_REF} needs core_app.input.script: a list of model turns "
                '({"text": ...} or {"tool_calls": [...]})'
            )
        turns: list[Any] = script  # pyright: ignore[reportUnknownVariableType]
        index = request.call_index
        if index >= len(turns):
            raise ModelError(
                f"the script has {len(turns)} turn(s) and this is model call {index + 1} "
                "of the chat: add a turn"
            )
        turn = turns[index]
        if not isinstance(turn, Mapping):
            raise ModelError(f"script[{index}] must be an object")
        reply = reply_from_turn(turn, where=f"script[{index}]")  # pyright: ignore[reportUnknownArgumentType]
        stream_reply(reply, emit)
        return reply


class ScriptedModel:
    """A deterministic model for tests: turn `n` of every chat is `steps[n]`.

    Register it for a core app ref (`emu.models.register("me/llm", model)`), or as the
    emulator's default model, and every agent using that ref follows the script. Each step is
    a turn, or a function that gets the `ModelRequest` (messages, tool schemas, settings),
    may assert on it, and returns the turn. Every request is recorded in `requests`; a step
    that raised is kept in `errors` (the chat's run fails with its message), and `check()`
    re-raises it in the test.

    Example:
        ```python
        from inferencesh.testing import ScriptedModel, call, reply

        def answer(request):
            assert request.messages[-1].content == "18 degrees in Paris"
            return reply("It is 18 degrees.")

        model = ScriptedModel(call("get_weather", city="Paris"), answer)
        ```
    """

    def __init__(self, *steps: ScriptStep, stream: bool = True) -> None:
        self._lock = threading.Lock()
        self._steps: list[ScriptStep] = list(steps)
        self._stream = stream
        self.requests: list[ModelRequest] = []
        """Every request the model got, in order (all chats)."""
        self.errors: list[BaseException] = []
        """What steps raised (an assertion in a step function, a malformed turn)."""

    def extend(self, steps: Iterable[ScriptStep]) -> None:
        """Append steps to the script."""
        with self._lock:
            self._steps.extend(steps)

    @property
    def steps(self) -> Sequence[ScriptStep]:
        """The script."""
        with self._lock:
            return tuple(self._steps)

    def requests_of(self, chat_id: str) -> list[ModelRequest]:
        """The requests made for one chat, in order."""
        with self._lock:
            return [r for r in self.requests if r.chat_id == chat_id]

    def check(self) -> None:
        """Re-raise the first error a step raised (call it at the end of a test).

        Raises:
            BaseException: what the step raised, e.g. its `AssertionError`.
        """
        with self._lock:
            errors = list(self.errors)
        if errors:
            raise errors[0]

    async def complete(self, request: ModelRequest, emit: Emit) -> ModelReply:
        """The step for this call of the chat.

        Raises:
            ModelError: the script is used up, or a step failed (also kept in `errors`).
        """
        with self._lock:
            self.requests.append(request)
            index = request.call_index
            step = self._steps[index] if index < len(self._steps) else None
            total = len(self._steps)
        if step is None:
            error = ModelError(
                f"the script has {total} step(s) and this is model call {index + 1} of the "
                "chat: add a step"
            )
            self._record(error)
            raise error
        try:
            turn = step(request) if callable(step) else step
            reply = reply_from_turn(turn, where=f"step {index}")
        except Exception as exc:
            self._record(exc)
            if isinstance(exc, ModelError):
                raise
            raise ModelError(f"step {index} raised {type(exc).__name__}: {exc}") from exc
        if self._stream:
            stream_reply(reply, emit)
        return reply

    def _record(self, exc: BaseException) -> None:
        with self._lock:
            self.errors.append(exc)
