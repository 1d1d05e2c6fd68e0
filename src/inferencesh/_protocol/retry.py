"""When to retry a request, and how long to wait first. Pure decisions, no sleeping."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx2

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "parse_retry_after"]

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# A request that is not idempotent (it would start a second task) is retried only when the
# server certainly did not act on it: it refused with 408/429/503, or the connection was never
# made. A 500/502/504 or a read error may come after the task was created.
REFUSED_STATUSES = frozenset({408, 429, 503})
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with jitter, honouring `Retry-After`."""

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    """Each delay is shortened by up to this fraction, so clients do not retry in lockstep."""
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, attempt: int) -> float:
        """The delay before retry number `attempt` (1-based), in `[0, max_delay]`."""
        base = min(self.max_delay, self.initial_delay * 2 ** max(0, attempt - 1))
        return base * (1.0 - self.jitter * self.rng.random())

    def delay_after_response(
        self, attempt: int, response: httpx2.Response, *, idempotent: bool
    ) -> float | None:
        """Seconds to wait before retrying after `response`, or None to give up."""
        if attempt > self.max_retries:
            return None
        allowed = RETRYABLE_STATUSES if idempotent else REFUSED_STATUSES
        if response.status_code not in allowed:
            return None
        after = parse_retry_after(response.headers.get("retry-after"))
        if after is not None and after <= MAX_RETRY_AFTER:
            return after
        return self.backoff(attempt)

    def delay_after_error(
        self, attempt: int, exc: httpx2.TransportError, *, idempotent: bool
    ) -> float | None:
        """Seconds to wait before retrying after a transport error, or None to give up."""
        if attempt > self.max_retries:
            return None
        if not idempotent and not isinstance(exc, _NOT_SENT):
            return None
        return self.backoff(attempt)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: delta-seconds or an HTTP date; None if unusable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds == float("inf"):  # NaN or infinite: ignore the header
        return None
    return max(0.0, seconds)
