"""Live streams of any resource: pub/sub of encoded lines, and the NDJSON response.

Producers publish on any thread (a sync app's worker thread, the task runner's loop, a request
handler); each `Subscription` buffers what it was sent and is drained by one stream response.
A buffer is bounded (`Topic.max_buffered` bytes): a subscriber that does not read - its
client stopped reading, so the response cannot write - is dropped once it falls that far
behind: its buffer is freed, it gets nothing more, and its stream breaks off (no clean end,
so the client knows it missed lines and reconnects for a fresh snapshot).
Publishing never waits on an event loop: it appends under a lock and wakes the response's
waiter: directly on the waiter's own thread, else by scheduling the wake-up on its loop
(`call_soon_threadsafe`, trio's `run_sync_soon`), which never blocks. So no event loop can ever
block on another, whatever mix of threads and loops the emulator is hosted in. (The wait was a
worker thread blocked on a condition: a thread switch for every batch a stream wrote.)

`EventStream` is the response: it writes the resource's snapshot first, then one line per
published item, each in its own chunk as it happens; `{"type":"heartbeat"}` after each quiet
`heartbeat_interval`; the snapshot again after a longer quiet spell (a client that reads only
heartbeats for 30 s gives up); and it ends after an item marked `final`. Task streams and,
later, chat streams are both built on it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from inferencesh.local.core._wake import waker

__all__ = [
    "DEFAULT_MAX_BUFFERED",
    "HEARTBEAT",
    "EventStream",
    "StreamCut",
    "StreamItem",
    "StreamSettings",
    "Subscription",
    "Topic",
]

HEARTBEAT = b'{"type":"heartbeat"}'
NDJSON_TYPE = "application/x-ndjson"
SSE_TYPE = "text/event-stream"
_MAX_WAIT = 3600.0  # threading waits overflow on infinite timeouts
DEFAULT_MAX_BUFFERED = 8 * 1024 * 1024
"""Bytes a subscriber may fall behind before it is dropped."""


@dataclass(frozen=True, slots=True)
class StreamItem:
    """One line to send (a JSON document, no newline)."""

    line: bytes
    final: bool = False
    """End the stream after this line (for a task: its terminal update)."""


deliberate_cut: ContextVar[bool] = ContextVar("deliberate_cut", default=False)
"""Set in the request's context when a stream is broken on purpose, so the server runner can
keep uvicorn from logging the incomplete response as an error."""

_CLOSED = StreamItem(b"", final=True)
"""Pushed when a topic closes: ends the stream without writing anything."""
_DROPPED = StreamItem(b"", final=True)
"""What a dropped subscriber reads last: the stream breaks off instead of ending."""


@dataclass(frozen=True, slots=True)
class StreamCut:
    """A fault to inject: stop after `after` lines (heartbeats not counted)."""

    after: int
    abort: bool = True
    """Break the connection (no end of the chunked body) instead of ending it cleanly."""


class _CutSource(Protocol):
    def take_cut(self) -> StreamCut | None: ...


class StreamSettings(Protocol):
    """How stream responses behave; the `Emulator` is one (its attributes may change live)."""

    @property
    def heartbeat_interval(self) -> float: ...
    @property
    def snapshot_interval(self) -> float | None: ...
    @property
    def faults(self) -> _CutSource: ...


class Subscription:
    """What one stream receives from a topic, buffered until the stream writes it.

    Args:
        topic: Where it came from (closing unsubscribes from it).
        max_buffered: Bytes it may hold; one more item past it drops the subscriber. An
            item is always taken into an empty buffer, so no single line is too large.
    """

    def __init__(self, topic: Topic | None = None, max_buffered: int | None = None) -> None:
        self._topic = topic
        self._max_buffered = max_buffered
        self._lock = threading.Lock()
        self._items: deque[StreamItem] = deque()
        self._buffered = 0
        self._closed = False
        self._dropped = False
        self._wake: Callable[[], None] | None = None

    @property
    def dropped(self) -> bool:
        """Whether it fell too far behind and was dropped."""
        with self._lock:
            return self._dropped

    def push(self, item: StreamItem) -> None:
        """Queue `item` (from any thread; never blocks on an event loop)."""
        with self._lock:
            if self._closed:
                return
            size = len(item.line)
            limit = self._max_buffered
            if limit is not None and self._buffered and self._buffered + size > limit:
                self._items.clear()  # the memory is what the limit is for
                self._buffered = 0
                self._closed = self._dropped = True
            else:
                self._items.append(item)
                self._buffered += size
            wake, self._wake = self._wake, None
            dropped = self._dropped
        if wake is not None:
            wake()
        if dropped and self._topic is not None:
            self._topic.unsubscribe(self)

    def close(self) -> None:
        """Stop receiving; wakes a waiting `next_batch`."""
        with self._lock:
            self._closed = True
            wake, self._wake = self._wake, None
        if wake is not None:
            wake()
        if self._topic is not None:
            self._topic.unsubscribe(self)

    async def next_batch(self, timeout: float) -> list[StreamItem]:
        """Everything published since the last call, waiting up to `timeout` s for something.

        One waiter at a time (the stream response that drains it).
        """
        with self._lock:
            if self._items or self._closed or timeout <= 0:
                return self._drain()
            arrived = anyio.Event()
            self._wake = waker(arrived.set)
        try:
            with anyio.move_on_after(timeout):
                await arrived.wait()
        finally:
            with self._lock:
                self._wake = None
        with self._lock:
            return self._drain()

    def _drain(self) -> list[StreamItem]:
        items = list(self._items)
        self._items.clear()
        self._buffered = 0
        if self._closed and not items:
            return [_DROPPED if self._dropped else _CLOSED]
        return items


class Topic:
    """The subscribers of one resource (thread-safe).

    Args:
        max_buffered: Bytes each subscriber may fall behind before it is dropped (None:
            no limit).
    """

    def __init__(self, max_buffered: int | None = DEFAULT_MAX_BUFFERED) -> None:
        self.max_buffered = max_buffered
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._subs: list[Subscription] = []
        self._closed = False

    def subscribe(self) -> Subscription:
        """A new subscription that receives every item published from now on."""
        sub = Subscription(self, self.max_buffered)
        with self._lock:
            if self._closed:
                sub.push(_CLOSED)
            else:
                self._subs.append(sub)
                self._changed.notify_all()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget `sub` (closing the subscription does this)."""
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
                self._changed.notify_all()

    def publish(self, item: StreamItem) -> None:
        """Send `item` to every current subscriber."""
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub.push(item)

    def end_streams(self) -> None:
        """End the streams open now; later subscribers are served as usual."""
        with self._lock:
            subs, self._subs = self._subs, []
            self._changed.notify_all()
        for sub in subs:
            sub.push(_CLOSED)

    def close(self) -> None:
        """End every subscriber's stream, now and for later subscribers."""
        with self._lock:
            self._closed = True
            subs, self._subs = self._subs, []
            self._changed.notify_all()
        for sub in subs:
            sub.push(_CLOSED)

    @property
    def subscriber_count(self) -> int:
        """How many streams follow this topic now."""
        with self._lock:
            return len(self._subs)

    def wait_for_subscribers(self, count: int, timeout: float | None = None) -> bool:
        """Block until exactly `count` streams follow the topic; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._subs) == count, timeout)


class EventStream(Response):
    """A streaming response fed by a snapshot and a subscription; see the module docstring.

    Args:
        first: Lines to write at once (the snapshot). If one is `final`, the stream ends there.
        subscription: Where later lines come from; None to end after `first`.
        heartbeat_interval: Seconds of silence before a heartbeat line.
        snapshot: Makes a fresh snapshot line, re-sent after `snapshot_interval` seconds
            without any update; returning None ends the stream (the resource is gone).
        snapshot_interval: See `snapshot`; None never re-sends.
        sse: Frame lines as server-sent events (`data: ...`) instead of NDJSON.
        cut: A fault to inject (see `Faults.cut_stream_after`).
    """

    def __init__(
        self,
        *,
        first: Sequence[StreamItem],
        subscription: Subscription | None,
        heartbeat_interval: float,
        snapshot: Callable[[], StreamItem | None] | None = None,
        snapshot_interval: float | None = None,
        sse: bool = False,
        cut: StreamCut | None = None,
    ) -> None:
        # Not Response.__init__: it would add `content-length: 0` for the missing body.
        self.status_code = 200
        self.media_type = SSE_TYPE if sse else NDJSON_TYPE
        self.background = None
        self.init_headers({"cache-control": "no-cache", "x-accel-buffering": "no"})
        self._first = list(first)
        self._sub = subscription
        self._heartbeat = heartbeat_interval
        self._snapshot = snapshot
        self._snapshot_interval = snapshot_interval if snapshot is not None else None
        self._sse = sse
        self._cut = cut
        self._written = 0
        self._disconnected = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        complete = False
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._watch_disconnect, receive, tg.cancel_scope)
                try:
                    complete = await self._pump(send)
                except OSError:
                    self._disconnected = True  # the client went away mid-write
                tg.cancel_scope.cancel()
        finally:
            if self._sub is not None:
                self._sub.close()
        if self._disconnected:
            return
        if not complete:
            deliberate_cut.set(True)  # ends without the last chunk: the client sees a break
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _watch_disconnect(self, receive: Receive, scope: anyio.CancelScope) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self._disconnected = True
                scope.cancel()
                return

    async def _pump(self, send: Send) -> bool:
        """Write until the stream should end; False means "break the connection" (a cut)."""
        if self._cut is not None and self._cut.after <= 0:
            return not self._cut.abort
        done = await self._write_items(send, self._first)
        if done is not None:
            return done
        sub = self._sub
        if sub is None:
            return True
        last_write = last_data = anyio.current_time()
        while True:
            deadline = last_write + self._heartbeat
            if self._snapshot_interval is not None:
                deadline = min(deadline, last_data + self._snapshot_interval)
            wait = min(_MAX_WAIT, max(0.0, deadline - anyio.current_time()))
            batch = await sub.next_batch(wait)
            now = anyio.current_time()
            if not batch:
                if self._snapshot is not None and self._snapshot_interval is not None:
                    if now - last_data >= self._snapshot_interval:
                        item = self._snapshot()
                        if item is None:
                            return True
                        done = await self._write_items(send, (item,))
                        if done is not None:
                            return done
                        last_write = last_data = now
                        continue
                if now - last_write >= self._heartbeat:
                    await self._write(send, HEARTBEAT, heartbeat=True)
                    last_write = now
                continue
            done = await self._write_items(send, batch)
            if done is not None:
                return done
            last_write = last_data = now

    async def _write_items(self, send: Send, items: Iterable[StreamItem]) -> bool | None:
        """Write items in one chunk; a bool ends the stream (see `_pump`), None goes on.

        One chunk, not one per line: a write into a connection the client has just closed does
        not fail, and the server learns of the close only between chunks, so a burst of lines
        written one by one went on into the dead connection (and asyncio logged each write).
        """
        lines: list[bytes] = []
        done: bool | None = None
        for item in items:
            if item is _DROPPED:
                done = False  # break off: the client missed lines
                break
            if item.line:
                lines.append(item.line)
                self._written += 1
                if self._cut is not None and self._written >= self._cut.after:
                    done = not self._cut.abort
                    break
            if item.final:
                done = True
                break
        if lines:
            await self._send_body(send, b"".join(self._frame(line) for line in lines))
        return done

    async def _write(self, send: Send, line: bytes, *, heartbeat: bool = False) -> None:
        body = b": heartbeat\n\n" if heartbeat and self._sse else self._frame(line)
        await self._send_body(send, body)

    def _frame(self, line: bytes) -> bytes:
        return b"data: " + line + b"\n\n" if self._sse else line + b"\n"

    @staticmethod
    async def _send_body(send: Send, body: bytes) -> None:
        await send({"type": "http.response.body", "body": body, "more_body": True})
