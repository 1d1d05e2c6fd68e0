# Generated from _async/tasks.py by scripts/unasync.py: edit that file, not this one.
"""Tasks: runs of apps, followed to their end (sync)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import closing
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from inferencesh._protocol import tasks as api
from inferencesh._protocol.outputs import bind_files
from inferencesh._protocol.results import as_model, finished
from inferencesh._protocol.watch import TaskWatch
from inferencesh._sync._http import HTTP, notify
from inferencesh._sync.files import Files
from inferencesh._types import NOT_GIVEN, NotGiven, StreamMode, TimeoutTypes
from inferencesh.errors import StreamError
from inferencesh.models._status import TaskStatus, TaskUpdate

if TYPE_CHECKING:
    from inferencesh.models.page import CursorPage
    from inferencesh.models.task import ResourceStatus, Task, TaskLogs

__all__ = ["TaskStream", "Tasks"]


class TaskStream:
    """The updates of one task, ending with the terminal one.

    Iterate it, or use it as a context manager so that leaving early closes the connection:

        with client.tasks.stream(task_id) as updates:
            for update in updates:
                print(update.status, update.progress)
    """

    def __init__(self, updates: Generator[TaskUpdate], watch: TaskWatch, tasks: Tasks) -> None:
        self._updates = updates
        self._watch = watch
        self._tasks = tasks

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> TaskUpdate:
        return next(self._updates)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop following the task and close the connection. The task keeps running."""
        self._updates.close()

    def result(self) -> Task:
        """Consume the rest of the stream and return the completed task.

        Raises:
            TaskFailedError: the task failed (`TaskCancelledError` if it was cancelled).
        """
        for _ in self:
            pass
        last = self._watch.last
        if last is None or not last.is_terminal:
            raise StreamError("the stream was closed before the task ended")
        return self._tasks._bind(finished(last.task))  # pyright: ignore[reportPrivateUsage]


class Tasks:
    """Look up, follow, cancel and delete tasks: `client.tasks`."""

    def __init__(self, http: HTTP, files: Files) -> None:
        self._http = http
        self._files = files

    def get(self, task_id: str) -> Task:
        """Fetch a task with its input, output, events and logs."""
        from inferencesh.models.task import Task  # built on first use, see inferencesh.models

        return self._bind(as_model(Task, self._http.request(api.get(self._http.opts, task_id))))

    def status(self, task_id: str) -> ResourceStatus:
        """Fetch only a task's status (cheap; what poll mode uses)."""
        from inferencesh.models.task import ResourceStatus

        return as_model(ResourceStatus, self._http.request(api.status(self._http.opts, task_id)))

    def logs(self, task_id: str) -> TaskLogs:
        """Fetch a task's status, events and log blocks."""
        from inferencesh.models.task import TaskLogs

        return as_model(TaskLogs, self._http.request(api.logs(self._http.opts, task_id)))

    def cancel(self, task_id: str) -> None:
        """Ask the server to cancel a task.

        Raises:
            ConflictError: the task has already ended.
        """
        self._http.request(api.cancel(self._http.opts, task_id))

    def delete(self, task_id: str, *, files: bool = False) -> None:
        """Delete a task (and, with `files=True`, its files)."""
        self._http.request(api.delete(self._http.opts, task_id, files=files))

    def list(
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
        return as_model(CursorPage[Task], self._http.request(call))

    def wait(
        self,
        task_id: str,
        *,
        timeout: float | None = None,
        on_update: Callable[[TaskUpdate], object] | None = None,
        mode: StreamMode | None = None,
    ) -> Task:
        """Follow a task until it ends and return it.

        Args:
            task_id: The task to wait for.
            timeout: Seconds to wait at most; then `TaskTimeoutError` (the task keeps running).
            on_update: Called with every update on the way.
            mode: `"stream"` (NDJSON) or `"poll"`; defaults to the client's `stream_mode`.

        Raises:
            TaskFailedError: the task failed (`TaskCancelledError` if it was cancelled).
            TaskTimeoutError: `timeout` passed first.
        """
        return self._wait(self._watch(task_id, None, mode, timeout), on_update)

    def stream(
        self, task_id: str, *, mode: StreamMode | None = None, timeout: float | None = None
    ) -> TaskStream:
        """Follow a task: an iterator of its updates that ends with the terminal one."""
        watch = self._watch(task_id, None, mode, timeout)
        return TaskStream(self._http.follow(watch), watch, self)

    # -- used by Inference.run ------------------------------------------------------------

    def _create(
        self,
        app: str | Mapping[str, Any] | None,
        input: Any,
        fields: dict[str, Any],
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        auto_upload: bool | None = None,
    ) -> dict[str, Any]:
        opts = self._http.opts.with_call(timeout=timeout, max_retries=max_retries)
        if auto_upload if auto_upload is not None else opts.auto_upload:
            if isinstance(app, Mapping) and isinstance(input, NotGiven):
                request = app
                if "input" in request:
                    app = {**request, "input": self._files.upload_inputs(request["input"])}
            elif not isinstance(input, NotGiven):
                input = self._files.upload_inputs(input)
        return self._http.request_object(api.run(opts, app, input, fields))

    def _watch(
        self,
        task_id: str,
        initial: dict[str, Any] | None,
        mode: StreamMode | None,
        timeout: float | None,
    ) -> TaskWatch:
        opts = self._http.opts
        return TaskWatch(
            opts, task_id, mode=mode or opts.stream_mode, initial=initial, timeout=timeout
        )

    def _wait(self, watch: TaskWatch, on_update: Callable[[TaskUpdate], object] | None) -> Task:
        with closing(self._http.follow(watch)) as updates:
            for update in updates:
                if on_update is not None:
                    notify(on_update, update)
        assert watch.last is not None and watch.last.is_terminal  # follow() ends only there
        return self._bind(finished(watch.last.task))

    def _bind(self, task: Task) -> Task:
        """Turn file values in the output into `File` objects that can download themselves."""
        from inferencesh.models.file import File

        files = self._files
        task.output = bind_files(
            task.output,
            lambda d: files._bind(File.model_validate(d)),  # pyright: ignore[reportPrivateUsage]
        )
        return task
