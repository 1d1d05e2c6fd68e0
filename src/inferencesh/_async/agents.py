"""Agents: chat with an agent that calls your tools here, as the turn streams (async).

Every turn takes one path (`_produce`): post the message, follow the chat (`ChatWatch`), turn
what it sees into events (`Turn`), and run each job it asks for (a tool call, an approval)
through the dispatch flows, posting each result exactly once. `send_message`, `stream`, `run`
and `resume` all go through it.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from contextlib import aclosing, contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeAlias, TypeVar

from typing_extensions import Unpack

from inferencesh._async import _io as io
from inferencesh._async._http import AsyncHTTP
from inferencesh._async.files import AsyncFiles
from inferencesh._protocol import chats as api
from inferencesh._protocol.chat_watch import ChatWatch
from inferencesh._protocol.deadline import Deadline
from inferencesh._types import NOT_GIVEN, NotGiven
from inferencesh.agent._execute import execute_async
from inferencesh.agent.dispatch import Approver, decide_approval, run_tool
from inferencesh.agent.events import AgentEvent, ToolCallCompleted, ToolCallFailed, TurnFinished
from inferencesh.agent.machine import DecideApproval, FollowChild, RunTool, Turn
from inferencesh.agent.output import output_schema, read_output
from inferencesh.agent.reply import AgentReply, reply_of
from inferencesh.errors import AgentTimeoutError, APIError, ConflictError, UsageError
from inferencesh.models.chat import Chat, TurnResponse
from inferencesh.models.file import FileRef
from inferencesh.tools import FunctionTool, Tool, ToolOptionArgs, tool
from inferencesh.tools._result import result_text

if TYPE_CHECKING:
    from inferencesh.agent.config import AgentSpec

__all__ = ["AsyncAgent", "AsyncAgentStream"]

logger = logging.getLogger("inferencesh.agent")
M = TypeVar("M")
_Call: TypeAlias = RunTool | DecideApproval
"""A job that answers one call: runs its tool, or decides its approval."""

DEFAULT_MAX_CONCURRENT_TOOLS = 8
"""Tool calls of one turn running at once, by default."""


@dataclass(frozen=True, slots=True)
class _Parent:
    """The turn whose tool is running: a nested agent's events are told to it too."""

    outlet: io.Outlet[AgentEvent]
    chat_id: str


_PARENT: contextvars.ContextVar[_Parent | None] = contextvars.ContextVar(
    "inferencesh_agent_parent", default=None
)


@dataclass(kw_only=True)
class _TurnState:
    """One turn as it goes: what was asked, and what the follower and machine know."""

    text: str | None
    files: Sequence[Any] = ()
    approve: Approver | None = None
    context: Mapping[str, str] | None = None
    output_schema: dict[str, Any] | None = None
    deadline: Deadline | None = None
    parent: _Parent | None = None
    turn: Turn | None = None
    watch: ChatWatch | None = None
    limiter: Any = None
    outlet: io.Outlet[AgentEvent] | None = field(default=None, repr=False)
    children: dict[str, io.JobHandle] = field(default_factory=dict[str, "io.JobHandle"])
    """The followers of sub-agent chats, by the call they answer (else by chat id)."""


