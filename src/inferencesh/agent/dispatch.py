"""Running one tool call, and deciding one approval: the only path any turn takes.

Both are sans-IO flows (generators): they say which function to call (`Call`) and are told
what it returned or raised; `execute_async` / `execute_sync` (`_execute.py`) carry the calls
out. So blocking, streaming and resumed turns, sync and async, share every decision:

- a tool call produces exactly one `ToolOutcome`, whatever happens: a "not available" result
  for a tool this process does not have, the validation messages (naming the fields) for
  invalid arguments without calling the handler, a `ToolError`'s message, or another
  exception's type and message (its traceback is logged here, never sent), or a generic
  message for tools that mask error details;
- an approval fails closed: the tool's policy may decide (`"allow"`, `"deny"`), otherwise
  only an explicit `True` from the approval callback approves; `None`, any other value, an
  exception, a timeout or a missing callback deny, with a reason the model reads.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypeVar

from inferencesh.errors import ToolError
from inferencesh.models.chat import ToolInvocation
from inferencesh.tools import ApprovalRequest, FunctionTool, InvalidArguments, Tool, ToolContext
from inferencesh.tools._result import result_text

__all__ = [
    "GENERIC_ERROR",
    "ApprovalOutcome",
    "Approver",
    "Call",
    "Flow",
    "Raised",
    "Returned",
    "ToolOutcome",
    "decide_approval",
    "is_async_callable",
    "not_available",
    "run_tool",
]

logger = logging.getLogger("inferencesh.agent")
T = TypeVar("T")

GENERIC_ERROR = "The tool failed. Its error details are not shared."
"""What the model reads when a tool that masks error details raises."""

Approver: TypeAlias = Callable[[ApprovalRequest], bool | Awaitable[bool]]
"""The approval callback: sync or async; only `True` approves."""


@dataclass(frozen=True, slots=True)
class Call:
    """Call `fn()` and send back what happened."""

    fn: Callable[[], Any]
    how: Literal["await", "thread", "inline"]
    """`await` an async function, run a sync one in a worker `thread`, or `inline`."""
    timeout: float | None = None
    """Give up waiting after this many seconds (the answer is then `Raised(timed_out=True)`)."""
    bounded: bool = False
    """Counts against the runner's limit of tool calls running at once."""
    label: str = ""
    """What is called, for the log (`tool 'lookup'`)."""


@dataclass(frozen=True, slots=True)
class Returned:
    """The call returned `value` (awaited, if it was awaitable)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Raised:
    """The call raised `error`, or ran out of time (`timed_out`)."""

    error: Exception
    timed_out: bool = False


Flow: TypeAlias = Generator[Call, Returned | Raised, T]


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolOutcome:
    """The one result of one tool call; `output` is the string posted as its result."""

    invocation_id: str
    name: str
    output: str
    failure: Literal["not_available", "invalid_arguments", "tool_error", "exception"] | None = None
    """None when the handler returned normally."""

    @property
    def error(self) -> str:
        """What the model is told went wrong ("" when nothing did)."""
        return "" if self.failure is None else self.output


@dataclass(frozen=True, kw_only=True, slots=True)
class ApprovalOutcome:
    """The decision on one call waiting for approval."""

    invocation_id: str
    name: str
    approved: bool
    reason: str = ""
    """Why it was refused: sent to the server, which tells the model."""
    decided_by: Literal["policy", "callback", "runner"]


def is_async_callable(fn: object) -> bool:
    """Whether calling `fn` gives a coroutine (`async def`, or an object with one as `__call__`)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 -- the method, not callable()
    )


def not_available(name: str) -> str:
    """The result for a tool this process does not have (the JS SDK's wording)."""
    return json.dumps(
        {
            "status": "not_available",
            "message": f'Client tool "{name}" is not available in this environment',
        },
        ensure_ascii=False,
    )


