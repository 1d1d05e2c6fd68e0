"""What a follower keeps to reconnect: the attempts in a row, their backoff, the deadline.

`TaskWatch` and `ChatWatch` follow different resources the same way; this is the part they
share, so both count failed attempts, back off, honour `Retry-After` and bound their waits by
the caller's deadline identically.
"""

from __future__ import annotations

from dataclasses import replace

from inferencesh._config import ClientOptions
from inferencesh._protocol import endpoints
from inferencesh._protocol.deadline import Deadline
from inferencesh._protocol.retry import RETRYABLE_STATUSES, RetryPolicy
from inferencesh.errors import APIStatusError

__all__ = ["Reconnects"]


class Reconnects:
    """The reconnect budget and deadline of one follower."""

    def __init__(self, opts: ClientOptions, deadline: Deadline | None) -> None:
        self._opts = opts
        self.deadline = deadline
        self.failures = 0
        """Attempts in a row that brought nothing new."""
        self.progress = 0
        """What the current connection brought (lines, updates): any resets `failures`."""
        self._retry = RetryPolicy(max_retries=opts.max_reconnects, initial_delay=0.25)

    def connecting(self) -> None:
        """A new connection begins: nothing came from it yet."""
        self.progress = 0

    def count_attempt(self) -> None:
        """A connection ended (or failed): one more attempt in a row, unless it brought any."""
        if self.progress:
            self.failures = 0
        self.failures += 1
        self.progress = 0

    @property
    def used_up(self) -> bool:
        """Whether more attempts in a row failed than `max_reconnects` allows."""
        return self.failures > self._opts.max_reconnects

    def backoff(self) -> float:
        """Seconds to wait before the next attempt."""
        return self._retry.backoff(self.failures)

    def delay_after(self, exc: Exception) -> float:
        """Count a failed attempt; the seconds to wait before the next one.

        Raises:
            APIStatusError: `exc` itself, when retrying cannot mend it (a status that is not
                retryable, or a `Retry-After` beyond `max_retry_after`).
        """
        self.count_attempt()
        delay = self.backoff()
        if isinstance(exc, APIStatusError):
            if exc.status_code not in RETRYABLE_STATUSES:
                raise exc
            if exc.retry_after is not None:
                if exc.retry_after > self._opts.max_retry_after:
                    raise exc
                delay = exc.retry_after
        return delay

    def expired(self) -> bool:
        """Whether the caller's deadline has passed."""
        return self.deadline is not None and self.deadline.expired()

    def remaining(self) -> float | None:
        """Seconds left before the caller's deadline, or None without one."""
        return None if self.deadline is None else self.deadline.remaining()

    def cap(self, seconds: float) -> float:
        """`seconds`, cut to the time left."""
        return seconds if self.deadline is None else self.deadline.cap(seconds)

    def get(self, path: str, *, stream: bool = False) -> endpoints.ApiRequest:
        """`GET path`, within the deadline; a stream open is tried once.

        Reconnecting is the follower's job, with its own budget: retrying inside each
        reconnect too would multiply the two budgets.
        """
        call = endpoints.build(self._opts, "GET", path, stream=stream)
        if stream:
            call = replace(call, max_retries=0)
        return call.within(self.deadline)
