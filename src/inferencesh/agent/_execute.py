"""Carrying out the calls of a dispatch flow: one executor per client flavour.

The async executor awaits async functions, runs sync ones in worker threads (context variables
kept: anyio copies the caller's context into the thread) and bounds the tool calls running at
once with a limiter. The sync executor calls everything on the caller's thread, in order; only
a call with a timeout (an approval callback) goes to a helper thread, so the wait can end.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from inferencesh.agent.dispatch import Call, Flow, Raised, Returned

__all__ = ["execute_async", "execute_sync"]

T = TypeVar("T")


async def execute_async(flow: Flow[T], *, limiter: anyio.CapacityLimiter | None = None) -> T:
    """Run `flow` to its end on the running event loop (asyncio or trio).

    Args:
        flow: A dispatch flow (`run_tool`, `decide_approval`).
        limiter: Bounds the tool calls running at once (threads and awaited handlers alike).
    """
    answer: Returned | Raised | None = None
    while True:
        try:
            call = next(flow) if answer is None else flow.send(answer)
        except StopIteration as done:
            return done.value
        answer = await _perform_async(call, limiter if call.bounded else None)


async def _perform_async(call: Call, limiter: anyio.CapacityLimiter | None) -> Returned | Raised:
    with anyio.move_on_after(call.timeout):
        value: Any = None
        try:
            if call.how == "thread" and call.timeout is None:
                # A thread cannot be stopped: let it finish, so what it did is not lost.
                with anyio.CancelScope(shield=True):
                    value = await anyio.to_thread.run_sync(_boxed, call.fn, limiter=limiter)
            elif call.how == "thread":  # given up on after `timeout` (its answer ignored)
                value = await anyio.to_thread.run_sync(
                    _boxed, call.fn, limiter=limiter, abandon_on_cancel=True
                )
            elif limiter is not None:
                async with limiter:
                    value = await _call_and_await(call)
            else:
                value = await _call_and_await(call)
            if isinstance(value, _Box):  # a plain function that returned a coroutine
                value = await value.awaitable
        except Exception as exc:
            return Raised(exc)
        return Returned(value)
    return Raised(TimeoutError(f"no answer within {call.timeout:g} s"), timed_out=True)


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


def execute_sync(flow: Flow[T], *, limiter: object = None) -> T:
    """Run `flow` to its end on this thread (the sync client's runner).

    Args:
        flow: A dispatch flow (`run_tool`, `decide_approval`).
        limiter: Unused: calls run one at a time here (taken so both runners read alike).
    """
    answer: Returned | Raised | None = None
    while True:
        try:
            call = next(flow) if answer is None else flow.send(answer)
        except StopIteration as done:
            return done.value
        answer = _perform_sync(call)


def _perform_sync(call: Call) -> Returned | Raised:
    if call.how == "await":
        return Raised(_async_in_sync(call))
    if call.timeout is None:
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
