"""The async client's transport for NDJSON streams: a plain socket through anyio.

Why: a task stream sends one NDJSON line per HTTP chunk, and the HTTP stacks hand chunks over
one by one: httpx2's h11 at ≈ 6-7 µs each (on trio, and on asyncio without aiohttp), aiohttp
at ≈ 1 µs of Python each. Here every socket read (up to 64 KiB: all the chunks that have
arrived) is stripped of its framing in one pass by `Dechunker`, as the sync client's
`StdlibTransport` does, so the cost per line is mostly parsing its JSON (bench/RESULTS.md §2).
It runs on asyncio and trio alike.

Only NDJSON streams (`GET /tasks/{id}/stream`, `GET /chats/{id}/stream`: long-lived) use it,
and only when requests may skip httpx2's client (`_transport.bypass_client`: no client of the
caller's, no proxy in the environment). It is the client's own pool (`_pool`) keeping nothing:
each stream opens its own connection and closes it when the stream is closed (a chat's stream
never ends by itself: its connection could not be kept anyway), and no stream waits for a
connection here (the client bounds them with its stream slots). Requests, responses and errors
are httpx2's; it records `retry.SENT` like the other transports.
"""

from __future__ import annotations

from inferencesh._async._pool import PooledTransport

__all__ = ["SocketStreamTransport"]

_UNLIMITED = 1 << 30
"""Streams are bounded by the client's stream slots (`_io.Clients`), not here."""


class SocketStreamTransport(PooledTransport):
    """httpx2's async transport API over one anyio socket per stream (HTTP/1.1)."""

    def __init__(self) -> None:
        super().__init__(max_connections=_UNLIMITED, keep_alive=False)
