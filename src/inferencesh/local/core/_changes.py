"""`Changes`: one signal, shared by the emulator's stores, that its state changed.

Every store calls `notify()` after a change (a task updated, a file record or partial upload
added or removed, a session's worker leased or released), so `wait_until` can block on any
condition over the emulator's state instead of polling it.

`notify()` may be called with a store's lock held, and a predicate takes store locks. To keep
the lock order one-way, `wait_until` never runs the predicate while holding the condition:
it notes the change count, checks the predicate, then waits for the count to move.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Changes"]


class Changes:
    """A change counter that threads can wait on (thread-safe)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._count = 0

    def notify(self) -> None:
        """Something changed: wake every `wait_until` to check its predicate again."""
        with self._cond:
            self._count += 1
            self._cond.notify_all()

    def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> None:
        """Block until `predicate()` is true; it is checked now and after every change.

        Raises:
            TimeoutError: it was still false after `timeout` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                seen = self._count
            if predicate():
                return
            with self._cond:
                # A change between the check and here moved the count: check again at once.
                while self._count == seen:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise TimeoutError(
                            f"the emulator's state did not satisfy {_name(predicate)} "
                            f"within {timeout} s"
                        )
                    self._cond.wait(remaining)


def _name(predicate: Callable[[], bool]) -> str:
    return getattr(predicate, "__qualname__", None) or repr(predicate)
