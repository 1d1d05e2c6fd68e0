"""Dispatch: the three outcomes of a tool call, and approvals that fail closed.

Each test runs under the sync executor and the async one on asyncio and trio (`execute`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from inferencesh.agent import GENERIC_ERROR, ApprovalRequest
from inferencesh.agent.dispatch import (
    ApprovalOutcome,
    ToolOutcome,
    decide_approval,
    is_async_callable,
    not_available,
    run_tool,
)
from inferencesh.errors import ToolError
from inferencesh.models.chat import ToolInvocation
from inferencesh.tools import ApprovalDecision, Tool, app_tool, tool

from .conftest import Runner

pytestmark = pytest.mark.anyio

CALLS: list[tuple[str, Any]] = []
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def invocation(name: str, arguments: Any, id: str = "inv_1") -> ToolInvocation:
    return ToolInvocation.model_validate(
        {
            "id": id,
            "type": "client",
            "status": "awaiting_input",
            "function": {"name": name, "arguments": arguments},
        }
    )


class Weather(BaseModel):
    city: str
    temp_c: int


@tool
def get_weather(city: str, days: int = 1) -> Weather:
    """Get the weather.

    Args:
        city: City name.
        days: How many days.
    """
    CALLS.append(("get_weather", (city, days)))
    return Weather(city=city, temp_c=18)


@tool
def refuse(reason: str) -> str:
    """Always refuses."""
    raise ToolError(f"cannot: {reason}")


@tool
def crash(secret: str) -> str:
    """Fails with a message that carries a secret."""
    raise ValueError(f"db password={secret}")


@tool(mask_error_details=True)
def crash_masked(secret: str) -> str:
    """Fails, and its messages must not reach the model."""
    raise ValueError(f"db password={secret}")


@tool
def returns_a_set() -> Any:
    """Returns something JSON cannot carry."""
    return {"lock": threading.Lock()}


@pytest.fixture(autouse=True)
def _clear() -> None:
    CALLS.clear()


async def test_a_valid_call_runs_the_handler_once_and_serializes_its_return(
    execute: Runner,
) -> None:
    out = await execute(run_tool(invocation("get_weather", {"city": "Paris"}), get_weather))
    assert out == ToolOutcome(
        invocation_id="inv_1", name="get_weather", output='{"city":"Paris","temp_c":18}'
    )
    assert CALLS == [("get_weather", ("Paris", 1))]
    assert out.error == ""
    text = await execute(
        run_tool(invocation("get_weather", '{"city": "Oslo", "days": 2}'), get_weather)
    )
    assert text.failure is None and CALLS[-1] == ("get_weather", ("Oslo", 2))


async def test_invalid_arguments_name_the_fields_and_the_handler_is_not_called(
    execute: Runner,
) -> None:
    out = await execute(
        run_tool(invocation("get_weather", {"days": "many", "extra": 1}), get_weather)
    )
    assert out.failure == "invalid_arguments" and CALLS == []
    body = json.loads(out.output)
    assert body["error"] == "invalid_arguments"
    assert {f["field"] for f in body["fields"]} == {"city", "days", "extra"}
    assert out.error == out.output
    for raw in ("not json", [1, 2], 7):
        bad = await execute(run_tool(invocation("get_weather", raw), get_weather))
        assert bad.failure == "invalid_arguments" and CALLS == []


async def test_a_tool_error_sends_its_message(execute: Runner) -> None:
    out = await execute(run_tool(invocation("refuse", {"reason": "closed"}), refuse))
    assert (out.failure, json.loads(out.output)) == ("tool_error", {"error": "cannot: closed"})


async def test_another_exception_sends_type_and_message_and_logs_the_traceback(
    execute: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="inferencesh.agent"):
        out = await execute(run_tool(invocation("crash", {"secret": "s3"}), crash))
    assert (out.failure, json.loads(out.output)) == (
        "exception",
        {"error": "ValueError: db password=s3"},
    )
    assert "Traceback" not in out.output
    record = next(r for r in caplog.records if r.name == "inferencesh.agent")
    assert record.exc_info is not None and record.exc_info[0] is ValueError


async def test_masked_errors_send_a_generic_message(execute: Runner) -> None:
    out = await execute(run_tool(invocation("crash_masked", {"secret": "s3"}), crash_masked))
    assert json.loads(out.output) == {"error": GENERIC_ERROR} and "s3" not in out.output
    every = await execute(
        run_tool(invocation("crash", {"secret": "s3"}), crash, mask_error_details=True)
    )
    assert json.loads(every.output) == {"error": GENERIC_ERROR}
    # A ToolError is raised on purpose: its message still goes.
    refused = await execute(
        run_tool(invocation("refuse", {"reason": "x"}), refuse, mask_error_details=True)
    )
    assert json.loads(refused.output) == {"error": "cannot: x"}


async def test_a_return_value_json_cannot_carry_is_a_failure_the_model_reads(
    execute: Runner,
) -> None:
    out = await execute(run_tool(invocation("returns_a_set", {}), returns_a_set))
    assert out.failure == "exception"
    assert json.loads(out.output)["error"].startswith(
        "TypeError: tool 'returns_a_set' returned a dict"
    )


async def test_an_unknown_tool_is_not_available(execute: Runner) -> None:
    out = await execute(run_tool(invocation("teleport", {}), None))
    assert out.failure == "not_available" and out.output == not_available("teleport")
    assert json.loads(out.output) == {
        "status": "not_available",
        "message": 'Client tool "teleport" is not available in this environment',
    }
    server_side = app_tool("teleport", "infsh/teleport@1")  # runs on the server, not here
    assert (
        await execute(run_tool(invocation("teleport", {}), server_side))
    ).failure == "not_available"


async def test_an_exception_without_a_message_sends_its_type(execute: Runner) -> None:
    @tool
    def empty() -> str:
        """Fails silently."""
        raise KeyError()

    out = await execute(run_tool(invocation("empty", {}), empty))
    assert json.loads(out.output) == {"error": "KeyError"}


async def test_the_context_reaches_the_handler(execute: Runner) -> None:
    seen: list[Any] = []

    from inferencesh.tools import ToolContext

    @tool
    def whoami(ctx: ToolContext) -> str:
        """Say who calls."""
        seen.append(ctx)
        return ctx.tool_name

    marker = object()
    out = await execute(
        run_tool(invocation("whoami", {}, id="inv_9"), whoami, chat_id="c1", client=marker)
    )
    assert out.output == "whoami"
    assert (seen[0].chat_id, seen[0].invocation_id, seen[0].client) == ("c1", "inv_9", marker)


async def test_sync_handlers_run_in_worker_threads_with_context_variables(
    flavour: str, execute: Runner
) -> None:
    threads: list[tuple[str, int]] = []

    @tool
    def where() -> str:
        """Report the thread and context."""
        threads.append((REQUEST_ID.get(), threading.get_ident()))
        return "ok"

    @tool(threaded=False)
    def here() -> str:
        """Must run on the runner's thread (a thread-bound library)."""
        threads.append((REQUEST_ID.get(), threading.get_ident()))
        return "ok"

    token = REQUEST_ID.set("req-42")
    try:
        await execute(run_tool(invocation("where", {}), where))
        await execute(run_tool(invocation("here", {}), here))
    finally:
        REQUEST_ID.reset(token)
    me = threading.get_ident()
    assert threads[0][0] == "req-42" and threads[1] == ("req-42", me)
    # The async runner keeps the loop free; the sync one calls handlers inline.
    assert (threads[0][1] != me) is (flavour != "sync")