def run_tool(
    invocation: ToolInvocation,
    tool: Tool | None,
    *,
    chat_id: str | None = None,
    client: Any = None,
    mask_error_details: bool = False,
    threads: bool = True,
) -> Flow[ToolOutcome]:
    """Run one client-tool call: validate, call the handler, turn what happened into a result.

    Args:
        invocation: The server's record of the call.
        tool: The tool of that name, or None when this process has none.
        chat_id: For the handler's `ToolContext`.
        client: For the handler's `ToolContext`.
        mask_error_details: Send a generic message for every failing tool, not only for
            tools that ask for it.
        threads: Run sync handlers in worker threads (False: inline, as the sync client does).
    """
    name = invocation.name

    def outcome(output: str, failure: Any = None) -> ToolOutcome:
        return ToolOutcome(invocation_id=invocation.id, name=name, output=output, failure=failure)

    if not isinstance(tool, FunctionTool):
        return outcome(not_available(name), "not_available")
    validated = tool.validate_arguments(invocation.function.arguments)
    if isinstance(validated, InvalidArguments):
        return outcome(validated.to_text(), "invalid_arguments")
    context = ToolContext(
        tool_name=name, chat_id=chat_id, invocation_id=invocation.id, client=client
    )
    bound = tool.bind(validated, context=context)
    if tool.is_async:
        how: Literal["await", "thread", "inline"] = "await"
    else:
        how = "thread" if threads and tool.threaded else "inline"
    answer = yield Call(bound, how, bounded=True, label=f"tool {name!r}")
    mask = mask_error_details or tool.mask_error_details
    if isinstance(answer, Raised):
        error = answer.error
        if isinstance(error, ToolError):
            return outcome(_error_text(str(error)), "tool_error")
        return outcome(_exception_text(name, error, mask), "exception")
    try:
        return outcome(result_text(answer.value, name))
    except TypeError as exc:
        return outcome(_exception_text(name, exc, mask), "exception")


def decide_approval(
    request: ApprovalRequest,
    approve: Approver | None,
    *,
    timeout: float | None = None,
    threads: bool = True,
) -> Flow[ApprovalOutcome]:
    """Decide one call waiting for approval: the tool's policy first, then the callback.

    Args:
        request: The call; `request.tool` carries the policy, when this process has the tool.
        approve: The approval callback, or None (every call that reaches it is refused).
        timeout: Seconds to wait for the callback (None or 0: no limit).
        threads: Run a sync callback in a worker thread (it may wait for a person).
    """
    name = request.tool_name

    def decided(
        approved: bool, by: Literal["policy", "callback", "runner"], reason: str = ""
    ) -> ApprovalOutcome:
        return ApprovalOutcome(
            invocation_id=request.invocation_id,
            name=name,
            approved=approved,
            reason=reason,
            decided_by=by,
        )

    policy = request.tool.approval_policy if request.tool is not None else None
    if policy is not None:
        how: Literal["await", "thread", "inline"] = (
            "await" if is_async_callable(policy) else "inline"
        )
        answer = yield Call(
            functools.partial(policy, request), how, label=f"the approval policy of tool {name!r}"
        )
        if isinstance(answer, Raised):
            _log_failure(f"the approval policy of tool {name!r}", answer.error)
            return decided(
                False, "runner", _refused(f"its approval policy failed ({_kind(answer)})")
            )
        value = answer.value
        if isinstance(value, str) and value == "allow":
            return decided(True, "policy")
        if isinstance(value, str) and value == "deny":
            return decided(False, "policy", "The call was refused by the tool's approval policy.")
        if not (isinstance(value, str) and value == "ask"):
            return decided(
                False,
                "runner",
                _refused(f"its approval policy returned {value!r}, not 'allow', 'deny' or 'ask'"),
            )
    if approve is None:
        return decided(False, "runner", _refused("it needs approval and nobody was asked"))
    if is_async_callable(approve):
        how = "await"
    else:
        how = "thread" if threads else "inline"
    limit = timeout if timeout else None
    answer = yield Call(
        functools.partial(approve, request),
        how,
        timeout=limit,
        label=f"the approval callback for tool {name!r}",
    )
    if isinstance(answer, Raised):
        if answer.timed_out:
            return decided(False, "runner", _refused(f"no decision came within {limit:g} s"))
        _log_failure(f"the approval callback for tool {name!r}", answer.error)
        return decided(False, "runner", _refused(f"the approval callback failed ({_kind(answer)})"))
    if answer.value is True:
        return decided(True, "callback")
    if answer.value is False:
        return decided(False, "callback", "The user refused this call.")
    return decided(
        False, "runner", _refused(f"the approval callback returned {answer.value!r}, not True")
    )


def _refused(why: str) -> str:
    return f"The call was refused: {why}."


def _kind(answer: Raised) -> str:
    return type(answer.error).__name__


def _error_text(message: str) -> str:
    return json.dumps({"error": message}, ensure_ascii=False)


def _exception_text(name: str, error: Exception, mask: bool) -> str:
    _log_failure(f"tool {name!r}", error)
    if mask:
        return _error_text(GENERIC_ERROR)
    detail = str(error)
    return _error_text(f"{type(error).__name__}: {detail}" if detail else type(error).__name__)


def _log_failure(what: str, error: Exception) -> None:
    # The traceback stays here: the model only ever reads the type and message.
    logger.error("%s raised %s", what, type(error).__name__, exc_info=error)
