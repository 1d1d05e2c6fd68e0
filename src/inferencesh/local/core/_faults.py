"""Fault injection, for testing how clients cope with a bad network or a busy server.

Everything is off by default and thread-safe: tests arm faults from their own thread while
the server runs in another.

```python
emu.faults.fail_next(2, status=429, retry_after=0)   # the next 2 requests: 429 + Retry-After
emu.faults.cut_stream_after(3)                        # the next stream breaks after 3 lines
emu.faults.latency(0.05)                              # every request waits 50 ms first
emu.faults.delayed, emu.faults.delayed_seconds        # requests delayed so far, and by how much
emu.faults.reset()
```
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from inferencesh.local.core._envelope import ApiError, problem_response
from inferencesh.local.core._streams import StreamCut

__all__ = ["Faults", "FaultsMiddleware"]

_CODES = {429: "rate_limited", 503: "service_unavailable", 500: "internal_error"}


@dataclass(kw_only=True)
class _Failure:
    remaining: int
    status: int
    retry_after: float | None
    path: str | None
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


class Faults:
    """The faults armed on one emulator; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[_Failure] = []
        self._cuts: list[StreamCut] = []
        self._latency = 0.0
        self._delayed = 0
        self._delayed_seconds = 0.0

    def fail_next(
        self,
        n: int,
        status: int = 503,
        retry_after: float | None = 1,
        *,
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `n` requests with `status` (problem+json) instead of serving them.

        Args:
            n: How many requests fail.
            status: The HTTP status, typically 429 or 503.
            retry_after: Seconds for the `Retry-After` header (None: no header). Fractions
                are written as decimals (`0.05`), which clients built on this SDK honour.
            path: Only requests whose path matches this glob, e.g. `"/tasks/*/stream"`.
            method: Only requests with this method.
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if not 400 <= status <= 599:
            raise ValueError(f"status must be an error status (4xx/5xx), got {status}")
        failure = _Failure(
            remaining=n, status=status, retry_after=retry_after, path=path, method=method
        )
        with self._lock:
            self._failures.append(failure)

    def cut_stream_after(self, lines: int, times: int = 1, *, abort: bool = True) -> None:
        """Make the next `times` streams stop after `lines` lines (heartbeats not counted).

        Args:
            lines: Lines written before the cut; the snapshot counts as the first.
            times: How many streams are cut.
            abort: Break the connection mid-body (clients see a transport error), or with
                False end the body cleanly before the task ended.
        """
        if lines < 0 or times < 1:
            raise ValueError("lines must be >= 0 and times >= 1")
        with self._lock:
            self._cuts.extend([StreamCut(lines, abort)] * times)

    def latency(self, seconds: float) -> None:
        """Delay every request by `seconds` before it is handled (0 turns it off)."""
        if seconds < 0:
            raise ValueError(f"latency must be >= 0, got {seconds}")
        with self._lock:
            self._latency = seconds

    def reset(self) -> None:
        """Disarm every fault and zero the `delayed` counts."""
        with self._lock:
            self._failures.clear()
            self._cuts.clear()
            self._latency = 0.0
            self._delayed = 0
            self._delayed_seconds = 0.0

    @property
    def added_latency(self) -> float:
        """The latency armed with `latency()`."""
        with self._lock:
            return self._latency

    @property
    def delayed(self) -> int:
        """How many requests `latency()` has delayed (counted once their wait is over)."""
        with self._lock:
            return self._delayed

    @property
    def delayed_seconds(self) -> float:
        """The latency those requests waited, in total (seconds)."""
        with self._lock:
            return self._delayed_seconds

    def count_delay(self, seconds: float) -> None:
        """Record that a request waited `seconds` (called by the middleware)."""
        with self._lock:
            self._delayed += 1
            self._delayed_seconds += seconds

    def take_failure(self, method: str, path: str) -> ApiError | None:
        """The error to answer this request with, if a failure is armed for it."""
        with self._lock:
            for failure in self._failures:
                if failure.matches(method, path):
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                    break
            else:
                return None
        headers: dict[str, str] = {}
        if failure.retry_after is not None:
            headers["retry-after"] = _seconds(failure.retry_after)
        return ApiError(
            failure.status,
            _CODES.get(failure.status, "injected_fault"),
            f"injected fault: {failure.status} (emulator fault injection)",
            headers=headers,
        )

    def take_cut(self) -> StreamCut | None:
        """The cut for a stream being opened, if one is armed."""
        with self._lock:
            return self._cuts.pop(0) if self._cuts else None


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class FaultsMiddleware:
    """Applies latency and armed failures to every request but CORS preflights."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        delay = self.faults.added_latency
        if delay > 0:
            await anyio.sleep(delay)
            # Counted after the wait, so a count says the delay was really served; tests
            # check it instead of timing requests.
            self.faults.count_delay(delay)
        error = self.faults.take_failure(scope["method"], scope["path"])
        if error is not None:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            await problem_response(error, headers)(scope, receive, send)
            return
        await self.app(scope, receive, send)
