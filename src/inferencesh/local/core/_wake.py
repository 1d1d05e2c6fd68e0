"""Waking an event loop from another thread without blocking either.

The emulator serves HTTP on one loop and runs agent turns and tasks on loops of its own, and an
app's worker thread publishes too. anyio's way across (`from_thread`, a blocking portal) makes
the caller wait until the other loop has run the call: a thread switch each time, paid on
every publish and every spawned step. These only schedule.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

__all__ = ["scheduler", "waker"]

Schedule = Callable[[Callable[[], object]], object]


def waker(callback: Callable[[], None]) -> Callable[[], None]:
    """`callback` made callable from any thread, never blocking the caller.

    Run at once on this thread, else scheduled on the event loop running here now (call this
    from the loop's thread).
    """
    owner = threading.get_ident()
    schedule, gone = scheduler()

    def wake() -> None:
        if threading.get_ident() == owner:
            callback()
            return
        try:
            schedule(callback)
        except gone:
            pass  # its loop has ended: nobody waits any more

    return wake


def scheduler() -> tuple[Schedule, type[BaseException]]:
    """The running loop's thread-safe "call soon", and what it raises once the loop is gone."""
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            token = trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass  # trio is imported, but this is asyncio
        else:
            return token.run_sync_soon, trio.RunFinishedError
    # anyio has no non-blocking "call soon from another thread"; asyncio's own is that.
    import asyncio  # noqa: TID251

    return asyncio.get_running_loop().call_soon_threadsafe, RuntimeError