async def test_async_handlers_are_awaited(flavour: str, execute: Runner) -> None:
    @tool
    async def fetch(url: str) -> str:
        """Fetch a URL."""
        await anyio.lowlevel.checkpoint()
        return f"got {url}"

    out = await execute(run_tool(invocation("fetch", {"url": "u"}), fetch))
    if flavour == "sync":  # the sync client cannot await: a failure the model reads
        assert out.failure == "exception" and "is async" in json.loads(out.output)["error"]
    else:
        assert out.output == "got u"


@pytest.mark.parametrize("flavour", ["asyncio", "trio"])
async def test_several_calls_run_at_once_within_the_limit(flavour: str) -> None:
    from inferencesh.agent._execute import execute_async

    limiter = anyio.CapacityLimiter(2)
    running, most = [0], [0]
    gate = anyio.Event()

    @tool
    async def slow(n: int) -> int:
        """Waits for the gate."""
        running[0] += 1
        most[0] = max(most[0], running[0])
        await gate.wait()
        running[0] -= 1
        return n

    @tool
    def slow_sync(n: int) -> int:
        """Waits for the gate, in a thread."""
        anyio.from_thread.run(gate.wait)
        return n

    results: list[ToolOutcome] = []

    async def one(name: str, n: int) -> None:
        target = slow if name == "slow" else slow_sync
        results.append(
            await execute_async(
                run_tool(invocation(name, {"n": n}, id=f"{name}{n}"), target), limiter=limiter
            )
        )

    async with anyio.create_task_group() as tg:
        for n in range(4):
            tg.start_soon(one, "slow", n)
        await anyio.wait_all_tasks_blocked()
        assert running[0] == 2 and limiter.borrowed_tokens == 2
        gate.set()
    assert most[0] == 2 and sorted(r.output for r in results) == ["0", "1", "2", "3"]
    async with anyio.create_task_group() as tg:
        for n in range(3):
            tg.start_soon(one, "slow_sync", n)
    assert len(results) == 7


