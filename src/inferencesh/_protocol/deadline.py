"""One overall time limit for a call: every request, retry, reconnect and sleep stays inside it.

A `Deadline` starts when the caller's call starts (`run(..., wait_timeout=30)`) and travels
with each request the call makes (`ApiRequest.deadline`): the retry loop caps each request's
connect, read, write and pool timeouts to the time left, and stops trying once none is left;
the stream follower caps its sleeps the same way. So the call ends, one way or another, when
the caller said, however many retries and reconnects the budget would still allow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from inferencesh.errors import ConfigurationError

__all__ = ["Deadline"]

_NO_TIMEOUTS: dict[str, Any] = dict.fromkeys(("connect", "read", "write", "pool"))
_MIN_TIMEOUT = 0.001
"""A request is never sent with a zero timeout (httpx2 would read it as "no timeout")."""


class Deadline:
    """`seconds` from now; see the module docstring.

    `on_expiry` makes the error raised once it passed; its owner updates it as the call goes
    on (before a task exists, and once it does), so the error says where the call stood.
    """

    __slots__ = ("_clock", "_end", "on_expiry", "seconds")

    def __init__(
        self,
        seconds: float,
        *,
        on_expiry: Callable[[], Exception],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not seconds >= 0:  # negative or NaN: a caller's mistake, said now
            raise ConfigurationError(f"wait_timeout must be a number >= 0, got {seconds!r}")
        self.seconds = seconds
        self.on_expiry = on_expiry
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        """Seconds left; 0 or less once it passed."""
        return self._end - self._clock()

    def expired(self) -> bool:
        """Whether no time is left."""
        return self.remaining() <= 0

    def check(self) -> None:
        """Raise the deadline's error once it passed."""
        if self.expired():
            raise self.on_expiry()

    def cap(self, seconds: float) -> float:
        """`seconds`, shortened to the time left (never below 0)."""
        return max(0.0, min(seconds, self.remaining()))

    def cap_timeouts(self, timeouts: dict[str, Any]) -> dict[str, Any]:
        """httpx2's per-request timeout dict with every phase shortened to the time left.

        A phase without a timeout (None) gets the time left, so nothing waits past the end.
        """
        left = max(_MIN_TIMEOUT, self.remaining())
        return {
            phase: left if value is None else max(_MIN_TIMEOUT, min(value, left))
            for phase, value in (_NO_TIMEOUTS | timeouts).items()
        }