class AsyncAgentStream:
    """The events of one turn as they happen, ending with `TurnFinished`.

    Use it as a context manager: leaving it early (a `break`, an exception, a cancellation)
    stops the local work and the agent's run, unless the stream was opened with `detach=True`.

        async with agent.stream("What's the weather in Paris?") as events:
            async for event in events:
                if event.type == "message.delta":
                    print(event.text, end="")
    """

    def __init__(self, agent: AsyncAgent, state: _TurnState, *, detach: bool) -> None:
        self._agent = agent
        self._state = state
        self._pump = io.EventPump[AgentEvent](
            lambda outlet: agent._produce(outlet, state),  # pyright: ignore[reportPrivateUsage]
            on_abandon=None if detach else agent._abandon,  # pyright: ignore[reportPrivateUsage]
            deadline=state.deadline,
        )

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> AgentEvent:
        event = await anext(self._pump)
        parent = self._state.parent
        if parent is not None:
            await parent.outlet.emit(event)  # a nested agent: the calling turn sees it too
        return event

    async def __aenter__(self) -> Self:
        await self._pump.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return await self._pump.__aexit__(exc_type, exc, tb)

    @property
    def chat_id(self) -> str | None:
        """The chat of this turn (known once the message was posted)."""
        return self._agent.chat_id

    def reply(self) -> AgentReply:
        """The turn's answer, messages and tool calls (so far, if it has not ended).

        Raises:
            UsageError: Nothing of the turn was seen yet.
        """
        turn = self._state.turn
        if turn is None:
            raise UsageError("the turn has not started: iterate the stream first")
        return reply_of(turn)


