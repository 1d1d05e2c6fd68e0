"""`TurnEngine`: carries agent turns forward on the agent runtime's loop.

A run starts `submitted`. The engine waits (up to `stream_wait` seconds) for a client to
follow the chat's stream, since clients open it after `POST /agents/run` returns and would
otherwise miss the turn; then the run is `working` and the model is called. The store
records each reply and says what to start: server tools, approval timers, or the next model
call once every tool call of the step has ended. Client tool results and approvals arrive
over HTTP; the store's answer to those is handed here the same way (`carry_out`).

Stopping a chat cancels what runs for its run: the model call, server tools (an app tool's
task is cancelled too), a sub-agent's chat (stopped as well).
"""

from __future__ import annotations

import contextlib
import json
import logging
import typing
from collections.abc import Callable, Iterator
from typing import Any

import anyio

from inferencesh.local.chats._config import AgentConfig
from inferencesh.local.chats._store import ChatStore, Followup, Plan
from inferencesh.local.core._envelope import ApiError
from inferencesh.local.core._json import NotJSONError, to_json_value
from inferencesh.local.core._loop import BackgroundLoop
from inferencesh.local.models._base import ModelError, ModelReply
from inferencesh.local.models._registry import ModelRegistry

__all__ = ["AgentResolver", "TurnEngine"]

AgentResolver = Callable[[str], tuple[AgentConfig, dict[str, Any]]]
"""A template ref → its config and the chat's agent fields (raises ApiError 404)."""

_log = logging.getLogger("inferencesh.local.agents")


