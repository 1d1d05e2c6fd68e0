"""Ids and timestamps for emulator resources.

Ids are opaque strings with a resource prefix (`tsk_...`), as the real API's are to clients.
Timestamps are RFC 3339 in UTC with microseconds; the clock never repeats or goes back, so
ordering by `created_at` is total and `updated_at` changes on every update.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta

__all__ = ["TEAM_ID", "USER_ID", "Clock", "new_id"]

USER_ID = "usr_local"
"""The one user every request acts as."""
TEAM_ID = "team_local"
"""The user's team."""


def new_id(prefix: str) -> str:
    """A fresh id such as `tsk_5f0c2a9e81d34b7a`; its first 8 hex digits make the short id."""
    return f"{prefix}_{secrets.token_hex(8)}"


class Clock:
    """Strictly increasing UTC timestamps (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = datetime.min.replace(tzinfo=UTC)
        self._offset = timedelta()

    def advance(self, seconds: float) -> None:
        """Move the clock forward, e.g. to make an idle timeout elapse in a test."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward, got {seconds}")
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def now(self) -> datetime:
        """The current time, at least one microsecond after the previous reading."""
        with self._lock:
            now = datetime.now(UTC) + self._offset
            if now <= self._last:
                now = self._last + timedelta(microseconds=1)
            self._last = now
            return now

    def now_iso(self) -> str:
        """`now()` as RFC 3339, e.g. `2026-10-20T12:00:00.120000Z`."""
        return iso(self.now())


def iso(moment: datetime) -> str:
    """RFC 3339 with microseconds and `Z`, which every client's date parser accepts."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Read a timestamp written by `iso`."""
    return datetime.fromisoformat(text)