# -- approvals -------------------------------------------------------------------------------


@tool(require_approval=True)
def transfer(amount: int) -> str:
    """Move money."""
    return f"sent {amount}"


def request_for(target: Tool | None = transfer, amount: int = 5) -> ApprovalRequest:
    return ApprovalRequest(
        tool_name="transfer",
        arguments={"amount": amount},
        invocation_id="inv_1",
        kind="client",
        tool=target,
    )


def approver(value: Any, asked: list[ApprovalRequest] | None = None) -> Any:
    def approve(request: ApprovalRequest) -> Any:
        if asked is not None:
            asked.append(request)
        return value

    return approve


async def test_only_an_explicit_true_approves(execute: Runner) -> None:
    asked: list[ApprovalRequest] = []
    yes = await execute(decide_approval(request_for(), approver(True, asked)))
    assert yes == ApprovalOutcome(
        invocation_id="inv_1", name="transfer", approved=True, decided_by="callback"
    )
    assert asked[0].arguments == {"amount": 5}
    no = await execute(decide_approval(request_for(), approver(False)))
    assert (no.approved, no.decided_by, no.reason) == (
        False,
        "callback",
        "The user refused this call.",
    )
    for value in (None, 1, "yes", [True], "allow"):
        out = await execute(decide_approval(request_for(), approver(value)))
        assert (out.approved, out.decided_by) == (False, "runner"), value
        assert (
            out.reason
            == f"The call was refused: the approval callback returned {value!r}, not True."
        )


async def test_no_callback_denies(execute: Runner) -> None:
    out = await execute(decide_approval(request_for(), None))
    assert (out.approved, out.decided_by) == (False, "runner")
    assert out.reason == "The call was refused: it needs approval and nobody was asked."


async def test_a_raising_callback_denies_and_is_logged(
    execute: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: ApprovalRequest) -> bool:
        raise RuntimeError("ui crashed, token=abc")

    with caplog.at_level(logging.ERROR, logger="inferencesh.agent"):
        out = await execute(decide_approval(request_for(), broken))
    assert (out.approved, out.reason) == (
        False,
        "The call was refused: the approval callback failed (RuntimeError).",
    )
    assert "abc" not in out.reason
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


async def test_a_callback_that_does_not_answer_in_time_denies(
    flavour: str, execute: Runner
) -> None:
    release = threading.Event()

    def slow(request: ApprovalRequest) -> bool:
        release.wait(30)  # a person who walked away
        return True

    try:
        out = await execute(decide_approval(request_for(), slow, timeout=0.05))
    finally:
        release.set()
    assert (out.approved, out.decided_by) == (False, "runner")
    assert out.reason == "The call was refused: no decision came within 0.05 s."
    if flavour != "sync":

        async def slow_async(request: ApprovalRequest) -> bool:
            await anyio.sleep_forever()
            return True

        out = await execute(decide_approval(request_for(), slow_async, timeout=0.05))
        assert out.reason == "The call was refused: no decision came within 0.05 s."


