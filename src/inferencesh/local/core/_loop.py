"""`BackgroundLoop`: an event loop of the emulator's own, in a daemon thread.

Tasks (the runner) and agent turns (model calls, server tools, approval timers) each run on
one, not on the loop serving HTTP: the emulator then behaves the same whether uvicorn, an
in-process transport or both serve it, and a slow app or model never stalls a request.
Anything may be started from any thread with `spawn`, which never waits for the loop (it
schedules the start there: waiting, through anyio's blocking portal, cost a thread switch per
agent step); a failure in it is logged, never lost and never fatal to the loop.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup
from anyio.from_thread import BlockingPortal

from inferencesh.local.core._wake import Schedule, scheduler

__all__ = ["BackgroundLoop"]

_log = logging.getLogger("inferencesh.local")


class BackgroundLoop:
    """A lazily started loop thread; `close()` cancels what runs and stops it (restartable)."""

    def __init__(self, name: str, *, on_start: Callable[[], object] | None = None) -> None:
        """A loop whose thread is called `name`; `on_start` runs on the loop at each start."""
        self._name = name
        self._on_start = on_start
        self._lock = threading.Lock()
        self._portal: BlockingPortal | None = None
        self._group: TaskGroup | None = None
        self._schedule: Schedule | None = None
        self._gone: type[BaseException] = RuntimeError
        self._context = contextvars.Context()
        self._thread: threading.Thread | None = None
        self._thread_id: int | None = None

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run `fn(*args)` on the loop soon (from any thread, never blocking)."""
        self._ensure_started()
        group, schedule = self._group, self._schedule
        if group is None or schedule is None:
            return  # closed meanwhile
        if threading.get_ident() == self._thread_id:
            group.start_soon(self._guard, fn, args)
            return
        try:
            # In the loop's context: anyio finds its event loop through a context variable.
            run = self._context.copy().run
            schedule(lambda: run(self._start_soon, group, fn, args))
        except self._gone:
            pass  # the loop has stopped: nothing runs any more

    def _start_soon(
        self, group: TaskGroup, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]
    ) -> None:
        if self._group is group:  # else the loop is stopping: nothing starts any more
            group.start_soon(self._guard, fn, args)

    def on_loop(self) -> bool:
        """Whether the caller runs on the loop's thread."""
        return threading.get_ident() == self._thread_id

    def call(self, fn: Callable[[], object]) -> None:
        """Call `fn` on the loop from any thread and wait for it (a no-op once stopped)."""
        if self.on_loop():
            fn()
            return
        portal = self._portal
        if portal is None:
            return
        try:
            portal.call(fn)
        except RuntimeError:
            pass  # the loop stopped: nobody waits any more

    async def _guard(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        try:
            await fn(*args)
        except Exception:  # one turn's bug must not stop every other turn
            _log.exception("%s: %s failed", self._name, getattr(fn, "__qualname__", fn))

    def close(self) -> None:
        """Cancel everything on the loop and stop its thread."""
        with self._lock:
            portal, thread = self._portal, self._thread
            self._portal = self._thread = self._group = self._schedule = None
        if portal is None or thread is None or threading.get_ident() == self._thread_id:
            return
        try:
            portal.call(portal.stop, True)
        except RuntimeError:
            pass  # already stopped
        thread.join(timeout=5)

    def _ensure_started(self) -> BlockingPortal:
        with self._lock:
            if self._portal is not None:
                return self._portal
            ready = threading.Event()
            box: list[Any] = []
            thread = threading.Thread(
                target=self._main, args=(ready, box), name=self._name, daemon=True
            )
            thread.start()
            ready.wait()
            if isinstance(box[0], BaseException):
                raise RuntimeError(f"the emulator's loop {self._name} did not start") from box[0]
            portal, self._group, self._schedule, self._gone, self._context = box
            self._portal, self._thread = portal, thread
            return portal

    def _main(self, ready: threading.Event, box: list[Any]) -> None:
        try:
            anyio.run(self._serve, ready, box)
        except BaseException as exc:  # reported to the thread waiting for the start
            if not ready.is_set():
                box.append(exc)
                ready.set()

    async def _serve(self, ready: threading.Event, box: list[Any]) -> None:
        async with BlockingPortal() as portal, anyio.create_task_group() as group:
            self._thread_id = threading.get_ident()
            if self._on_start is not None:
                self._on_start()
            box.extend([portal, group, *scheduler(), contextvars.copy_context()])
            ready.set()
            await portal.sleep_until_stopped()
            group.cancel_scope.cancel()
