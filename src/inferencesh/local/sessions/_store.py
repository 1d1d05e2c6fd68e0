"""Sessions: a worker (an app instance) pinned to a client across runs (sessions.md).

`session: "new"` on a run opens a session with a worker of its own, set up afresh, so state
from other runs never leaks in; `session: <id>` runs on that worker again. A worker runs one
call at a time: a second call while it is busy is refused (`WORKER_LEASED`), not queued.

The idle timer restarts when a call ends and on each keepalive; a session whose worker has
been idle for `idle_timeout` seconds of the emulator's clock is expired (checked when the
session is next looked at, so tests move `emu.clock` instead of sleeping). Ending or expiry
releases the worker for good: its instance, and the state in it, are dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from inferencesh.local.apps._registry import RegisteredApp, Worker
from inferencesh.local.core._envelope import ApiError
from inferencesh.local.core._ids import TEAM_ID, USER_ID, Clock, iso, new_id

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "MAX_IDLE_TIMEOUT",
    "MIN_IDLE_TIMEOUT",
    "Lease",
    "SessionStore",
    "parse_timeout",
]

DEFAULT_IDLE_TIMEOUT = 60
"""Seconds; both official SDKs' READMEs say 60 s (open question 15)."""
MIN_IDLE_TIMEOUT = 1
MAX_IDLE_TIMEOUT = 3600

SessionStatus = Literal["active", "ended", "expired"]


class SessionRecord:
    """One session and its worker."""

    __slots__ = (
        "app",
        "busy",
        "call_count",
        "created_at",
        "ended_at",
        "expires_at",
        "id",
        "idle_timeout",
        "last_call_at",
        "status",
        "task_id",
        "updated_at",
        "worker",
    )

    def __init__(
        self, app: RegisteredApp, worker: Worker, idle_timeout: int, now: datetime
    ) -> None:
        self.id = new_id("sess")
        self.app = app
        self.worker = worker
        self.idle_timeout = idle_timeout
        self.created_at = self.updated_at = now
        self.expires_at = now + timedelta(seconds=idle_timeout)
        self.last_call_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.call_count = 0
        self.status: SessionStatus = "active"
        self.task_id: str | None = None
        self.busy = False
        """A call is running on the worker (it cannot expire meanwhile)."""

    def dto(self) -> dict[str, Any]:
        """`AppSessionDTO`, as `GET /sessions/{id}` shows it."""
        dto: dict[str, Any] = {
            "id": self.id,
            "short_id": self.id.removeprefix("sess_")[:8],
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "user_id": USER_ID,
            "team_id": TEAM_ID,
            "visibility": "private",
            "worker_id": self.worker.id,
            "app_id": self.app.app_id,
            "app_version_id": self.app.version,
            "status": self.status,
            "expires_at": iso(self.expires_at),
            "call_count": self.call_count,
            "idle_timeout": self.idle_timeout,
        }
        if self.ended_at is not None:
            dto["ended_at"] = iso(self.ended_at)
        if self.task_id is not None:
            dto["task_id"] = self.task_id
        if self.last_call_at is not None:
            dto["last_call_at"] = iso(self.last_call_at)
        return dto


class Lease:
    """A call's hold on its session's worker; released once the app's code is done."""

    def __init__(
        self, store: SessionStore, session: SessionRecord, *, opened: bool = False
    ) -> None:
        self.store = store
        self.session_id = session.id
        self.worker = session.worker
        self.opened = opened
        """The call opened the session (`session: "new"`)."""
        self.before = (
            session.call_count,
            session.last_call_at,
            session.updated_at,
            session.expires_at,
            session.task_id,
        )
        """What the call changed, for `SessionStore.undo`."""
        self._lock = threading.Lock()
        self._released = False

    def release(self) -> None:
        """The call is over: the worker is free and the idle timer restarts (idempotent)."""
        with self._lock:
            if self._released:
                return
            self._released = True
        self.store._end_call(self.session_id)  # pyright: ignore[reportPrivateUsage]

    def release_when(self, idle: threading.Event) -> None:
        """Release once `idle` is set: a cancelled sync app may still be running its thread."""
        if idle.is_set():
            self.release()
            return

        def wait() -> None:
            idle.wait()
            self.release()

        threading.Thread(
            target=wait, name=f"inferencesh-lease-{self.session_id}", daemon=True
        ).start()