async def test_async_callbacks(flavour: str, execute: Runner) -> None:
    async def approve(request: ApprovalRequest) -> bool:
        await anyio.lowlevel.checkpoint()
        return True

    out = await execute(decide_approval(request_for(), approve))
    if flavour == "sync":  # the sync client cannot await it: refused, never approved
        assert (out.approved, out.reason) == (
            False,
            "The call was refused: the approval callback failed (TypeError).",
        )
    else:
        assert out.approved and out.decided_by == "callback"

    def returns_coroutine(request: ApprovalRequest) -> Any:
        return approve(request)

    out = await execute(decide_approval(request_for(), returns_coroutine))
    assert out.approved is (flavour != "sync")


def small_amounts(call: ApprovalRequest) -> ApprovalDecision:
    amount = call.arguments["amount"]
    return "allow" if amount < 100 else "deny" if amount > 1000 else "ask"


async def test_a_policy_decides_without_asking(execute: Runner) -> None:
    guarded = transfer.with_options(require_approval=small_amounts)
    asked: list[ApprovalRequest] = []
    allow = await execute(decide_approval(request_for(guarded, 5), approver(False, asked)))
    assert (allow.approved, allow.decided_by, asked) == (True, "policy", [])
    deny = await execute(decide_approval(request_for(guarded, 5000), approver(True, asked)))
    assert (deny.approved, deny.decided_by, asked) == (False, "policy", [])
    assert deny.reason == "The call was refused by the tool's approval policy."
    ask = await execute(decide_approval(request_for(guarded, 500), approver(True, asked)))
    assert (ask.approved, ask.decided_by, len(asked)) == (True, "callback", 1)
    no_callback = await execute(decide_approval(request_for(guarded, 500), None))
    assert not no_callback.approved


async def test_a_policy_that_misbehaves_denies(execute: Runner) -> None:
    def weird(call: ApprovalRequest) -> Any:
        return True

    def broken(call: ApprovalRequest) -> ApprovalDecision:
        raise KeyError("amount")

    for policy, reason in [
        (
            weird,
            "The call was refused: its approval policy returned True, not 'allow', 'deny' or 'ask'.",
        ),
        (broken, "The call was refused: its approval policy failed (KeyError)."),
    ]:
        out = await execute(
            decide_approval(
                request_for(transfer.with_options(require_approval=policy)), approver(True)
            )
        )
        assert (out.approved, out.decided_by, out.reason) == (False, "runner", reason)


async def test_an_async_policy(flavour: str, execute: Runner) -> None:
    async def allow_all(call: ApprovalRequest) -> ApprovalDecision:
        return "allow"

    out = await execute(
        decide_approval(request_for(transfer.with_options(require_approval=allow_all)), None)
    )
    assert out.approved is (flavour != "sync")


async def test_a_call_for_a_tool_this_process_does_not_have_asks_the_callback(
    execute: Runner,
) -> None:
    out = await execute(decide_approval(request_for(None), approver(True)))
    assert out.approved and out.decided_by == "callback"


def test_is_async_callable() -> None:
    import functools

    async def a() -> None: ...

    class C:
        async def __call__(self) -> None: ...

    assert (
        is_async_callable(a) and is_async_callable(functools.partial(a)) and is_async_callable(C())
    )
    assert not is_async_callable(len) and not is_async_callable(lambda: None)


async def test_a_callback_answering_within_its_time_is_heard(execute: Runner) -> None:
    seen: list[str] = []

    def approve(request: ApprovalRequest) -> bool:
        seen.append(REQUEST_ID.get())
        return True

    token = REQUEST_ID.set("ctx-1")
    try:
        out = await execute(decide_approval(request_for(), approve, timeout=30))
    finally:
        REQUEST_ID.reset(token)
    assert out.approved and seen == ["ctx-1"]


def test_the_sync_runner_refuses_any_awaitable() -> None:
    from inferencesh.agent._execute import execute_sync

    class Later:
        def __await__(self) -> Any:
            yield

    out = execute_sync(decide_approval(request_for(), lambda request: Later()))
    assert out.reason == "The call was refused: the approval callback failed (TypeError)."
