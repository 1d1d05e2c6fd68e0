"""`Emulator`: the state, apps and options of one emulated inference.sh API."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from types import TracebackType
from typing import Any, Self

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from inferencesh.local.agents._mixin import AgentsMixin
from inferencesh.local.agents._runtime import AgentRuntime
from inferencesh.local.apps._builtin import builtin_apps
from inferencesh.local.apps._mixin import AppsMixin
from inferencesh.local.apps._registry import AppRegistry
from inferencesh.local.core._auth import AuthMiddleware, CORSMiddleware
from inferencesh.local.core._changes import Changes
from inferencesh.local.core._envelope import ApiError, problem_response
from inferencesh.local.core._faults import Faults, FaultsMiddleware
from inferencesh.local.core._ids import Clock
from inferencesh.local.core._limits import DEFAULT_MAX_BODY_SIZE, BodyLimitMiddleware
from inferencesh.local.core._streams import DEFAULT_MAX_BUFFERED
from inferencesh.local.files._mixin import FilesMixin
from inferencesh.local.files._routes import PUBLIC_PREFIXES, file_routes
from inferencesh.local.files._store import DEFAULT_MAX_UPLOAD_SIZE, UPLOAD_PREFIX, FileStore
from inferencesh.local.sessions._routes import session_routes
from inferencesh.local.sessions._store import DEFAULT_IDLE_TIMEOUT, MAX_IDLE_TIMEOUT, SessionStore
from inferencesh.local.tasks._mixin import TasksMixin
from inferencesh.local.tasks._routes import task_routes
from inferencesh.local.tasks._runner import Runner
from inferencesh.local.tasks._service import TaskService
from inferencesh.local.tasks._state import DEFAULT_MAX_FINISHED_TASKS, StreamFormat, TaskStore

__all__ = ["DEFAULT_API_KEY", "Emulator"]

DEFAULT_API_KEY = "sk-local-test"


class Emulator(AppsMixin, TasksMixin, FilesMixin, AgentsMixin):
    """An in-memory inference.sh API: register apps, serve it, run tasks against it.

    Serve it with `running(emu)` (a real socket, in a thread) or `serve()` (blocking), or
    mount `emu.asgi_app()` anywhere ASGI runs. State lives in the emulator, not the server:
    every app built from it shares the same tasks.

    Example:
        ```python
        from pydantic import BaseModel
        from inferencesh.local import AppContext, Emulator, running

        class Greeting(BaseModel):
            name: str

        emu = Emulator()

        @emu.app("me/hello")
        def hello(ctx: AppContext, input: Greeting) -> dict[str, str]:
            ctx.log(f"greeting {input.name}")
            return {"text": f"Hello {input.name}!"}

        with running(emu) as server, server.client() as client:
            print(client.run("me/hello", {"name": "World"}).output)
        ```

    Args:
        api_key: The key clients must send as `Authorization: Bearer <key>`; None accepts
            every request.
        secrets: Secrets apps may require (`requires_secrets`); editable later via `.secrets`.
        integrations: Connected integration providers (e.g. `"google"`); see `.integrations`.
        heartbeat_interval: Seconds of silence after which a stream sends a heartbeat.
        snapshot_interval: Seconds without updates after which a task stream re-sends the
            task (the official Python SDK drops streams that only send heartbeats for 30 s).
        stream_format: Task update lines as bare TaskDTOs (`"bare"`) or wrapped as
            `{"data": task, "fields": [changed...]}` (`"wrapped"`).
        builtins: Register the built-in apps (`infsh/text-templating`, `infsh/echo`, ...).
        max_concurrent_tasks: Tasks running at once; later ones wait in `queued`.
        data_dir: Where uploaded and app-made files are stored; None: a temporary directory,
            deleted by `close()` (a given directory is left as it is).
        max_upload_size: Largest upload accepted, in bytes (settable later).
        upload_url_ttl: Seconds of the emulator's clock an upload URL stays valid.
        default_session_timeout: Idle seconds before a session expires when the run that
            opened it did not say (`session_timeout`).
        max_body_size: Largest request body of an API call, in bytes (settable later);
            larger ones get 413. Uploads to upload URLs have `max_upload_size` instead.
        max_finished_tasks: Finished tasks kept (settable later); past it the oldest
            finished task is evicted, and a lookup of it says so (404).
        max_stream_buffer: Bytes a stream may fall behind (its client not reading) before
            it is dropped: its buffer freed and the stream broken off.
        max_chats: Chats kept; past it the oldest idle ones are forgotten.
        agent_stream_wait: Seconds a new agent run waits for a client to follow its chat.
        allow_api_key_approvals: Accept approvals made with the API key (the real API
            refuses them with 403 `requires_sign_in`).
    """

    def __init__(
        self,
        *,
        api_key: str | None = DEFAULT_API_KEY,
        secrets: Mapping[str, str] | None = None,
        integrations: Collection[str] = (),
        heartbeat_interval: float = 15.0,
        snapshot_interval: float | None = 25.0,
        stream_format: StreamFormat = "bare",
        builtins: bool = True,
        max_concurrent_tasks: int = 64,
        data_dir: str | os.PathLike[str] | None = None,
        max_upload_size: int = DEFAULT_MAX_UPLOAD_SIZE,
        upload_url_ttl: float = 900.0,
        default_session_timeout: int = DEFAULT_IDLE_TIMEOUT,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        max_finished_tasks: int = DEFAULT_MAX_FINISHED_TASKS,
        max_stream_buffer: int = DEFAULT_MAX_BUFFERED,
        max_chats: int = 1000,
        agent_stream_wait: float = 0.3,
        allow_api_key_approvals: bool = True,
    ) -> None:
        if not 1 <= default_session_timeout <= MAX_IDLE_TIMEOUT:
            raise ValueError(
                f"default_session_timeout must be 1-{MAX_IDLE_TIMEOUT} s, "
                f"got {default_session_timeout}"
            )
        if max_upload_size < 1 or upload_url_ttl <= 0:
            raise ValueError("max_upload_size and upload_url_ttl must be > 0")
        if max_body_size < 1:
            raise ValueError(f"max_body_size must be > 0, got {max_body_size}")
        if max_finished_tasks < 1:
            raise ValueError(f"max_finished_tasks must be > 0, got {max_finished_tasks}")
        if max_stream_buffer < 1:
            raise ValueError(f"max_stream_buffer must be > 0, got {max_stream_buffer}")
        if heartbeat_interval <= 0:
            raise ValueError(f"heartbeat_interval must be > 0, got {heartbeat_interval}")
        if stream_format not in ("bare", "wrapped"):
            raise ValueError(f"stream_format must be 'bare' or 'wrapped', got {stream_format!r}")
        self.api_key = api_key
        self._max_body_size = max_body_size
        self._secrets: dict[str, str] = dict(secrets or {})
        self._integrations: set[str] = set(integrations)
        self.heartbeat_interval = heartbeat_interval
        self.snapshot_interval = snapshot_interval
        self.faults = Faults()
        """Fault injection (off until armed); see `Faults`."""
        self.apps = AppRegistry()
        """The registered apps."""
        self.clock = Clock()
        """The emulator's clock; `clock.advance(seconds)` moves it forward (for expiries)."""
        # Every store reports its changes here, so `wait_until` can wait on any of them.
        self._changes = Changes()
        self.task_store = TaskStore(
            clock=self.clock,
            stream_format=stream_format,
            max_finished_tasks=max_finished_tasks,
            max_stream_buffer=max_stream_buffer,
            on_change=self._changes.notify,
        )
        """Every task, with its streams."""
        self.file_store = FileStore(
            clock=self.clock,
            data_dir=data_dir,
            max_upload_size=max_upload_size,
            upload_url_ttl=upload_url_ttl,
            on_change=self._changes.notify,
        )
        """Every file, and the directory their bytes are in."""
        self.session_store = SessionStore(
            clock=self.clock,
            default_idle_timeout=default_session_timeout,
            on_change=self._changes.notify,
        )
        """Every session, with its worker."""
        self._runner = Runner(
            self.task_store, self.file_store, max_concurrent_tasks=max_concurrent_tasks
        )
        self.task_service = TaskService(
            store=self.task_store,
            apps=self.apps,
            runner=self._runner,
            secrets=self._secrets,
            integrations=self._integrations,
            files=self.file_store,
            sessions=self.session_store,
        )
        self.agent_runtime = AgentRuntime(
            clock=self.clock,
            apps=self.apps,
            tasks=self.task_service,
            task_store=self.task_store,
            secrets=self._secrets,
            on_change=self._changes.notify,
            max_chats=max_chats,
            max_stream_buffer=max_stream_buffer,
            stream_wait=agent_stream_wait,
            allow_api_key_approvals=allow_api_key_approvals,
        )
        if builtins:
            for app in builtin_apps():
                self.apps.add(app)

    @property
    def max_body_size(self) -> int:
        """Largest request body of an API call, in bytes (settable); a larger one gets 413."""
        return self._max_body_size

    @max_body_size.setter
    def max_body_size(self, value: int) -> None:
        if value < 1:
            raise ValueError(f"max_body_size must be > 0, got {value}")
        self._max_body_size = value

    # -- serving --------------------------------------------------------------------------

    def asgi_app(self) -> Starlette:
        """A Starlette app serving this emulator (every call builds a new one on the same state)."""
        return Starlette(
            routes=[
                *task_routes(self.task_service, self.task_store, self),
                *file_routes(self.file_store),
                *session_routes(self.session_store),
                *self.agent_runtime.routes(self),
            ],
            middleware=[
                Middleware(CORSMiddleware),
                Middleware(FaultsMiddleware, faults=self.faults),
                Middleware(
                    AuthMiddleware,
                    api_key=lambda: self.api_key,
                    public_prefixes=PUBLIC_PREFIXES,
                ),
                Middleware(
                    BodyLimitMiddleware,
                    limit=lambda: self._max_body_size,
                    exempt_prefixes=(UPLOAD_PREFIX,),
                ),
            ],
            exception_handlers={
                ApiError: _on_api_error,
                HTTPException: _on_http_error,
                Exception: _on_unexpected_error,
            },
        )

    # -- inspecting -----------------------------------------------------------------------

    def wait_until(self, predicate: Callable[[], bool], timeout: float | None = 10.0) -> None:
        """Block until `predicate()` is true, for things the server does asynchronously.

        `predicate` is checked now and again after every change of the emulator's state:
        a task changed, a file record or partial upload was added or removed (or its upload
        state changed), a session's worker was leased or released. So it should read that
        state (`tasks()`, `files()`, `sessions()`, `data_dir`, `session_store.busy(id)`)
        rather than anything else, which would not wake it.

        Example:
            ```python
            emu.wait_until(lambda: not emu.session_store.busy(session_id))
            ```

        Raises:
            TimeoutError: `predicate()` was still false after `timeout` seconds.
        """
        self._changes.wait_until(predicate, timeout)

    def sessions(self) -> list[dict[str, Any]]:
        """Copies of every session (AppSessionDTOs, status as of the clock now), oldest first."""
        return self.session_store.records()

    # -- lifecycle ------------------------------------------------------------------------

    def end_streams(self) -> None:
        """End every stream open now (a server stopping); later ones are served as usual."""
        self.task_store.close_streams()
        self.agent_runtime.store.close_streams()

    def close(self) -> None:
        """Cancel running tasks, end open streams, stop the task loop, drop the files.

        A temporary data directory is deleted with the files in it. The emulator can still
        be used afterwards; the loop starts again on the next run.
        """
        self._runner.close()
        self.agent_runtime.close()
        self.end_streams()
        self.file_store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return problem_response(exc, request.headers)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ApiError(404, "not_found", f"no such endpoint: {request.method} {request.url.path}")
    elif exc.status_code == 405:
        error = ApiError(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {request.url.path}",
            headers=exc.headers,
        )
    else:
        error = ApiError(exc.status_code, "invalid_request", exc.detail, headers=exc.headers)
    return problem_response(error, request.headers)


async def _on_unexpected_error(request: Request, exc: Exception) -> Response:
    # The message may name paths of this machine; the server's log has it, with the traceback.
    # `Connection: close`: the server drops the connection after an error, and a client
    # that pooled it would meet a reset on its next request.
    error = ApiError(
        500,
        "internal_error",
        f"emulator bug: {type(exc).__name__} (the emulator's log has the details)",
        headers={"connection": "close"},
    )
    return problem_response(error, request.headers)
