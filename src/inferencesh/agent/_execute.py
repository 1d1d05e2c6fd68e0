"""Carrying out the calls of a dispatch flow: one executor per client flavour.

The async executor awaits async functions, runs sync ones in worker threads (context variables
kept: anyio copies the caller's context into the thread) and bounds the tool calls running at
once with a limiter. The sync executor runs on the worker thread the sync runner gave the job
(the sync client runs each job of a turn in a thread of its own, context variables kept) and
bounds the tool calls with a semaphore; a call with a timeout (an approval callback) goes to a
helper thread, so the wait can end.

A thread cannot be stopped. A sync handler still running when its turn is left is waited for
(what it did is not lost, and its result is posted), but never past the turn's deadline: from
then on the thread runs on by itself, and when it returns its result is dropped (logged here)
and the deadline's error is raised in the job instead. An approval callback's thread is not
waited for: a decision nobody waits for any more is not worth keeping.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import logging
import math
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from inferencesh._protocol.deadline import Deadline
from inferencesh.agent.dispatch import Call, Flow, Raised, Returned

__all__ = ["execute_async", "execute_sync"]

logger = logging.getLogger("inferencesh.agent")
T = TypeVar("T")


async def execute_async(
    flow: Flow[T],
    *,
    limiter: anyio.CapacityLimiter | None = None,
    deadline: Deadline | None = None,
) -> T:
    """Run `flow` to its end on the running event loop (asyncio or trio).

    Args:
        flow: A dispatch flow (`run_tool`, `decide_approval`).
        limiter: Bounds the tool calls running at once (threads and awaited handlers alike).
        deadline: The turn's deadline: a sync handler is not waited for past it.

    Raises:
        AgentTimeoutError: The deadline passed while a sync handler ran (it runs on).
    """
    answer: Returned | Raised | None = None
    while True:
        try:
            call = next(flow) if answer is None else flow.send(answer)
        except StopIteration as done:
            return done.value
        answer = await _perform_async(call, limiter if call.bounded else None, deadline)


async def _perform_async(
    call: Call, limiter: anyio.CapacityLimiter | None, deadline: Deadline | None
) -> Returned | Raised:
    if call.how == "thread" and call.timeout is None and call.bounded:
        answer = await _thread_until(call, limiter, deadline)
        if isinstance(answer, Returned) and isinstance(answer.value, _Box):
            return await _await_box(answer.value)  # a plain function returned a coroutine
        return answer
    with anyio.move_on_after(call.timeout):
        value: Any = None
        try:
            if call.how == "thread":  # given up on (after `timeout`, or when cancelled)
                value = await anyio.to_thread.run_sync(
                    _boxed, call.fn, limiter=limiter, abandon_on_cancel=True
                )
            elif limiter is not None:
                async with limiter:
                    value = await _call_and_await(call)
            else:
                value = await _call_and_await(call)
            if isinstance(value, _Box):
                value = await value.awaitable
        except Exception as exc:
            return Raised(exc)
        return Returned(value)
    return Raised(TimeoutError(f"no answer within {call.timeout:g} s"), timed_out=True)


async def _thread_until(
    call: Call, limiter: anyio.CapacityLimiter | None, deadline: Deadline | None
) -> Returned | Raised:
    """Run `call` in a worker thread, waited for even when cancelled, until the deadline."""
    gave_up = threading.Event()

    def work() -> Any:
        try:
            return _boxed(call.fn)
        finally:
            if gave_up.is_set():
                _log_dropped(call)

    # Waiting for a slot may be cancelled (a call not started yet is not started); once the
    # handler runs, the wait for it is shielded up to the deadline.
    async with limiter if limiter is not None else _no_limit():
        end = math.inf if deadline is None else anyio.current_time() + deadline.remaining()
        with anyio.CancelScope(shield=True, deadline=end):
            try:
                value = await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
            except Exception as exc:
                return Raised(exc)
            return Returned(value)
    gave_up.set()
    assert deadline is not None  # only a deadline ends the shielded wait
    raise deadline.on_expiry()


@contextlib.asynccontextmanager
async def _no_limit() -> AsyncGenerator[None]:
    yield


async def _await_box(box: _Box) -> Returned | Raised:
    try:
        return Returned(await box.awaitable)
    except Exception as exc:
        return Raised(exc)


class _Box:
    # Carries an awaitable out of a worker thread (trio refuses to return one from there).
    __slots__ = ("awaitable",)

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        self.awaitable = awaitable


def _boxed(fn: Callable[[], Any]) -> Any:
    value = fn()
    return _Box(value) if inspect.isawaitable(value) else value


async def _call_and_await(call: Call) -> Any:
    value = call.fn()
    if inspect.isawaitable(value):
        value = await value
    return value


def execute_sync(
    flow: Flow[T],
    *,
    limiter: threading.Semaphore | None = None,
    deadline: Deadline | None = None,
) -> T:
    """Run `flow` to its end on this thread (a worker thread of the sync client's runner).

    Args:
        flow: A dispatch flow (`run_tool`, `decide_approval`).
        limiter: Bounds the tool calls running at once, across the turn's threads.
        deadline: The turn's deadline: what returns after it is dropped.

    Raises:
        AgentTimeoutError: A call returned after the deadline (its answer was dropped).
    """
    answer: Returned | Raised | None = None
    while True:
        try:
            call = next(flow) if answer is None else flow.send(answer)
        except StopIteration as done:
            return done.value
        answer = _perform_sync(call, limiter if call.bounded else None)
        if deadline is not None and deadline.expired():
            _log_dropped(call)  # the caller has its timeout error: nobody waits for this
            raise deadline.on_expiry()


def _perform_sync(call: Call, limiter: threading.Semaphore | None) -> Returned | Raised:
    if call.how == "await":
        return Raised(_async_in_sync(call))
    if call.timeout is None:
        with limiter if limiter is not None else contextlib.nullcontext():
            return _call_sync(call)
    # A helper thread, so the wait can end; its answer is ignored once the time is up.
    box: list[Returned | Raised] = []
    done = threading.Event()
    context = contextvars.copy_context()

    def work() -> None:
        box.append(context.run(_call_sync, call))
        done.set()

    threading.Thread(target=work, name="inferencesh-approval", daemon=True).start()
    if not done.wait(call.timeout):
        return Raised(TimeoutError(f"no answer within {call.timeout:g} s"), timed_out=True)
    return box[0]


def _call_sync(call: Call) -> Returned | Raised:
    try:
        value = call.fn()
    except Exception as exc:
        return Raised(exc)
    if inspect.isawaitable(value):
        close = getattr(value, "close", None)
        if callable(close):
            close()  # never awaited: close it so Python does not warn
        return Raised(_async_in_sync(call))
    return Returned(value)


def _async_in_sync(call: Call) -> TypeError:
    return TypeError(
        f"{call.fn!r} is async: the sync client cannot await it; use the async client"
        " (AsyncInference) or a plain function"
    )


def _log_dropped(call: Call) -> None:
    logger.warning(
        "%s returned after its turn's deadline had passed; its result was dropped",
        call.label or "a call",
    )
