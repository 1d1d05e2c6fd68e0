"""Everything the sync driver does differently from the async one; the rest is generated.

The twin of `_async/_io.py` (see there): the same names, blocking. `tests/test_twins.py`
checks the two modules offer the same functions with the same parameters.
"""

from __future__ import annotations

import inspect
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Generic, Self, TypeVar, TypeVarTuple

import httpx2

from inferencesh._config import ClientOptions
from inferencesh._protocol import files as api
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
        self._pump._buffer.append(item)  # pyright: ignore[reportPrivateUsage]

    def spawn(self, fn: Callable[[*Ts], object], *args: *Ts) -> None:
        """Start `fn(*args)` beside the producer (the sync twin runs it right away)."""
        fn(*args)


class EventPump(Generic[T]):
    """The items one producer and the jobs it starts emit, consumed as they come.

    The sync twin of the async pump: the producer (a generator given the `Outlet`) runs on
    the consumer's thread as it iterates, and each job runs inline when started, its items
    handed out before the producer's next one. A consumer that leaves before the producer is
    done closes it, then `on_abandon` runs.
    """

    def __init__(
        self,
        produce: Callable[[Outlet[T]], Generator[T]],
        *,
        on_abandon: Callable[[], object] | None = None,
    ) -> None:
        self._produce = produce
        self._on_abandon = on_abandon
        self._buffer: deque[T] = deque()
        self._items: Generator[T] | None = None
        self._complete = False

    @property
    def finished(self) -> bool:
        """Whether the producer ran to its end."""
        return self._complete

    def __enter__(self) -> Self:
        self._items = self._produce(Outlet(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        if self._complete:
            return None
        if self._items is not None:
            self._items.close()
        if self._on_abandon is not None:
            self._on_abandon()
        return None

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> T:
        assert self._items is not None, "use the pump as a context manager"
        while not self._buffer:
            if self._complete:
                raise StopIteration
            try:
                item = next(self._items)
            except StopIteration:
                self._complete = True
                continue
            self._buffer.append(item)
        return self._buffer.popleft()


def capacity_limiter(limit: int) -> None:
    """A bound on calls running at once (the sync client runs one at a time: None)."""
    return None
