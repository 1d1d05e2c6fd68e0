# Generated from _async/sessions.py by scripts/unasync.py: edit that file, not this one.
"""Sessions: warm workers kept across runs (sync)."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

from inferencesh._protocol import sessions as api
from inferencesh._protocol.envelope import read_data
from inferencesh._protocol.results import as_model
from inferencesh._sync._http import HTTP
from inferencesh.errors import (
    APIResponseValidationError,
    InferenceError,
    SessionClosedError,
    SessionEndedError,
    SessionExpiredError,
    SessionNotFoundError,
    TaskError,
    UsageError,
)
from inferencesh.models._status import TaskUpdate

if TYPE_CHECKING:
    from inferencesh._sync.tasks import Tasks
    from inferencesh.models.session import Session
    from inferencesh.models.task import Task

__all__ = ["AppSession", "Sessions"]


def _session() -> type[Session]:
    from inferencesh.models.session import Session  # built on first use, see inferencesh.models

    return Session


class Sessions:
    """Look up, keep alive and end sessions: `client.sessions`."""

    def __init__(self, http: HTTP) -> None:
        self._http = http

    def get(self, session_id: str) -> Session:
        """Fetch a session.

        Raises:
            SessionNotFoundError: no session has this id.
        """
        return self._http.request_model(_session(), api.get(self._http.opts, session_id))

    def list(self) -> builtins.list[Session]:
        """Your sessions."""
        response = self._http.send(api.list_sessions(self._http.opts))
        payload: Any = read_data(response)
        items: Any = payload
        if isinstance(payload, Mapping) and "items" in payload:
            # A page; an empty one may say `"items": null`, as Go encodes an empty list.
            items = cast("Mapping[str, Any]", payload)["items"] or []
        if not isinstance(items, list):
            raise APIResponseValidationError(
                f"GET /sessions: expected a list of sessions, got {type(items).__name__}",
                response=response,
            )
        return [as_model(_session(), item, response) for item in cast("list[Any]", items)]

    def keepalive(self, session_id: str) -> Session:
        """Restart a session's idle timer.

        Raises:
            SessionExpiredError: the idle timeout had already passed.
            SessionEndedError: the session was ended.
        """
        return self._http.request_model(_session(), api.keepalive(self._http.opts, session_id))

    def end(self, session_id: str) -> None:
        """End a session and release its worker."""
        self._http.request(api.end(self._http.opts, session_id))


class AppSession:
    """Runs of one app on one warm worker; see `Inference.session`.

    The session opens on the first `run` (`session="new"`) and ends when the `with` block
    exits, also on error.
    """

    def __init__(
        self,
        tasks: Tasks,
        sessions: Sessions,
        app: str,
        *,
        idle_timeout: int | None,
        function: str | None,
        setup: Any,
    ) -> None:
        self._tasks = tasks
        self._sessions = sessions
        self._app = app
        self._idle_timeout = idle_timeout
        self._function = function
        self._setup = setup
        self.id: str | None = None
        """The session id, once the first run opened it."""
        self.ended = False

    def run(
        self,
        input: Any,
        *,
        function: str | None = None,
        on_update: Callable[[TaskUpdate], object] | None = None,
        wait_timeout: float | None = None,
    ) -> Task:
        """Run the app on the session's worker and return the completed task.

        Raises:
            SessionClosedError: the handle has ended (`end()`, or its `with` block exited).
            TaskTimeoutError: `wait_timeout` passed first.
        """
        if self.ended:
            raise SessionClosedError(
                f"session {self.id or '(never opened)'} was ended; open a new one with session()"
            )
        opening = self.id is None
        try:
            task = self._tasks.run(
                self._app,
                input,
                session=self.id or "new",
                session_idle_timeout=self._idle_timeout if opening else None,
                function=function or self._function,
                setup=self._setup,
                on_update=on_update,
                wait_timeout=wait_timeout,
            )
        except TaskError as exc:
            self._adopt(exc.task)
            raise
        self._adopt(task)
        return task

    def keepalive(self) -> Session:
        """Restart the session's idle timer."""
        return self._sessions.keepalive(self._require_id())

    def info(self) -> Session:
        """Fetch the session's record."""
        return self._sessions.get(self._require_id())

    def end(self) -> None:
        """End the session now (leaving the `with` block does it too)."""
        if self.ended:
            return
        # Ended before any run, the handle is still done: a later run must not open a worker.
        self.ended = True
        if self.id is not None:
            self._sessions.end(self.id)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.end()
        except (SessionNotFoundError, SessionExpiredError, SessionEndedError):
            pass  # already gone: nothing left to release
        except InferenceError:
            if exc is None:
                raise  # otherwise the caller's own error is the one to see

    def _adopt(self, task: Task) -> None:
        if self.id is None:
            if not task.session_id:
                raise UsageError(
                    f"task {task.id} was run with session='new' but the API returned no "
                    "session_id; the server does not support sessions for this app"
                )
            self.id = task.session_id

    def _require_id(self) -> str:
        if self.id is None:
            raise UsageError("the session opens on its first run(); run something first")
        return self.id
