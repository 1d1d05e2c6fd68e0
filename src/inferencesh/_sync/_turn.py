# Generated from _async/_turn.py by scripts/unasync.py: edit that file, not this one.
"""One agent turn as it goes (sync): follow the chat, run the calls, post the answers.

`TurnDriver.produce` is the one path every turn takes: post the message, follow the chat
(`ChatWatch`), turn what it sees into events (`Turn`), and run each job it asks for (a tool
call, an approval) through the dispatch flows, posting each result exactly once. Sub-agent
chats the server runs are followed on the same stream. `Agent` (`agents.py`) is the
public face; it keeps one driver per agent.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Generator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from inferencesh._protocol import chats as api
from inferencesh._protocol.chat_watch import ChatWatch
from inferencesh._protocol.deadline import Deadline
from inferencesh._sync import _io as io
from inferencesh._sync._http import HTTP
from inferencesh._sync.files import Files
from inferencesh.agent._execute import execute_sync
from inferencesh.agent.dispatch import Approver, decide_approval, run_tool
from inferencesh.agent.events import AgentEvent, ToolCallCompleted, ToolCallFailed, TurnFinished
from inferencesh.agent.machine import DecideApproval, FollowChild, RunTool, Turn
from inferencesh.errors import AgentTimeoutError, APIError, ConflictError, UsageError
from inferencesh.models.chat import TurnResponse
from inferencesh.models.file import FileRef
from inferencesh.tools import FunctionTool, Tool

if TYPE_CHECKING:
    from inferencesh.agent.config import AgentSpec

__all__ = ["TurnDriver", "TurnState"]

logger = logging.getLogger("inferencesh.agent")
_Call: TypeAlias = RunTool | DecideApproval
"""A job that answers one call: runs its tool, or decides its approval."""


@dataclass(frozen=True, slots=True)
class _Parent:
    """The turn whose tool is running: a nested agent's events are told to it too."""

    outlet: io.Outlet[AgentEvent]
    chat_id: str


_PARENT: contextvars.ContextVar[_Parent | None] = contextvars.ContextVar(
    "inferencesh_agent_parent", default=None
)


@dataclass(kw_only=True)
class TurnState:
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


