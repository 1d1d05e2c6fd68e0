"""Everything the sync driver does differently from the async one; the rest is generated.

The twin of `_async/_io.py` (see there): the same names, blocking. `tests/test_twins.py`
checks the two modules offer the same functions with the same parameters.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Generic, Self, TypeVar, TypeVarTuple

import httpx2

from inferencesh._config import ClientOptions
from inferencesh._protocol import files as api
from inferencesh._protocol.deadline import Deadline
from inferencesh._protocol.endpoints import NDJSON
from inferencesh._sync._transport import (
    StdlibTransport,
    bypass_client,
    default_transport,
    pool_limits,
    send_direct,
)
from inferencesh._types import ProgressCallback
from inferencesh.errors import UsageError
from inferencesh.models._status import TaskUpdate

__all__ = [
    "Clients",
    "EventPump",
    "JobHandle",
    "Outlet",
    "body_chunks",
    "capacity_limiter",
    "drain",
    "make_dirs",
    "map_limited",
    "notify",
    "open_new",
    "remove",
    "replace",
    "run_blocking",
    "shielded",
    "sleep",
    "sync_only",
    "upload_body",
]

T = TypeVar("T")
R = TypeVar("R")
Ts = TypeVarTuple("Ts")


class Clients:
    """The httpx2 clients one `Inference` sends through: the pool, and a stream reader."""

    def __init__(self, opts: ClientOptions, given: httpx2.Client | None) -> None:
        self._owned = given is None
        # Our transports are called directly unless httpx2's client must see the requests: the
        # caller's own client, or proxies in the environment (httpx2 applies them itself).
        direct = bypass_client(given)
        n = opts.max_connections
        self._transport = default_transport(max_connections=n) if direct else None
        self.pool = given or httpx2.Client(
            timeout=opts.timeout,
            transport=self._transport,
            limits=pool_limits(n),
            follow_redirects=False,
        )
        """Every request but task streams goes through this pool."""
        # Task streams read through http.client: httpx2 parses them at half the speed (_transport).
        self._streams = StdlibTransport() if direct else None

    @property
    def is_closed(self) -> bool:
        """Whether the pool was closed (by us, or by the caller who handed it in)."""
        return self.pool.is_closed

    def send(self, request: httpx2.Request, *, stream: bool) -> httpx2.Response:
        """Send one try of `request`: to our own transport directly, else through the pool."""
        if (
            stream
            and self._streams is not None
            and request.headers.get("accept") == NDJSON
            and request.url.scheme in ("http", "https")
        ):
            return send_direct(self._streams, request, stream=stream)
        if self._transport is None:
            return self.pool.send(request, stream=stream)
        return send_direct(self._transport, request, stream=stream)

    @contextmanager
    def stream_slot(self) -> Generator[None]:
        """Hold one of the connections long-lived streams may take (a quarter stays free)."""
        yield  # nothing to hold: each stream here has its own connection, apart from the pool

    def close(self) -> None:
        """Close what was opened here; a pool the caller handed in stays open."""
        if self._owned:
            self.pool.close()
        if self._streams is not None:
            self._streams.close()


def sleep(seconds: float) -> None:
    """Wait."""
    time.sleep(seconds)


def run_blocking(fn: Callable[[*Ts], T], *args: *Ts) -> T:
    """Call a blocking function (disk, `stat`): the sync client simply calls it."""
    return fn(*args)


def make_dirs(path: Path) -> None:
    """Create a directory and its parents, if missing."""
    path.mkdir(parents=True, exist_ok=True)


def open_new(path: Path) -> BinaryIO:
    """Create a file for writing; fails if anything (a file, a link) is already there."""
    return path.open("xb")


def replace(src: Path, dst: Path) -> None:
    """Rename `src` to `dst` atomically, replacing `dst`."""
    src.replace(dst)


def remove(path: Path) -> None:
    """Delete a file if it exists."""
    path.unlink(missing_ok=True)


@contextmanager
def body_chunks(
    response: httpx2.Response, chunk_size: int | None = None
) -> Generator[Iterator[bytes]]:
    """A response body's chunks; on leaving, the response is closed.

    Without a `chunk_size`, an identity-encoded body is read raw: each chunk as it arrives,
    past httpx2's decoder layers, 6% of the client's CPU per stream line (bench/RESULTS.md §2).
    """
    raw = chunk_size is None and response.headers.get("content-encoding", "identity") == "identity"
    try:
        yield response.iter_raw() if raw else response.iter_bytes(chunk_size)
    finally:
        response.close()


def drain(chunks: Iterator[bytes]) -> None:
    """Nothing to do: a task stream has its own connection, closed with the response.

    (Reading on could block a thread for a whole read timeout; the async twin can bound it.)
    """


def upload_body(source: api.UploadSource, on_progress: ProgressCallback | None) -> Iterator[bytes]:
    """The bytes of an upload from the start, reporting progress."""
    done = 0
    for chunk in api.read_chunks(source):
        done += len(chunk)
        yield chunk
        if on_progress is not None:
            on_progress(done, source.size)


def map_limited(fn: Callable[[T], R], items: Sequence[T], limit: int) -> list[R]:
    """`fn` over `items`, at most `limit` at a time in threads, results in order.

    The first failure is raised as itself; calls not yet started are not started.
    """
    if len(items) == 1:
        return [fn(items[0])]
    with ThreadPoolExecutor(min(limit, len(items))) as pool:
        futures: list[Future[R]] = [pool.submit(fn, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            error = future.exception() if future in done else None
            if error is not None:
                for other in futures:
                    other.cancel()  # those not started yet; running ones finish first
                raise error
        return [future.result() for future in futures]


def notify(callback: Callable[[TaskUpdate], object], update: TaskUpdate) -> None:
    """Call an `on_update` callback; the async client also awaits what it returns."""
    callback(update)


def shielded() -> AbstractContextManager[None]:
    """A block a cancellation waits for (an answer already computed still gets sent)."""
    return nullcontext()


def sync_only(callables: Iterable[tuple[str, object]]) -> None:
    """Check that the sync client can call these: an `async def` raises `UsageError` now.

    Raises:
        UsageError: Some are async; the message names them all.
    """
    found = [name for name, fn in callables if _is_async(fn)]
    if found:
        raise UsageError(
            f"the sync client cannot await {', '.join(found)}: use plain functions, or the"
            " async client (async_inference())"
        )


def _is_async(fn: object) -> bool:
    call = getattr(fn, "__call__", None)  # noqa: B004 -- the method, not callable()
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(call)


class Outlet(Generic[T]):
    """What an `EventPump`'s producer and jobs emit through, and how they start jobs."""

    def __init__(self, pump: EventPump[T]) -> None:
        self._pump = pump

    def emit(self, item: T) -> None:
        """Hand `item` to the consumer (waits while the consumer is far behind)."""
        self._pump._deliver(item)  # pyright: ignore[reportPrivateUsage]

    def spawn(self, fn: Callable[[*Ts], object], *args: *Ts, pinned: bool = False) -> JobHandle:
        """Start `fn(*args)` beside the producer (context variables kept).

        The async pump starts a task, the sync pump a worker thread.

        Args:
            fn: The job.
            *args: Its arguments.
            pinned: The sync pump runs it now, on the producer's own thread, which waits for
                it (work bound to that thread); the async pump starts a task either way.

        Returns:
            A handle to wait for the job's end with.
        """
        handle = JobHandle()
        self._pump._start_job(handle, fn, *args, pinned=pinned)  # pyright: ignore[reportPrivateUsage]
        return handle