class SessionStore:
    """Every session of one emulator (thread-safe)."""

    def __init__(
        self,
        *,
        clock: Clock,
        default_idle_timeout: int = DEFAULT_IDLE_TIMEOUT,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.clock = clock
        self.default_idle_timeout = default_idle_timeout
        self._on_change = on_change
        """Called after a worker is leased or released (`Emulator.wait_until` waits on it)."""
        self._lock = threading.Lock()
        self._sessions: dict[str, SessionRecord] = {}

    # -- calls ----------------------------------------------------------------------------

    def open(self, app: RegisteredApp, setup_key: str, idle_timeout: int | None) -> Lease:
        """A new session of `app` with a fresh worker, leased for its first call."""
        with self._lock:
            now = self.clock.now()
            timeout = self.default_idle_timeout if idle_timeout is None else idle_timeout
            record = SessionRecord(app, Worker(setup_key), timeout, now)
            self._sessions[record.id] = record
            lease = Lease(self, record, opened=True)
            self._start_call(record, now)
            return lease

    def lease(self, session_id: str, app: RegisteredApp) -> Lease:
        """Lease the worker of an existing session for one call of `app`.

        Raises:
            ApiError: 404 `SESSION_NOT_FOUND`, 410 `SESSION_ENDED` / `SESSION_EXPIRED`,
                409 `APP_MISMATCH` / `VERSION_MISMATCH` / `WORKER_LEASED`.
        """
        with self._lock:
            record = self._usable(session_id)
            if record.app.ref != app.ref:
                raise _error(
                    409,
                    "APP_MISMATCH",
                    session_id,
                    f"session {session_id} belongs to app {record.app.ref}, not {app.ref}",
                )
            if record.app is not app:
                raise _error(
                    409,
                    "VERSION_MISMATCH",
                    session_id,
                    f"session {session_id} runs {app.ref} version {record.app.version}; the "
                    f"app was registered again (version {app.version}) since",
                )
            if record.busy:
                raise _error(
                    409,
                    "WORKER_LEASED",
                    session_id,
                    f"the worker of session {session_id} is busy with task {record.task_id}; "
                    "a session runs one call at a time",
                )
            lease = Lease(self, record)
            self._start_call(record, self.clock.now())
            return lease

    def undo(self, lease: Lease) -> None:
        """Take back a lease whose call never started: as if it had never been asked for.

        A session the call opened is forgotten; an existing one is as it was before.
        """
        with self._lock:
            record = self._sessions.get(lease.session_id)
            if record is None:
                return
            if lease.opened:
                del self._sessions[lease.session_id]
            else:
                (
                    record.call_count,
                    record.last_call_at,
                    record.updated_at,
                    record.expires_at,
                    record.task_id,
                ) = lease.before
                record.busy = False
        lease._released = True  # pyright: ignore[reportPrivateUsage]
        self._on_change()

    def attach(self, session_id: str, task_id: str) -> None:
        """Record the task a leased call runs as."""
        with self._lock:
            record = self._sessions.get(session_id)
            if record is not None:
                record.task_id = task_id

    def _start_call(self, record: SessionRecord, now: datetime) -> None:
        record.busy = True
        record.call_count += 1
        record.last_call_at = record.updated_at = now
        self._on_change()

    def _end_call(self, session_id: str) -> None:
        with self._lock:
            record = self._sessions.get(session_id)
            if record is None:
                return
            record.busy = False
            if record.status == "active":
                now = self.clock.now()
                record.updated_at = now
                record.expires_at = now + timedelta(seconds=record.idle_timeout)
        self._on_change()

    def busy(self, session_id: str) -> bool:
        """Whether a call holds the session's worker (False for an unknown session).

        A cancelled call of a sync app holds it until the app's thread returned; tests wait
        for that with `emu.wait_until(lambda: not emu.session_store.busy(session_id))`.
        """
        with self._lock:
            record = self._sessions.get(session_id)
            return record is not None and record.busy

    # -- the endpoints --------------------------------------------------------------------

    def get(self, session_id: str) -> dict[str, Any]:
        """The session, whatever its status.

        Raises:
            ApiError: 404 `SESSION_NOT_FOUND`.
        """
        with self._lock:
            return self._find(session_id).dto()

    def list(self) -> list[dict[str, Any]]:
        """Every session, newest first."""
        with self._lock:
            records = list(self._sessions.values())
            for record in records:
                self._refresh(record)
            return [r.dto() for r in reversed(records)]

    def keepalive(self, session_id: str) -> dict[str, Any]:
        """Restart the idle timer; the updated session.

        Raises:
            ApiError: 404 unknown, 410 ended or expired.
        """
        with self._lock:
            record = self._usable(session_id)
            now = self.clock.now()
            record.updated_at = now
            record.expires_at = now + timedelta(seconds=record.idle_timeout)
            return record.dto()

    def end(self, session_id: str) -> None:
        """End the session and drop its worker; a no-op once ended or expired.

        A call still running finishes; later calls are refused with `SESSION_ENDED`.

        Raises:
            ApiError: 404 `SESSION_NOT_FOUND`.
        """
        with self._lock:
            record = self._find(session_id)
            if record.status != "active":
                return
            now = self.clock.now()
            record.status = "ended"
            record.ended_at = record.updated_at = now
            _drop_worker(record)
        self._on_change()

    def records(self) -> list[dict[str, Any]]:
        """Copies of every session, oldest first (for `Emulator.sessions()`)."""
        with self._lock:
            records = list(self._sessions.values())
            for record in records:
                self._refresh(record)
            return [r.dto() for r in records]

    # -- internals (under the lock) -------------------------------------------------------

    def _find(self, session_id: str) -> SessionRecord:
        record = self._sessions.get(session_id)
        if record is None:
            raise _error(404, "SESSION_NOT_FOUND", session_id, f"session {session_id} not found")
        self._refresh(record)
        return record

    def _usable(self, session_id: str) -> SessionRecord:
        record = self._find(session_id)
        if record.status == "ended":
            raise _error(
                410,
                "SESSION_ENDED",
                session_id,
                f'Session ended: {session_id}; start a new one with session: "new"',
            )
        if record.status == "expired":
            raise _error(
                410,
                "SESSION_EXPIRED",
                session_id,
                f"Session expired: {session_id} (idle for {record.idle_timeout} s); start a new "
                'one with session: "new"',
            )
        return record

    def _refresh(self, record: SessionRecord) -> None:
        """Expire the session if its worker sat idle past the timeout."""
        if record.status == "active" and not record.busy and self.clock.now() >= record.expires_at:
            record.status = "expired"
            record.ended_at = record.updated_at = record.expires_at
            _drop_worker(record)


def _drop_worker(record: SessionRecord) -> None:
    # The instance holds the session's state; nothing may use it again.
    record.worker.instance = None
    record.worker.ready = False


def _error(status: int, code: str, session_id: str, detail: str) -> ApiError:
    return ApiError(status, code, detail, extra={"session_id": session_id})


def parse_timeout(value: Any) -> int:
    """Check a run request's `session_timeout` (1-3600 s).

    Raises:
        ApiError: 400 `validation_error` naming `session_timeout`.
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not MIN_IDLE_TIMEOUT <= value <= MAX_IDLE_TIMEOUT
    ):
        raise ApiError(
            400,
            "validation_error",
            f"session_timeout must be a whole number of seconds from {MIN_IDLE_TIMEOUT} to "
            f"{MAX_IDLE_TIMEOUT}, got {value!r}",
            extra={"invalid_params": [{"name": "session_timeout", "reason": "out of range"}]},
        )
    return value
