"""Tasks: runs of apps, followed to their end (async)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Literal, Self, overload

from inferencesh._async import _io as io
from inferencesh._async._closing import ClosingContext
from inferencesh._async._http import AsyncHTTP
from inferencesh._async.files import AsyncFiles
from inferencesh._protocol import tasks as api
from inferencesh._protocol.envelope import read_data
from inferencesh._protocol.outputs import bind_output
from inferencesh._protocol.results import as_model, finished
from inferencesh._protocol.watch import TaskWatch
from inferencesh._types import NOT_GIVEN, NotGiven, StreamMode, TimeoutTypes
from inferencesh.errors import StreamError
from inferencesh.models._status import TaskStatus, TaskUpdate

if TYPE_CHECKING:
    import httpx2

    from inferencesh._protocol.deadline import Deadline
    from inferencesh.models.page import CursorPage
    from inferencesh.models.task import ResourceStatus, Task, TaskLogs

__all__ = ["AsyncTaskStream", "AsyncTasks"]


class AsyncTaskStream(ClosingContext):
    """The updates of one task, ending with the terminal one.

    Iterate it, or use it as a context manager so that leaving early closes the connection:

        async with client.tasks.stream(task_id) as updates:
            async for update in updates:
                print(update.status, update.progress)
    """

    def __init__(
        self, updates: AsyncGenerator[TaskUpdate], watch: TaskWatch, tasks: AsyncTasks
    ) -> None:
        self._updates = updates
        self._watch = watch
        self._tasks = tasks

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> TaskUpdate:
        return await anext(self._updates)

    async def aclose(self) -> None:
        """Stop following the task and close the connection. The task keeps running."""
        await self._updates.aclose()

    async def result(self) -> Task:
        """Consume the rest of the stream and return the completed task.

        Raises:
            TaskFailedError: the task failed (`TaskCancelledError` if it was cancelled).
        """
        async for _ in self:
            pass
        last = self._watch.last
        if last is None or not last.is_terminal:
            raise StreamError("the stream was closed before the task ended")
        return self._tasks._finish(last)  # pyright: ignore[reportPrivateUsage]


class AsyncTasks:
    """Run, look up, follow, cancel and delete tasks: `client.tasks`."""

    def __init__(self, http: AsyncHTTP, files: AsyncFiles) -> None:
        self._http = http
        self._files = files

    @overload
    async def run(
        self,
        app: str | Mapping[str, Any] | None = None,
        input: Any = NOT_GIVEN,
        *,
        setup: Any = None,
        infra: str | None = None,
        function: str | None = None,
        session: str | None = None,
        session_idle_timeout: int | None = None,
        webhook: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        wait: bool = True,
        stream: Literal[False] = False,
        on_update: Callable[[TaskUpdate], object] | None = None,
        mode: StreamMode | None = None,
        wait_timeout: float | None = None,
        auto_upload: bool | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Task: ...

    @overload
    async def run(
        self,
        app: str | Mapping[str, Any] | None = None,
        input: Any = NOT_GIVEN,
        *,
        setup: Any = None,
        infra: str | None = None,
        function: str | None = None,
        session: str | None = None,
        session_idle_timeout: int | None = None,
        webhook: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        wait: bool = True,
        stream: Literal[True],
        on_update: Callable[[TaskUpdate], object] | None = None,
        mode: StreamMode | None = None,
        wait_timeout: float | None = None,
        auto_upload: bool | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncTaskStream: ...

    @overload
    async def run(
        self,
        app: str | Mapping[str, Any] | None = None,
        input: Any = NOT_GIVEN,
        *,
        setup: Any = None,
        infra: str | None = None,
        function: str | None = None,
        session: str | None = None,
        session_idle_timeout: int | None = None,
        webhook: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        wait: bool = True,
        stream: bool,
        on_update: Callable[[TaskUpdate], object] | None = None,
        mode: StreamMode | None = None,
        wait_timeout: float | None = None,
        auto_upload: bool | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Task | AsyncTaskStream: ...

    async def run(
        self,
        app: str | Mapping[str, Any] | None = None,
        input: Any = NOT_GIVEN,
        *,
        setup: Any = None,
        infra: str | None = None,
        function: str | None = None,
        session: str | None = None,
        session_idle_timeout: int | None = None,
        webhook: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        wait: bool = True,
        stream: bool = False,
        on_update: Callable[[TaskUpdate], object] | None = None,
        mode: StreamMode | None = None,
        wait_timeout: float | None = None,
        auto_upload: bool | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Task | AsyncTaskStream:
        """Run an app as a task (`client.run` is the same call).

        `app` is a ref `namespace/name[@version]`, or one dict holding the whole request as
        the JS SDK takes it (`run({"app": ..., "input": ...})`); keyword fields are added to it.

        Args:
            app: The app to run, or the whole request as a dict.
            input: The app's input. `Path`s, open binary files, bytes and data URIs in it are
                uploaded first (see `auto_upload`); plain strings are sent as they are.
            setup: Setup parameters (they decide which warm worker can serve the task).
            infra: `"cloud"`, `"private"` or `"private_first"`.
            function: The entry point of a multi-function app.
            session: `"new"` to open a session, or a session id to run on its warm worker.
            session_idle_timeout: Idle seconds (1-3600) before a new session expires (sent as
                `session_timeout`); only with `session="new"`.
            webhook: A URL the API calls when the task ends.
            metadata: Free-form metadata stored with the task.
            wait: Follow the task to its end and return it (`False`: return it at once).
            stream: Return a `AsyncTaskStream` of updates instead of the finished task.
            on_update: Called with every update while waiting.
            mode: `"stream"` or `"poll"`, overriding the client's `stream_mode`.
            wait_timeout: Seconds this whole call may take: uploads, the run request, every
                retry, reconnect and poll (`TaskTimeoutError` after; the task keeps running).
            auto_upload: Override the client's `auto_upload` for this call.
            timeout: HTTP timeout of each request of this call (float or `httpx2.Timeout`).
            max_retries: Retries of this call's requests that are safe to repeat.

        Returns:
            The completed task (`wait=True`), the created task (`wait=False`), or a
            `AsyncTaskStream` (`stream=True`).

        Raises:
            TaskFailedError: the task failed (`TaskCancelledError` if it was cancelled).
            TaskTimeoutError: `wait_timeout` passed first.
            InvalidInputError: the input holds a value JSON cannot carry (NaN, ...).
            RequirementsNotMetError: the app needs secrets or integrations you lack.
            NotFoundError: no such app.
        """
        deadline = api.run_deadline(wait_timeout)
        opts = self._http.opts.with_call(timeout=timeout, max_retries=max_retries)
        if auto_upload if auto_upload is not None else opts.auto_upload:
            if isinstance(app, Mapping) and isinstance(input, NotGiven):
                if "input" in app:
                    uploaded = await self._files.upload_inputs(app["input"], deadline)
                    app = {**app, "input": uploaded}
            elif not isinstance(input, NotGiven):
                input = await self._files.upload_inputs(input, deadline)
        fields = {
            "setup": setup,
            "infra": infra,
            "function": function,
            "session": session,
            "session_timeout": session_idle_timeout,
            "webhook": webhook,
            "metadata": metadata,
        }
        response = await self._http.send(api.run(opts, app, input, fields).within(deadline))
        created, task_id = api.created_task(read_data(response), response)
        if not stream and not wait:
            from inferencesh.models.task import Task  # built on first use, see inferencesh.models

            return self._bind(as_model(Task, created, response), response)
        watch = TaskWatch(
            opts,
            task_id,
            mode=mode or opts.stream_mode,
            initial=created,
            response=response,
            deadline=deadline,
        )
        if stream:
            return AsyncTaskStream(self._http.follow(watch), watch, self)
        return await self._wait(watch, on_update)

    async def get(self, task_id: str) -> Task:
        """Fetch a task with its input, output, events and logs."""
        from inferencesh.models.task import Task  # built on first use, see inferencesh.models

        response = await self._http.send(api.get(self._http.opts, task_id))
        return self._bind(as_model(Task, read_data(response), response), response)

    async def status(self, task_id: str) -> ResourceStatus:
        """Fetch only a task's status (cheap; what poll mode uses)."""
        from inferencesh.models.task import ResourceStatus

        return await self._http.request_model(ResourceStatus, api.status(self._http.opts, task_id))

    async def logs(self, task_id: str) -> TaskLogs:
        """Fetch a task's status, events and log blocks."""
        from inferencesh.models.task import TaskLogs

        return await self._http.request_model(TaskLogs, api.logs(self._http.opts, task_id))

    async def cancel(self, task_id: str) -> None:
        """Ask the server to cancel a task.

        Raises:
            ConflictError: the task has already ended.
        """
        await self._http.request(api.cancel(self._http.opts, task_id))

    async def delete(self, task_id: str, *, files: bool = False) -> None:
        """Delete a task (and, with `files=True`, its files)."""
        await self._http.request(api.delete(self._http.opts, task_id, files=files))

    async def list(
        self,
        *,
        limit: int = 20,
        cursor: str | None = None,
        status: TaskStatus | Sequence[TaskStatus] | None = None,
        app_id: str | None = None,
        sort: str = "-created_at",
    ) -> CursorPage[Task]:
        """One page of your tasks, newest first unless `sort` says otherwise.

        Pass the page's `next_cursor` as `cursor` for the next page.
        """
        from inferencesh.models.page import CursorPage
        from inferencesh.models.task import Task

        call = api.list_tasks(
            self._http.opts, limit=limit, cursor=cursor, status=status, app_id=app_id, sort=sort
        )
        return await self._http.request_model(CursorPage[Task], call)

    async def wait(
        self,
        task_id: str,
        *,
        wait_timeout: float | None = None,
        on_update: Callable[[TaskUpdate], object] | None = None,
        mode: StreamMode | None = None,
    ) -> Task:
        """Follow a task until it ends and return it.

        Args:
            task_id: The task to wait for.
            wait_timeout: Seconds to wait at most, every request, retry and reconnect
                included; then `TaskTimeoutError` (the task keeps running).
            on_update: Called with every update on the way.
            mode: `"stream"` (NDJSON) or `"poll"`; defaults to the client's `stream_mode`.

        Raises:
            TaskFailedError: the task failed (`TaskCancelledError` if it was cancelled).
            TaskTimeoutError: `wait_timeout` passed first.
        """
        return await self._wait(self._watch(task_id, mode, wait_timeout), on_update)

    def stream(
        self, task_id: str, *, mode: StreamMode | None = None, wait_timeout: float | None = None
    ) -> AsyncTaskStream:
        """Follow a task: an iterator of its updates that ends with the terminal one.

        Args:
            task_id: The task to follow.
            mode: `"stream"` (NDJSON) or `"poll"`; defaults to the client's `stream_mode`.
            wait_timeout: Seconds to follow it at most (from now); then `TaskTimeoutError`.
        """
        watch = self._watch(task_id, mode, wait_timeout)
        return AsyncTaskStream(self._http.follow(watch), watch, self)

    # -- internals ------------------------------------------------------------------------

    def _watch(
        self, task_id: str, mode: StreamMode | None, wait_timeout: float | None
    ) -> TaskWatch:
        opts = self._http.opts
        deadline: Deadline | None = api.run_deadline(wait_timeout)
        return TaskWatch(opts, task_id, mode=mode or opts.stream_mode, deadline=deadline)

    async def _wait(
        self, watch: TaskWatch, on_update: Callable[[TaskUpdate], object] | None
    ) -> Task:
        async with aclosing(self._http.follow(watch)) as updates:
            async for update in updates:
                if on_update is not None:
                    await io.notify(on_update, update)
        assert watch.last is not None and watch.last.is_terminal  # follow() ends only there
        return self._finish(watch.last)

    def _finish(self, last: TaskUpdate) -> Task:
        """The completed task of a terminal update, or its `TaskError`."""
        return self._bind(finished(last.task), last.response)

    def _bind(self, task: Task, response: httpx2.Response | None) -> Task:
        """Turn file values in the output into `AsyncFile` objects that can download themselves."""
        from inferencesh.models.file import AsyncFile

        files = self._files
        task.output = bind_output(
            task.output,
            lambda d: files._bind(AsyncFile.model_validate(d)),  # pyright: ignore[reportPrivateUsage]
            response,
        )
        return task