class JobHandle:
    """A job an `Outlet` started."""

    def __init__(self) -> None:
        self._done = threading.Event()

    def wait(self) -> None:
        """Wait until the job has ended (returned, failed or been cancelled)."""
        self._done.wait()


class EventPump(Generic[T]):
    """The items one producer and the jobs it starts emit, consumed as they come.

    The sync twin of the async pump: the producer (a generator given the `Outlet`) runs on
    the consumer's thread as it iterates, each job it starts in a worker thread of its own
    (context variables kept); what the jobs emit is handed out before the producer's next
    item. An exception in a job ends the consumer's iteration with that exception (at its next
    item; a producer blocked in a read learns it from its follower, see `ChatWatch.fail`).
    A pinned job runs on the producer's thread, at once. Iteration ends once the producer and
    every job are done. A consumer that leaves before then closes the producer, waits for the
    jobs still running (at most until `deadline`, and not at all on a `KeyboardInterrupt`;
    the others run on by themselves), then `on_abandon` runs.
    """

    def __init__(
        self,
        produce: Callable[[Outlet[T]], Generator[T]],
        *,
        on_abandon: Callable[[], object] | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self._produce: Callable[[Outlet[T]], Generator[T]] | None = produce
        self._on_abandon = on_abandon
        self._deadline = deadline
        self._buffer: deque[T] = deque()
        self._items: Generator[T] | None = None
        self._changed = threading.Condition()
        self._jobs = 0
        self._failure: BaseException | None = None
        self._producing = True
        self._complete = False
        self._left = False

    @property
    def finished(self) -> bool:
        """Whether the producer ran to its end."""
        return self._complete

    def __enter__(self) -> Self:
        # Used once, then forgotten: what it closes over (a turn, which holds its outlet, so
        # this pump) would otherwise make a cycle, freed only by the garbage collector.
        produce, self._produce = self._produce, None
        assert produce is not None, "a pump runs once"
        self._items = produce(Outlet(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        with self._changed:
            self._left = True  # what is still emitted is dropped
            self._buffer.clear()
        abandoned = not self._complete
        if abandoned and self._items is not None:
            self._items.close()
        if exc_type is None or issubclass(exc_type, Exception):
            self._wait_for_jobs()  # not on Ctrl-C: the caller asked to stop now
        if abandoned and self._on_abandon is not None:
            self._on_abandon()
        return None

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        assert self._items is not None, "use the pump as a context manager"
        while True:
            with self._changed:
                if self._failure is not None:
                    raise self._failure
                if self._buffer:
                    return self._buffer.popleft()
                if not self._producing:
                    if not self._jobs:
                        raise StopIteration
                    self._changed.wait()  # a job emits, fails or ends
                    continue
            try:
                item = next(self._items)
            except StopIteration:
                self._complete = True
                with self._changed:
                    self._producing = False
                continue
            with self._changed:
                self._buffer.append(item)

    def drain(self, each: Callable[[T], object] | None = None) -> None:
        """Consume every item up to the end, each handed to `each` (if given) in order.

        For a consumer that only waits for the end. The async pump then hands an item over
        (or drops it) as it is emitted instead of queueing it, so its producer does not wait
        for the consumer between items (a trip through the event loop each). Failures and
        leaving early work as when iterating.
        """
        for item in self:
            if each is not None:
                each(item)

    def _deliver(self, item: T) -> None:
        with self._changed:
            if not self._left:
                self._buffer.append(item)
                self._changed.notify_all()

    def _start_job(
        self, handle: JobHandle, fn: Callable[..., object], *args: Any, pinned: bool
    ) -> None:
        if pinned:  # on the producer's thread: what it raises is the producer's to raise
            try:
                fn(*args)
            finally:
                handle._done.set()  # pyright: ignore[reportPrivateUsage]
            return
        with self._changed:
            self._jobs += 1
        context = contextvars.copy_context()
        threading.Thread(
            target=context.run,
            args=(self._run_job, handle, fn, *args),
            name="inferencesh-agent-job",
            daemon=True,  # a handler that never returns must not keep the process alive
        ).start()

    def _run_job(self, handle: JobHandle, fn: Callable[..., object], *args: Any) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # a thread's exception reaches nobody: hand it over
            with self._changed:
                if self._failure is None and not self._left:
                    self._failure = exc
        finally:
            handle._done.set()  # pyright: ignore[reportPrivateUsage]
            with self._changed:
                self._jobs -= 1
                self._changed.notify_all()

    def _wait_for_jobs(self) -> None:
        with self._changed:
            while self._jobs:
                left = None if self._deadline is None else self._deadline.remaining()
                if left is not None and left <= 0:
                    return  # the caller gets its timeout now; the jobs give up by themselves
                self._changed.wait(left)


def capacity_limiter(limit: int) -> threading.Semaphore:
    """A bound on tool calls running at once, across the worker threads of one turn."""
    return threading.BoundedSemaphore(limit)
