# Generated from _async/agents.py by scripts/unasync.py: edit that file, not this one.
"""Agents: chat with an agent that calls your tools here, as the turn streams (sync).

Every turn takes one path, `TurnDriver.produce` (`_turn.py`): post the message, follow the
chat, turn what it sees into events, and run each job it asks for (a tool call, an approval),
posting each result exactly once. `send_message`, `stream`, `run` and `resume` all go through
it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from typing_extensions import Unpack

from inferencesh._protocol import chats as api
from inferencesh._sync import _io as io
from inferencesh._sync._http import HTTP
from inferencesh._sync._turn import TurnDriver, TurnState
from inferencesh._sync.files import Files
from inferencesh._types import NOT_GIVEN, NotGiven
from inferencesh.agent.dispatch import Approver
from inferencesh.agent.events import AgentEvent
from inferencesh.agent.output import output_schema, read_output
from inferencesh.agent.reply import AgentReply, reply_of
from inferencesh.errors import UsageError
from inferencesh.models.chat import Chat
from inferencesh.tools import FunctionTool, ToolOptionArgs, tool
from inferencesh.tools._result import result_text

if TYPE_CHECKING:
    from inferencesh.agent.config import AgentSpec

__all__ = ["Agent", "AgentStream"]

M = TypeVar("M")

DEFAULT_MAX_CONCURRENT_TOOLS = 8
"""Tool calls of one turn running at once, by default."""


class AgentStream:
    """The events of one turn as they happen, ending with `TurnFinished`.

    Use it as a context manager: leaving it early (a `break`, an exception, a cancellation)
    stops the local work and the agent's run, unless the stream was opened with `detach=True`.

        with agent.stream("What's the weather in Paris?") as events:
            for event in events:
                if event.type == "message.delta":
                    print(event.text, end="")
    """

    def __init__(self, driver: TurnDriver, state: TurnState, *, detach: bool) -> None:
        self._driver = driver
        self._state = state
        self._pump = io.EventPump[AgentEvent](
            lambda outlet: driver.produce(outlet, state),
            on_abandon=None if detach else driver.abandon,
            deadline=state.deadline,
        )

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> AgentEvent:
        event = next(self._pump)
        parent = self._state.parent
        if parent is not None:
            parent.outlet.emit(event)  # a nested agent: the calling turn sees it too
        return event

    def finish(self) -> None:
        """Run the rest of the turn without reading its events (then `reply()` gives its end).

        Inside the `with` block: the events not read yet are dropped (a calling turn, for a
        nested agent, still sees them), the tools still run, and the turn goes to its end; a
        failure of the turn is raised as the block exits.
        """
        parent = self._state.parent
        self._pump.drain(parent.outlet.emit if parent is not None else None)

    def __enter__(self) -> Self:
        self._pump.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return self._pump.__exit__(exc_type, exc, tb)

    @property
    def chat_id(self) -> str | None:
        """The chat of this turn (known once the message was posted)."""
        return self._driver.chat_id

    def reply(self) -> AgentReply:
        """The turn's answer, messages and tool calls (so far, if it has not ended).

        Raises:
            UsageError: Nothing of the turn was seen yet.
        """
        turn = self._state.turn
        if turn is None:
            raise UsageError("the turn has not started: iterate the stream first")
        return reply_of(turn)


class Agent:
    """An agent to chat with; it calls your tools here when its model asks for them.

    Made by `client.agent(...)`. Each message continues the same chat (`chat_id`); `reset()`
    starts a new one.

    Example:
        ```python
        agent = client.agent(core_app="infsh/claude-haiku-45@latest", tools=[get_weather])
        reply = agent.send_message("What's the weather in Paris?")
        print(reply.text)
        ```
    """

    def __init__(
        self,
        http: HTTP,
        files: Files,
        spec: AgentSpec,
        *,
        client: Any = None,
        chat_id: str | None = None,
        approve: Approver | None = None,
        approval_timeout: float | None = None,
        max_concurrent_tools: int = DEFAULT_MAX_CONCURRENT_TOOLS,
        mask_error_details: bool = False,
    ) -> None:
        if max_concurrent_tools < 1:
            raise ValueError(f"max_concurrent_tools must be >= 1, got {max_concurrent_tools}")
        self._http = http
        self._files = files
        self._spec = spec
        self._client = client
        self._approve = approve
        self._approval_timeout = approval_timeout
        self._max_tools = max_concurrent_tools
        self._mask = mask_error_details
        self._turns = TurnDriver(
            http,
            files,
            spec,
            client=client,
            chat_id=chat_id,
            approval_timeout=approval_timeout,
            max_concurrent_tools=max_concurrent_tools,
            mask_error_details=mask_error_details,
        )
        io.sync_only(_callables(spec, approve))

    @property
    def chat_id(self) -> str | None:
        """The chat this agent talks in (None until the first message, and after `reset()`)."""
        return self._turns.chat_id

    @property
    def name(self) -> str:
        """The agent's name, as its events carry it."""
        return self._spec.name

    def __repr__(self) -> str:
        return f"<Agent {self.name!r} chat={self.chat_id!r}>"

    def send_message(
        self,
        text: str,
        *,
        files: Sequence[Any] = (),
        approve: Approver | None | NotGiven = NOT_GIVEN,
        context: Mapping[str, str] | None = None,
        wait_timeout: float | None = None,
    ) -> AgentReply:
        """Send a message and wait for the turn to end, running tools as the model calls them.

        Args:
            text: The message.
            files: Attachments: paths, bytes, binary files or `File`s (uploaded first).
            approve: Decides calls that need approval (only `True` approves); the agent's
                default when not given.
            context: Per-chat context values (`{{context.KEY}}` in tool URLs and prompts).
            wait_timeout: Seconds the whole turn may take (`AgentTimeoutError` after; the run
                is stopped).

        Raises:
            AgentTimeoutError: `wait_timeout` passed first.
        """
        stream = self.stream(
            text, files=files, approve=approve, context=context, wait_timeout=wait_timeout
        )
        with stream:
            stream.finish()
        return stream.reply()

    def stream(
        self,
        text: str | None,
        *,
        files: Sequence[Any] = (),
        approve: Approver | None | NotGiven = NOT_GIVEN,
        context: Mapping[str, str] | None = None,
        wait_timeout: float | None = None,
        detach: bool = False,
    ) -> AgentStream:
        """Send a message and stream the turn's events; None follows the turn under way.

        Args:
            text: The message, or None to follow the chat's current turn (after a crash).
            files: Attachments: paths, bytes, binary files or `File`s (uploaded first).
            approve: Decides calls that need approval (only `True` approves).
            context: Per-chat context values.
            wait_timeout: Seconds the whole turn may take.
            detach: Leaving the stream early leaves the run going (default: it is stopped).
        """
        return AgentStream(
            self._turns, self._state(text, files, approve, context, wait_timeout), detach=detach
        )

    def resume(
        self,
        *,
        approve: Approver | None | NotGiven = NOT_GIVEN,
        wait_timeout: float | None = None,
    ) -> AgentReply:
        """Follow the chat's current turn to its end (a saved chat, or one whose stream broke).

        Calls already answered are not run again: the server keeps every answer.
        """
        stream = self.stream(None, approve=approve, wait_timeout=wait_timeout)
        with stream:
            stream.finish()
        return stream.reply()

    def run(
        self,
        text: str,
        *,
        output_type: type[M],
        files: Sequence[Any] = (),
        approve: Approver | None | NotGiven = NOT_GIVEN,
        context: Mapping[str, str] | None = None,
        wait_timeout: float | None = None,
    ) -> M:
        """Send a message asking for a structured result, validated as `output_type`.

        `output_type`'s JSON Schema goes to the agent as its `output_schema`, with the
        `finish` tool; what the agent passes to `finish` comes back as an `output_type`.

        Raises:
            AgentOutputError: The agent gave no result, or one that does not fit.
        """
        state = self._state(text, files, approve, context, wait_timeout)
        state.output_schema = output_schema(output_type)
        stream = AgentStream(self._turns, state, detach=False)
        with stream:
            stream.finish()
        output = stream.reply().output
        if output is None:
            output = (self.get_chat()).output
        return read_output(output_type, output)

    def as_tool(
        self, *, name: str | None = None, **options: Unpack[ToolOptionArgs]
    ) -> FunctionTool[..., Any]:
        """This agent as a tool of another: it takes a `message` and answers with its reply.

        Each call starts a new chat with this agent, so calls may run at once; its events
        appear on the calling agent's stream.

        Args:
            name: The tool's name (defaults to the agent's, made a valid tool name).
            **options: The options every tool kind shares (`description`, ...).
        """
        agent = self
        options.setdefault("description", f"Ask the {self.name} agent; it answers in text.")

        def ask(message: str) -> str:
            """Ask the agent.

            Args:
                message: What to ask, with everything the agent needs to know.
            """
            return (agent._fresh().send_message(message)).text

        return tool(name=name or _tool_name(self.name), **options)(ask)

    def get_chat(self) -> Chat:
        """The chat as the server has it, messages included.

        Raises:
            UsageError: No chat yet (send a message first).
        """
        call = api.chat_request(self._http.opts, self._turns.require_chat())
        return self._http.request_model(Chat, call)

    def stop(self) -> None:
        """Stop the agent's current turn (nothing happens when it is idle)."""
        self._http.send(api.stop_request(self._http.opts, self._turns.require_chat()))

    def reset(self) -> None:
        """Start a new chat with the next message (this one stays on the server)."""
        self._turns.reset()

    def submit_tool_result(self, invocation_id: str, result: Any) -> None:
        """Answer a client-tool call yourself (a `str` as is, anything else as JSON).

        Raises:
            ConflictError: The call is not waiting for a result (answered, or its run ended).
        """
        text = result_text(result, "submit_tool_result")
        self._http.send(api.tool_result_request(self._http.opts, invocation_id, text))

    # -- one turn -------------------------------------------------------------------------

    def _state(
        self,
        text: str | None,
        files: Sequence[Any],
        approve: Approver | None | NotGiven,
        context: Mapping[str, str] | None,
        wait_timeout: float | None,
    ) -> TurnState:
        chosen = self._approve if isinstance(approve, NotGiven) else approve
        io.sync_only([("the approval callback", chosen)])
        return self._turns.new_turn(text, files, chosen, context, wait_timeout)

    def _fresh(self) -> Agent:
        return Agent(
            self._http,
            self._files,
            self._spec,
            client=self._client,
            approve=self._approve,
            approval_timeout=self._approval_timeout,
            max_concurrent_tools=self._max_tools,
            mask_error_details=self._mask,
        )


def _callables(spec: AgentSpec, approve: object) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = [("the approval callback", approve)]
    for name, item in spec.tools.items():
        if isinstance(item, FunctionTool):
            found.append((f"tool {name!r}", item.handler))
        if item.approval_policy is not None:
            found.append((f"the approval policy of {name!r}", item.approval_policy))
    return found


def _tool_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", name.split("@")[0].split("/")[-1]).strip("_")
    return (cleaned or "agent")[:64]