class TurnDriver:
    """Runs the turns of one agent's chat; see the module docstring."""

    def __init__(
        self,
        http: HTTP,
        files: Files,
        spec: AgentSpec,
        *,
        client: Any,
        chat_id: str | None,
        approval_timeout: float | None,
        max_concurrent_tools: int,
        mask_error_details: bool,
    ) -> None:
        self._http = http
        self._files = files
        self._spec = spec
        self._client = client
        self._approval_timeout = approval_timeout
        self._max_tools = max_concurrent_tools
        self._mask = mask_error_details
        self.chat_id = chat_id
        """The chat the turns are in (None until the first message is posted)."""
        self._handed_out: set[str] = set()

    @property
    def name(self) -> str:
        """The agent's name, as its events carry it."""
        return self._spec.name

    def reset(self) -> None:
        """The next message starts a new chat."""
        self.chat_id = None
        self._handed_out = set()

    def new_turn(
        self,
        text: str | None,
        files: Sequence[Any],
        approve: Approver | None,
        context: Mapping[str, str] | None,
        wait_timeout: float | None,
    ) -> TurnState:
        """A turn that posts `text` (None: follows the chat's current turn), not started yet."""
        if text is None and self.chat_id is None:
            raise UsageError("there is no turn to follow: this agent has no chat yet")
        return TurnState(
            text=text,
            files=files,
            approve=approve,
            context=context,
            deadline=_deadline(self, wait_timeout),
            parent=_PARENT.get(),
        )

    def require_chat(self) -> str:
        """The chat's id.

        Raises:
            UsageError: No message was posted yet.
        """
        if self.chat_id is None:
            raise UsageError("this agent has no chat yet: send a message first")
        return self.chat_id

    def produce(self, outlet: io.Outlet[AgentEvent], state: TurnState) -> Generator[AgentEvent]:
        """Follow one chat's turn: yield its events, start a job for each call it hands out.

        The turn itself starts here (its message posted); a sub-agent's chat comes with its
        watch and machine.
        """
        if state.watch is None:
            self._begin(outlet, state)
        assert state.watch is not None and state.turn is not None
        watch, turn = state.watch, state.turn
        started: set[str] = set()
        try:
            with self._http.stream_slot(), closing(self._http.follow(watch)) as items:
                for item in items:
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
                                handle.wait()
                            yield step
        finally:
            for invocation_id in watch.pending - started:
                watch.release(invocation_id)  # handed out, but left before its job began

    def _begin(self, outlet: io.Outlet[AgentEvent], state: TurnState) -> None:
        """Post the turn's message (if any), then make its watch and machine."""
        opts = self._http.opts
        run_id = assistant_id = None
        if state.text is not None:
            attachments = [self._attachment(f) for f in state.files]
            body = self._spec.run_body(
                chat_id=self.chat_id,
                text=state.text,
                attachments=attachments,
                context=state.context,
                output_schema=state.output_schema,
            )
            call = api.run_request(opts, body).within(state.deadline)
            answer = self._http.request_model(TurnResponse, call)
            self.chat_id = answer.assistant_message.chat_id or self.chat_id
            run_id = answer.assistant_message.agent_run_id
            assistant_id = answer.assistant_message.id
        chat_id = self.require_chat()
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

    def _follow_child(self, job: FollowChild, state: TurnState) -> None:
        """Tell a server-run sub-agent's turn on this turn's stream, as that agent's events.

        Its calls of client tools and its approvals are answered here, as this turn's are
        (this agent's tools and approval callback, by tool name): nobody else follows it.
        """
        assert state.turn is not None and state.outlet is not None
        opts = self._http.opts
        child = TurnState(
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
            with closing(self.produce(state.outlet, child)) as events:
                for event in events:
                    state.outlet.emit(event)

    def _job(self, job: _Call, state: TurnState) -> None:
        assert state.watch is not None
        answered = False
        try:
            with _failing(state):
                self._answer(job, state)
                answered = True
        finally:
            if not answered:  # cancelled (the stream was left) or failed: a resume may retry
                state.watch.release(_invocation_of(job))

    def _answer(self, job: _Call, state: TurnState) -> None:
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
                outcome = execute_sync(flow, limiter=state.limiter, deadline=state.deadline)
                invocation_id = outcome.invocation_id
                events = turn.on_tool_outcome(outcome)
                call = api.tool_result_request(opts, invocation_id, outcome.output)
            else:
                decision = execute_sync(
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
                outlet.emit(event)
            # Settled before it is posted: the stream may bring the turn's end (which only the
            # server's answer to this post can cause) before the post returns, and a watch
            # still waiting for this call would read on until some later line came.
            state.watch.settle(invocation_id)
            self._post(call.within(state.deadline))

    def _post(self, call: Any) -> None:
        try:
            self._http.send(call)
        except ConflictError as exc:
            # The call no longer waits for this: answered before (a retry whose first try got
            # through), or its run ended. Either way the server has its one answer.
            logger.info("%s %s: %s", call.request.method, call.request.url.path, exc)

    def abandon(self) -> None:
        """The consumer left before the turn ended: stop the run (best effort)."""
        if self.chat_id is None:
            return
        call = api.stop_request(self._http.opts.with_call(timeout=5.0, max_retries=1), self.chat_id)
        try:
            self._http.send(call)
        except APIError as exc:
            logger.warning("could not stop the run of chat %s: %s", self.chat_id, exc)

    def _attachment(self, item: Any) -> dict[str, Any]:
        if isinstance(item, FileRef) and item.uri:
            ref = item
        else:
            ref = self._files.upload(item)
        return ref.model_dump(include={"id", "uri", "filename", "content_type", "size"})

    def _timeout_of(self, job: DecideApproval) -> float | None:
        tool_ = job.request.tool
        if tool_ is not None and tool_.approval_timeout is not None:
            return float(tool_.approval_timeout) or None  # 0 waits forever
        return self._approval_timeout


def _deadline(driver: TurnDriver, wait_timeout: float | None) -> Deadline | None:
    if wait_timeout is None:
        return None

    def expired() -> AgentTimeoutError:
        return AgentTimeoutError(
            f"the message to agent {driver.name!r} got no answer within {wait_timeout:g} s",
            chat_id=driver.chat_id or "",
        )

    return Deadline(wait_timeout, on_expiry=expired)


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
def _failing(state: TurnState) -> Generator[None]:
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