class AsyncAgent:
    """An agent to chat with; it calls your tools here when its model asks for them.

    Made by `client.agent(...)`. Each message continues the same chat (`chat_id`); `reset()`
    starts a new one.

    Example:
        ```python
        agent = client.agent(core_app="infsh/claude-haiku-45@latest", tools=[get_weather])
        reply = await agent.send_message("What's the weather in Paris?")
        print(reply.text)
        ```
    """

    def __init__(
        self,
        http: AsyncHTTP,
        files: AsyncFiles,
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
        self._chat_id = chat_id
        self._approve = approve
        self._approval_timeout = approval_timeout
        self._max_tools = max_concurrent_tools
        self._mask = mask_error_details
        self._handed_out: set[str] = set()
        io.sync_only(_callables(spec, approve))

    @property
    def chat_id(self) -> str | None:
        """The chat this agent talks in (None until the first message, and after `reset()`)."""
        return self._chat_id

    @property
    def name(self) -> str:
        """The agent's name, as its events carry it."""
        return self._spec.name

    def __repr__(self) -> str:
        return f"<AsyncAgent {self.name!r} chat={self._chat_id!r}>"

    async def send_message(
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
        async with stream:
            async for _ in stream:
                pass
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
    ) -> AsyncAgentStream:
        """Send a message and stream the turn's events; None follows the turn under way.

        Args:
            text: The message, or None to follow the chat's current turn (after a crash).
            files: Attachments: paths, bytes, binary files or `File`s (uploaded first).
            approve: Decides calls that need approval (only `True` approves).
            context: Per-chat context values.
            wait_timeout: Seconds the whole turn may take.
            detach: Leaving the stream early leaves the run going (default: it is stopped).
        """
        return AsyncAgentStream(
            self, self._state(text, files, approve, context, wait_timeout), detach=detach
        )

    async def resume(
        self,
        *,
        approve: Approver | None | NotGiven = NOT_GIVEN,
        wait_timeout: float | None = None,
    ) -> AgentReply:
        """Follow the chat's current turn to its end (a saved chat, or one whose stream broke).

        Calls already answered are not run again: the server keeps every answer.
        """
        stream = self.stream(None, approve=approve, wait_timeout=wait_timeout)
        async with stream:
            async for _ in stream:
                pass
        return stream.reply()

    async def run(
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
        stream = AsyncAgentStream(self, state, detach=False)
        async with stream:
            async for _ in stream:
                pass
        output = stream.reply().output
        if output is None:
            output = (await self.get_chat()).output
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

        async def ask(message: str) -> str:
            """Ask the agent.

            Args:
                message: What to ask, with everything the agent needs to know.
            """
            return (await agent._fresh().send_message(message)).text

        return tool(name=name or _tool_name(self.name), **options)(ask)

    async def get_chat(self) -> Chat:
        """The chat as the server has it, messages included.

        Raises:
            UsageError: No chat yet (send a message first).
        """
        call = api.chat_request(self._http.opts, self._require_chat())
        return await self._http.request_model(Chat, call)

    async def stop(self) -> None:
        """Stop the agent's current turn (nothing happens when it is idle)."""
        await self._http.send(api.stop_request(self._http.opts, self._require_chat()))

    def reset(self) -> None:
        """Start a new chat with the next message (this one stays on the server)."""
        self._chat_id = None
        self._handed_out = set()

    async def submit_tool_result(self, invocation_id: str, result: Any) -> None:
        """Answer a client-tool call yourself (a `str` as is, anything else as JSON).

        Raises:
            ConflictError: The call is not waiting for a result (answered, or its run ended).
        """
        text = result_text(result, "submit_tool_result")
        await self._http.send(api.tool_result_request(self._http.opts, invocation_id, text))

    # -- one turn -------------------------------------------------------------------------

    def _state(
        self,
        text: str | None,
        files: Sequence[Any],
        approve: Approver | None | NotGiven,
        context: Mapping[str, str] | None,
        wait_timeout: float | None,
    ) -> _TurnState:
        chosen = self._approve if isinstance(approve, NotGiven) else approve
        io.sync_only([("the approval callback", chosen)])
        if text is None and self._chat_id is None:
            raise UsageError("there is no turn to follow: this agent has no chat yet")
        return _TurnState(
            text=text,
            files=files,
            approve=chosen,
            context=context,
            deadline=_deadline(self, wait_timeout),
            parent=_PARENT.get(),
        )

    async def _produce(
        self, outlet: io.Outlet[AgentEvent], state: _TurnState
    ) -> AsyncGenerator[AgentEvent]:
        """Follow one chat's turn: yield its events, start a job for each call it hands out.

        The turn itself starts here (its message posted); a sub-agent's chat comes with its
        watch and machine.
        """
        if state.watch is None:
            await self._begin(outlet, state)
        assert state.watch is not None and state.turn is not None
        watch, turn = state.watch, state.turn
        started: set[str] = set()
        try:
            async with self._http.stream_slot(), aclosing(self._http.follow(watch)) as items:
                async for item in items:
                    events, jobs = turn.on_item(item)
                    # Sub-agents first (an event of this item may wait for one), then the
                    # events, then the calls (a pinned one runs at once).
                    children = [j for j in jobs if isinstance(j, FollowChild)]
                    calls = [j for j in jobs if not isinstance(j, FollowChild)]
                    for step in [*children, *events, *calls]:
                        if isinstance(step, FollowChild):
                            handle = outlet.spawn(self._follow_child, step, state)
                            state.children[step.invocation_id or step.chat.id] = handle
                        elif isinstance(step, RunTool | DecideApproval):
                            started.add(_invocation_of(step))
                            outlet.spawn(self._job, step, state, pinned=_pinned(step))
                        else:
                            for handle in _told_after(step, state.children):
                                await handle.wait()
                            yield step
        finally:
            for invocation_id in watch.pending - started:
                watch.release(invocation_id)  # handed out, but left before its job began

    async def _begin(self, outlet: io.Outlet[AgentEvent], state: _TurnState) -> None:
        """Post the turn's message (if any), then make its watch and machine."""
        opts = self._http.opts
        run_id = assistant_id = None
        if state.text is not None:
            attachments = [await self._attachment(f) for f in state.files]
            body = self._spec.run_body(
                chat_id=self._chat_id,
                text=state.text,
                attachments=attachments,
                context=state.context,
                output_schema=state.output_schema,
            )
            call = api.run_request(opts, body).within(state.deadline)
            answer = await self._http.request_model(TurnResponse, call)
            self._chat_id = answer.assistant_message.chat_id or self._chat_id
            run_id = answer.assistant_message.agent_run_id
            assistant_id = answer.assistant_message.id
        chat_id = self._require_chat()
        parent = state.parent
        state.watch = ChatWatch(
            opts,
            chat_id,
            mode=opts.stream_mode,
            run_id=run_id,
            assistant_message_id=assistant_id,
            expect_turn=state.text is not None,
            handed_out=self._handed_out,
            deadline=state.deadline,
        )
        state.turn = Turn(
            agent=self.name,
            chat_id=chat_id,
            tools=self._spec.tools,
            parent_chat_id=parent.chat_id if parent is not None else None,
        )
        state.outlet = outlet
        state.limiter = io.capacity_limiter(self._max_tools)

    async def _follow_child(self, job: FollowChild, state: _TurnState) -> None:
        """Tell a server-run sub-agent's turn on this turn's stream, as that agent's events.

        Its calls of client tools and its approvals are answered here, as this turn's are
        (this agent's tools and approval callback, by tool name): nobody else follows it.
        """
        assert state.turn is not None and state.outlet is not None
        opts = self._http.opts
        child = _TurnState(
            text=None,
            approve=state.approve,
            deadline=state.deadline,
            parent=state.parent,
            limiter=state.limiter,
            outlet=state.outlet,
        )
        expiry = state.deadline.on_expiry if state.deadline is not None else None
        child.watch = ChatWatch(
            opts,
            job.chat.id,
            mode=opts.stream_mode,
            handed_out=self._handed_out,
            deadline=state.deadline,
        )
        if state.deadline is not None and expiry is not None:
            state.deadline.on_expiry = expiry  # the turn's error names the turn's chat
        child.turn = Turn(
            agent=job.agent,
            chat_id=job.chat.id,
            tools=self._spec.tools,
            parent_chat_id=state.turn.chat_id,
        )
        with _failing(state):
            async with aclosing(self._produce(state.outlet, child)) as events:
                async for event in events:
                    await state.outlet.emit(event)

    async def _job(self, job: _Call, state: _TurnState) -> None:
        assert state.watch is not None
        answered = False
        try:
            with _failing(state):
                await self._answer(job, state)
                answered = True
        finally:
            if not answered:  # cancelled (the stream was left) or failed: a resume may retry
                state.watch.release(_invocation_of(job))

    async def _answer(self, job: _Call, state: _TurnState) -> None:
        assert state.turn is not None and state.watch is not None and state.outlet is not None
        turn, outlet, opts = state.turn, state.outlet, self._http.opts
        token = _PARENT.set(_Parent(outlet, turn.chat_id))
        try:
            if isinstance(job, RunTool):
                flow = run_tool(
                    job.invocation,
                    job.tool,
                    chat_id=turn.chat_id,
                    client=self._client,
                    mask_error_details=self._mask,
                )
                outcome = await execute_async(flow, limiter=state.limiter, deadline=state.deadline)
                invocation_id = outcome.invocation_id
                events = turn.on_tool_outcome(outcome)
                call = api.tool_result_request(opts, invocation_id, outcome.output)
            else:
                decision = await execute_async(
                    decide_approval(job.request, state.approve, timeout=self._timeout_of(job)),
                    limiter=state.limiter,
                    deadline=state.deadline,
                )
                invocation_id = decision.invocation_id
                events = turn.on_approval_outcome(decision)
                if decision.approved:
                    call = api.approve_request(opts, invocation_id)
                else:
                    call = api.reject_request(opts, invocation_id, decision.reason)
        finally:
            _PARENT.reset(token)
        with io.shielded():  # a computed answer is sent, even if the turn is being left
            for event in events:  # before the server moves on, so the stream reads in order
                await outlet.emit(event)
            # Settled before it is posted: the stream may bring the turn's end (which only the
            # server's answer to this post can cause) before the post returns, and a watch
            # still waiting for this call would read on until some later line came.
            state.watch.settle(invocation_id)
            await self._post(call.within(state.deadline))

    async def _post(self, call: Any) -> None:
        try:
            await self._http.send(call)
        except ConflictError as exc:
            # The call no longer waits for this: answered before (a retry whose first try got
            # through), or its run ended. Either way the server has its one answer.
            logger.info("%s %s: %s", call.request.method, call.request.url.path, exc)

    async def _abandon(self) -> None:
        """The consumer left before the turn ended: stop the run (best effort)."""
        if self._chat_id is None:
            return
        call = api.stop_request(
            self._http.opts.with_call(timeout=5.0, max_retries=1), self._chat_id
        )
        try:
            await self._http.send(call)
        except APIError as exc:
            logger.warning("could not stop the run of chat %s: %s", self._chat_id, exc)

    async def _attachment(self, item: Any) -> dict[str, Any]:
        if isinstance(item, FileRef) and item.uri:
            ref = item
        else:
            ref = await self._files.upload(item)
        return ref.model_dump(include={"id", "uri", "filename", "content_type", "size"})

    def _timeout_of(self, job: DecideApproval) -> float | None:
        tool_ = job.request.tool
        if tool_ is not None and tool_.approval_timeout is not None:
            return float(tool_.approval_timeout) or None  # 0 waits forever
        return self._approval_timeout

    def _require_chat(self) -> str:
        if self._chat_id is None:
            raise UsageError("this agent has no chat yet: send a message first")
        return self._chat_id

    def _fresh(self) -> AsyncAgent:
        return AsyncAgent(
            self._http,
            self._files,
            self._spec,
            client=self._client,
            approve=self._approve,
            approval_timeout=self._approval_timeout,
            max_concurrent_tools=self._max_tools,
            mask_error_details=self._mask,
        )


def _deadline(agent: AsyncAgent, wait_timeout: float | None) -> Deadline | None:
    if wait_timeout is None:
        return None

    def expired() -> AgentTimeoutError:
        return AgentTimeoutError(
            f"the message to agent {agent.name!r} got no answer within {wait_timeout:g} s",
            chat_id=agent.chat_id or "",
        )

    return Deadline(wait_timeout, on_expiry=expired)


def _callables(spec: AgentSpec, approve: object) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = [("the approval callback", approve)]
    for name, item in spec.tools.items():
        if isinstance(item, FunctionTool):
            found.append((f"tool {name!r}", item.handler))
        if item.approval_policy is not None:
            found.append((f"the approval policy of {name!r}", item.approval_policy))
    return found


def _told_after(event: AgentEvent, children: Mapping[str, io.JobHandle]) -> list[io.JobHandle]:
    """The sub-agent chats whose events must all be told before `event`.

    The end of a call a sub-agent answered comes after that sub-agent's turn; the end of
    the turn after every sub-agent's.
    """
    if isinstance(event, TurnFinished):
        return list(children.values())
    if isinstance(event, ToolCallCompleted | ToolCallFailed) and event.invocation_id in children:
        return [children[event.invocation_id]]
    return []


def _pinned(job: _Call) -> bool:
    """Whether the sync client runs the job on the thread that follows the chat.

    An approval: one question at a time, where the caller is (a terminal prompt works, and
    Ctrl-C reaches it); and a sync handler bound to that thread (`threaded=False`).
    """
    if isinstance(job, DecideApproval):
        return True
    handler: Tool | None = job.tool
    return isinstance(handler, FunctionTool) and not handler.is_async and not handler.threaded


@contextmanager
def _failing(state: _TurnState) -> Generator[None]:
    """A job's failure fails its turn: the turn's follower raises it too, at once.

    (The async pump hands it over by itself; a sync worker thread cannot interrupt the read
    the follower is blocked in.) Past the turn's deadline a job ends quietly: the turn's
    follower raises the deadline's error, once.
    """
    try:
        yield
    except AgentTimeoutError:
        if state.deadline is None or not state.deadline.expired():
            raise
    except Exception as exc:
        assert state.watch is not None
        state.watch.fail(exc)
        raise


def _invocation_of(job: _Call) -> str:
    return job.invocation.id if isinstance(job, RunTool) else job.request.invocation_id


def _tool_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", name.split("@")[0].split("/")[-1]).strip("_")
    return (cleaned or "agent")[:64]
