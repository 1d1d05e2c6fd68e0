"""Running tasks: a background event loop of the emulator's own, and each task's life.

Tasks run on a loop in a daemon thread, not on the loop serving HTTP: the emulator is then
the same whether it is served by uvicorn, by an in-process transport, or by both, and an app
that misbehaves cannot stall requests. Async apps run on that loop; sync apps run in a daemon
thread each, so an app stuck in a blocking call never keeps the interpreter from exiting.

A task moves received → queued → dispatched → preparing → (setting_up, for a new worker of a
class app) → running → completed | failed | cancelled, with a timestamped event per step.
A cancel stops an async app at its next `await` and abandons a sync app's thread (it sees
`ctx.cancelled` and should return); either way the task ends `cancelled` at once.

An output holding files (`Path`, `LocalFile`) passes through `uploading` while they are stored.
A session's call runs on the session's worker and releases it before the task's terminal
update goes out, so a client that saw the task end can call again at once.
"""

from __future__ import annotations

import threading
import traceback
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from inferencesh.local.apps._registry import (
    AppContext,
    LogType,
    RegisteredApp,
    TaskCancelled,
    Worker,
)
from inferencesh.local.core._json import to_json_value
from inferencesh.local.core._loop import BackgroundLoop
from inferencesh.local.files._store import FileStore, LocalFile
from inferencesh.local.sessions._store import Lease
from inferencesh.local.tasks._app_files import has_files, replace_files
from inferencesh.local.tasks._state import TaskRecord, TaskStore
from inferencesh.models.task import TaskStatus

__all__ = ["Job", "OutputFileError", "Runner"]

T = TypeVar("T")
ENGINE_ID = "eng_local"


class OutputFileError(Exception):
    """A file in an app's output could not be stored (the task fails with this)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Job:
    """Everything needed to run one task, checked and validated by the run request."""

    record: TaskRecord
    app: RegisteredApp
    function: str
    input: Any
    setup: Any
    setup_key: str
    secrets: dict[str, str]
    lease: Lease | None = None
    """The session's hold on its worker, for a run in a session."""
    base_url: str = ""
    """Where clients reach the emulator (the uris of output files start with it)."""


