"""The decisions of the one retry loop every request goes through (the drivers' `send()`).

A driver asks `Attempts` for the request to send, sends it, and reports what came back: a
transport error or a non-2xx response (its body read). `Attempts` answers with how long to
wait before the next try, or raises the error the caller sees. It never sleeps or sends:

```python
attempts = Attempts(call)
while True:
    request = attempts.next_request()
    try:
        response = send(request)
    except httpx2.TransportError as exc:
        sleep(attempts.after_error(exc))
        continue
    if response.is_success:
        return response
    read_and_close(response)
    sleep(attempts.after_response(response))
```

What is retried, and for how long, is `RetryPolicy`'s: a request that may have reached the
server is repeated only if it is idempotent. The call's `Deadline`, when it has one, bounds
everything: each try's timeouts are cut to the time left, and a wait that would outlast the
deadline is not started: the deadline's error is raised at once, from the last error.
"""

from __future__ import annotations

import httpx2

from inferencesh._protocol.endpoints import ApiRequest
from inferencesh._protocol.envelope import error_from_response
from inferencesh._protocol.results import translate_transport_error
from inferencesh._protocol.retry import RetryPolicy

__all__ = ["Attempts"]


class Attempts:
    """The tries of one request; see the module docstring."""

    __slots__ = ("_attempt", "_call", "_policy", "request")

    def __init__(self, call: ApiRequest) -> None:
        self._call = call
        self._attempt = 0
        self._policy: RetryPolicy | None = None  # made on the first failure: most calls never fail
        self.request = call.request
        """The request of the current try."""

    @property
    def attempt(self) -> int:
        """The current try, 1-based."""
        return self._attempt

    def next_request(self) -> httpx2.Request:
        """The request to send now (made again for a streamed body), its timeouts capped.

        Raises:
            The deadline's error (`TaskTimeoutError`, ...) once the call's deadline passed.
        """
        call = self._call
        self._attempt += 1
        if self._attempt > 1 and call.rewind is not None:
            self.request = call.rewind()
        deadline = call.deadline
        if deadline is not None:
            deadline.check()
            extensions = self.request.extensions
            extensions["timeout"] = deadline.cap_timeouts(extensions.get("timeout", {}))
        return self.request

    def after_error(self, exc: httpx2.TransportError) -> float:
        """Seconds to wait before trying again after `exc`.

        Raises:
            APIConnectionError: no retry (`APITimeoutError` for a timeout), from `exc`.
            The deadline's error: it passed, or the wait before the next try would pass it.
        """
        call = self._call
        deadline = call.deadline
        if deadline is not None and deadline.expired():
            raise deadline.on_expiry() from exc
        delay = self._retry_policy().delay_after_error(
            self._attempt, exc, idempotent=call.idempotent
        )
        if delay is None:
            raise translate_transport_error(exc, self.request) from exc
        if deadline is not None and delay >= deadline.remaining():
            raise deadline.on_expiry() from translate_transport_error(exc, self.request)
        return delay

    def after_response(self, response: httpx2.Response) -> float:
        """Seconds to wait before trying again after a non-2xx `response` (body read).

        Raises:
            APIStatusError: the response's error (by status and code) when there is no retry:
                not retryable, retries used up, a `Retry-After` above `max_retry_after`.
            The deadline's error: the wait before the next try would pass the deadline.
        """
        delay = self._retry_policy().delay_after_response(
            self._attempt, response, idempotent=self._call.idempotent
        )
        if delay is None:
            raise error_from_response(response)
        deadline = self._call.deadline
        if deadline is not None and delay >= deadline.remaining():
            raise deadline.on_expiry() from error_from_response(response)
        return delay

    def _retry_policy(self) -> RetryPolicy:
        if self._policy is None:
            call = self._call
            self._policy = RetryPolicy(
                max_retries=call.max_retries, max_retry_after=call.max_retry_after
            )
        return self._policy