class TurnEngine:
    """Runs the turns of one emulator's chats."""

    def __init__(
        self,
        *,
        store: ChatStore,
        models: ModelRegistry,
        resolve_agent: AgentResolver,
        stream_wait: float = 0.3,
        max_steps: int = 50,
    ) -> None:
        self._store = store
        self._models = models
        self._resolve_agent = resolve_agent
        self.stream_wait = stream_wait
        """Seconds a new run waits for a client to follow the chat before the model runs."""
        self.max_steps = max_steps
        """Model calls one run may make (a loop of tool calls ends the run as failed)."""
        self._loop = BackgroundLoop("inferencesh-emulator-agents")
        self.tools: Any = None
        """The `ServerTools` (set once they exist: they need `run_child`)."""
        # Touched only on the loop's thread:
        self._scopes: dict[str, set[anyio.CancelScope]] = {}
        self._stream_waiters: dict[str, anyio.Event] = {}
        self._run_waiters: dict[str, anyio.Event] = {}
        store.on_stream_open = lambda chat_id: self._loop.spawn(self._stream_opened, chat_id)
        store.on_run_end = lambda run_id: self._loop.spawn(self._run_ended, run_id)

    # -- from any thread -------------------------------------------------------------------

    def start(self, run_id: str, *, wait_for_stream: bool = True) -> None:
        """Start a run created by `ChatStore.open_turn`."""
        self._loop.spawn(self._start, run_id, wait_for_stream)

    def carry_out(self, outcome: Plan | Followup | None) -> None:
        """Start what a store change asked for (tools, timers, the next model call)."""
        if isinstance(outcome, Followup):
            self._loop.spawn(self._step, outcome.run_id)
        elif isinstance(outcome, Plan):
            for invocation_id in outcome.server:
                self._loop.spawn(self._tool, invocation_id)
            for invocation_id, seconds in outcome.timeouts:
                self._loop.spawn(self._approval_timer, invocation_id, seconds)
            if outcome.followup is not None:
                self._loop.spawn(self._step, outcome.followup.run_id)

    def stopped(self, run_id: str) -> None:
        """Cancel whatever still runs for a run the store has ended."""
        self._loop.spawn(self._cancel, run_id)

    def close(self) -> None:
        """Cancel every turn and stop the loop (it starts again when needed)."""
        self._loop.close()

    # -- on the loop -----------------------------------------------------------------------

    @contextlib.contextmanager  # pyright: ignore[reportDeprecated]
    def _scope(self, run_id: str) -> Iterator[anyio.CancelScope]:
        with anyio.CancelScope() as scope:
            self._scopes.setdefault(run_id, set()).add(scope)
            try:
                yield scope
            finally:
                scopes = self._scopes.get(run_id)
                if scopes is not None:
                    scopes.discard(scope)
                    if not scopes:
                        del self._scopes[run_id]

    async def _cancel(self, run_id: str) -> None:
        self._cancel_scopes(run_id)

    def _cancel_scopes(self, run_id: str) -> None:
        for scope in self._scopes.pop(run_id, set()):
            scope.cancel()

    async def _stream_opened(self, chat_id: str) -> None:
        waiter = self._stream_waiters.pop(chat_id, None)
        if waiter is not None:
            waiter.set()

    async def _run_ended(self, run_id: str) -> None:
        waiter = self._run_waiters.pop(run_id, None)
        if waiter is not None:
            waiter.set()
        await self._cancel(run_id)

    async def _start(self, run_id: str, wait_for_stream: bool) -> None:
        info = self._store.run_info(run_id)
        if info is None:
            return
        chat_id = info[0]
        if wait_for_stream and self.stream_wait > 0 and not self._store.stream_seen(run_id):
            waiter = self._stream_waiters[chat_id] = anyio.Event()
            if not self._store.stream_seen(run_id):  # a stream may have opened meanwhile
                with anyio.move_on_after(self.stream_wait):
                    await waiter.wait()
            self._stream_waiters.pop(chat_id, None)
        if self._store.begin(run_id):
            await self._step(run_id)

    async def _step(self, run_id: str) -> None:
        call = self._store.prepare_step(run_id, self.max_steps)
        if call is None:
            return
        model = self._models.resolve(call.request.ref)

        def emit(delta: dict[str, Any]) -> None:
            try:
                self._store.delta(run_id, call.message_id, to_json_value(dict(delta)))
            except NotJSONError:
                _log.warning("dropped a delta that is not JSON: %r", delta)

        reply: object = None
        with self._scope(run_id):
            try:
                # `object`: a user's model may return anything, and a stop leaves it None.
                reply = typing.cast(object, await model.complete(call.request, emit))
            except ModelError as exc:
                self._store.fail_run(run_id, str(exc) or "the model failed")
                return
            except Exception as exc:  # a model's bug fails its run, not the emulator
                _log.exception("model for %s failed", call.request.ref)
                self._store.fail_run(run_id, f"the model raised {type(exc).__name__}: {exc}")
                return
        if reply is None:
            return  # cancelled: the chat was stopped
        if not isinstance(reply, ModelReply):
            self._store.fail_run(
                run_id, f"the model returned {type(reply).__name__}, not a ModelReply"
            )
            return
        self.carry_out(self._store.apply_reply(run_id, call.message_id, reply))

    async def _tool(self, invocation_id: str) -> None:
        info = self._store.invocation_info(invocation_id)
        if info is None:
            return
        outcome: Followup | None = None
        with self._scope(info[0].run_id):
            try:
                outcome = await self.tools.run(invocation_id)
            except Exception as exc:  # an emulator bug fails the call, not the run forever
                _log.exception("tool invocation %s failed", invocation_id)
                why = f"the emulator could not run this tool: {type(exc).__name__}: {exc}"
                outcome = self._store.finish_server_tool(invocation_id, False, why)
        self.carry_out(outcome)

    async def _approval_timer(self, invocation_id: str, seconds: float) -> None:
        await anyio.sleep(seconds)
        self.carry_out(self._store.expire_approval(invocation_id, seconds))

    async def run_child(
        self, agent_ref: str, message: str, parent_id: str, base_url: str, invocation_id: str
    ) -> tuple[bool, str]:
        """Run a sub-agent as a child chat of `parent_id`; `(ok, its answer or the error)`.

        The call names the child chat as its `execution_id`, so a client following the
        parent chat knows which of its calls the child chat answers.
        """
        try:
            config, agent = self._resolve_agent(agent_ref)
            _user, _assistant, run_id = self._store.open_turn(
                chat_id=None,
                config=config,
                agent=agent,
                context=None,
                content=[{"type": "text", "text": message}],
                base_url=base_url,
                parent_id=parent_id,
                invocation_id=invocation_id,
            )
        except ApiError as exc:
            return False, exc.detail
        done = self._run_waiters[run_id] = anyio.Event()
        try:
            await self._start(run_id, False)
            run = self._store.run_dto(run_id)
            if run is not None and run["state"] in ("submitted", "working", "input_required"):
                await done.wait()
        except anyio.get_cancelled_exc_class():
            child = self._store.run_info(run_id)
            if child is not None and self._store.stop(child[0]) is not None:
                self._cancel_scopes(run_id)
            raise
        finally:
            self._run_waiters.pop(run_id, None)
        state, result, error = self._store.last_answer(run_id)
        if state != "completed":
            return False, f"the sub-agent {agent_ref} {state}: {error or 'no answer'}"
        return True, result if isinstance(result, str) else json.dumps(result)
