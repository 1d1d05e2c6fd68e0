"""When to retry a request, and how long to wait first. Pure decisions, no sleeping."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx2

__all__ = ["RETRYABLE_STATUSES", "SENT", "RetryPolicy", "may_have_been_sent", "parse_retry_after"]

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# A request that is not idempotent (it would start a second task) is retried only when the
# server certainly did not act on it: it refused with 408/429/503, or no byte of the request
# was written. A 500/502/504 or a read error may come after the task was created.
REFUSED_STATUSES = frozenset({408, 429, 503})

SENT = "inferencesh.sent"
"""The request extension where the SDK's transports record what happened on the wire.

A transport sets it to False when it takes the request, and to True just before the first byte
of the request could be written (once a connection for it exists). So False proves the server
never saw the request: a refused connection, a failed TLS handshake, a timeout waiting for a
pooled connection. A request without it went through a transport that does not record it (a
caller's `http_client`): it may have been sent.
"""


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with jitter, honouring `Retry-After` up to `max_retry_after`."""

    max_retries: int = 2
    max_retry_after: float = 60.0
    """The longest `Retry-After` waited for: asked for longer, the caller gets the error now."""
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
        if after is None:
            return self.backoff(attempt)
        return after if after <= self.max_retry_after else None

    def delay_after_error(
        self, attempt: int, exc: httpx2.TransportError, *, idempotent: bool
    ) -> float | None:
        """Seconds to wait before retrying after a transport error, or None to give up."""
        if attempt > self.max_retries:
            return None
        if not idempotent and may_have_been_sent(exc):
            return None
        return self.backoff(attempt)


def may_have_been_sent(exc: httpx2.TransportError) -> bool:
    """Whether the request `exc` broke may have reached the server, from what the wire saw.

    Decided from the request's `SENT` record, never from the exception's kind: a transport may
    report a timeout or reset that came after the request was written as a "connect" error.
    """
    try:
        request = exc.request
    except RuntimeError:  # raised outside a client: nothing is known
        return True
    return request.extensions.get(SENT) is not False


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