class Runner:
    """The task loop; started on the first task, stopped by `close()` (restartable)."""

    def __init__(self, store: TaskStore, files: FileStore, *, max_concurrent_tasks: int) -> None:
        self._store = store
        self._files = files
        self._max = max_concurrent_tasks
        self._limiter: anyio.CapacityLimiter | None = None
        self._loop = BackgroundLoop("inferencesh-emulator-tasks", on_start=self._new_limiter)

    # -- the loop -------------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Start running `job` in the background."""
        self._loop.spawn(self._run, job)

    def close(self) -> None:
        """Cancel what is still running and stop the loop thread."""
        self._loop.close()

    def _new_limiter(self) -> None:
        # Made on the loop at each start: a limiter belongs to the loop it was made on.
        self._limiter = anyio.CapacityLimiter(self._max)

    # -- one task -------------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        record, store, app, lease = job.record, self._store, job.app, job.lease
        task_id: str = record.dto["id"]
        worker: Worker | None = None
        failure: Exception | None = None
        idle = threading.Event()  # set while none of the app's code runs for this task
        idle.set()
        try:
            with anyio.CancelScope() as scope:
                # Armed before the flag is read, so a cancel arriving at any moment is seen.
                record.interrupt = lambda: self._loop.call(scope.cancel)
                if record.cancel_requested.is_set():
                    scope.cancel()
                try:
                    store.transition(task_id, TaskStatus.QUEUED)
                    if app.wait_for_stream and not record.streamed.is_set():
                        # Clients open the stream after the run request returns; without this
                        # a fast streaming app would be done before they could see a delta.
                        await self._in_thread(
                            lambda: record.streamed.wait(app.wait_for_stream),
                            f"inferencesh-wait-{task_id}",
                        )
                    assert self._limiter is not None
                    async with self._limiter:
                        store.transition(task_id, TaskStatus.DISPATCHED, engine_id=ENGINE_ID)
                        worker = w = lease.worker if lease else app.acquire(job.setup_key)
                        store.transition(task_id, TaskStatus.PREPARING, worker_id=w.id)
                        ctx = AppContext(
                            store=store,
                            task_id=task_id,
                            cancel_requested=record.cancel_requested,
                            app=app.ref,
                            function=job.function,
                            setup=job.setup,
                            secrets=job.secrets,
                            session_id=lease.session_id if lease else None,
                        )
                        if app.needs_setup and not w.ready:
                            store.transition(task_id, TaskStatus.SETTING_UP)
                            ctx._log_type = LogType.SETUP  # pyright: ignore[reportPrivateUsage]
                            await self._invoke(
                                app.setup_is_async, lambda: app.set_up(w, ctx), w, idle
                            )
                            w.ready = True
                            ctx._log_type = LogType.RUN  # pyright: ignore[reportPrivateUsage]
                        store.transition(task_id, TaskStatus.RUNNING)
                        spec = app.functions[job.function]
                        result = await self._invoke(
                            spec.is_async,
                            lambda: app.call(w, job.function, ctx, job.input),
                            w,
                            idle,
                        )
                        if has_files(result):
                            store.transition(task_id, TaskStatus.UPLOADING)
                            result = await self._store_files(result, job)
                        output = to_json_value(result)
                        if not record.cancel_requested.is_set():
                            # Released first: whoever sees the task end may reuse the worker.
                            if lease is not None:
                                lease.release()
                            else:
                                app.release(w)
                            store.transition(task_id, TaskStatus.COMPLETED, output=output)
                            return
                except TaskCancelled:
                    pass
                except Exception as exc:
                    failure = exc
            if failure is not None and not record.cancel_requested.is_set():
                if lease is not None:
                    lease.release()  # the worker stays the session's, set up or not
                elif worker is not None and (worker.ready or not app.needs_setup):
                    app.release(worker)  # a failed run leaves its worker warm; a failed setup not
                self._files.delete_for_task(task_id)  # outputs stored before the failure
                self._fail(task_id, failure)
        finally:
            record.interrupt = None
            if lease is not None:
                # Cancelled: the session's worker is free once the app's code has returned.
                lease.release_when(idle)
            # Cancelled (or the loop is stopping): a pooled worker may still be busy in its
            # thread, so it is not reused.
            if store.transition(task_id, TaskStatus.CANCELLED):
                self._files.delete_for_task(task_id)

    async def _store_files(self, result: Any, job: Job) -> Any:
        """Store the files in an app's result; the result with their `{uri, ...}` in place.

        All or nothing: if one cannot be stored, those stored already are deleted again.
        """
        task_id: str = job.record.dto["id"]

        def keep(file: LocalFile) -> dict[str, Any]:
            try:
                return self._files.add_local(file, base_url=job.base_url, task_id=task_id)
            except OSError as exc:
                # strerror, not str(exc): that names where the emulator keeps its files.
                reason = exc.strerror or type(exc).__name__
                raise OutputFileError(f"output file {file!r} cannot be stored: {reason}") from exc

        try:
            # A thread: copying a large file must not hold up the task loop.
            return await self._in_thread(
                lambda: replace_files(result, keep), f"inferencesh-files-{task_id}"
            )
        except BaseException:
            self._files.delete_for_task(task_id)
            raise

    def _fail(self, task_id: str, exc: Exception) -> None:
        trace = "".join(traceback.format_exception(exc)).rstrip()
        self._store.log(task_id, trace, LogType.RUN)
        self._store.transition(task_id, TaskStatus.FAILED, error=str(exc) or type(exc).__name__)

    async def _invoke(
        self, is_async: bool, call: Callable[[], Any], worker: Worker, idle: threading.Event
    ) -> Any:
        """Run app code; `idle` is clear until the code has returned (also after a cancel)."""
        if is_async:
            idle.clear()
            try:
                return await typing.cast(Awaitable[Any], call())
            finally:
                idle.set()
        return await self._in_thread(call, f"inferencesh-app-{worker.id}", idle)

    async def _in_thread(
        self, fn: Callable[[], T], name: str, idle: threading.Event | None = None
    ) -> T:
        """Run `fn` in a daemon thread; a cancel abandons the thread (`idle` is set when done)."""
        done = anyio.Event()
        box: list[tuple[bool, Any]] = []
        if idle is not None:
            idle.clear()

        def target() -> None:
            try:
                box.append((True, fn()))
            except BaseException as exc:  # handed to the awaiting task
                box.append((False, exc))
            finally:
                if idle is not None:
                    idle.set()
                self._loop.call(done.set)

        threading.Thread(target=target, name=name, daemon=True).start()
        await done.wait()
        ok, value = box[0]
        if ok:
            return value
        raise value
