"""Sending requests with retries, and following tasks (the async driver of `_protocol`)."""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import httpx2

from inferencesh._async._transport import default_transport
from inferencesh._config import ClientOptions
from inferencesh._protocol import follow as w
from inferencesh._protocol.endpoints import ApiRequest
from inferencesh._protocol.envelope import error_from_response, read_data
from inferencesh._protocol.ndjson import NdjsonDecoder
from inferencesh._protocol.results import translate_transport_error
from inferencesh._protocol.retry import RetryPolicy
from inferencesh.errors import APIConnectionError, APIResponseValidationError
from inferencesh.models._status import TaskUpdate

__all__ = ["AsyncHTTP"]

logger = logging.getLogger("inferencesh")
T = TypeVar("T")

DRAIN_SECONDS = 1.0
"""How long to wait for the server to end a task stream after its terminal update."""


class AsyncHTTP:
    """The client's connection pool plus the retry loop; everything else is in `_protocol`."""

    def __init__(self, opts: ClientOptions, client: httpx2.AsyncClient | None) -> None:
        self.opts = opts
        self._owned = client is None
        self.client = client or httpx2.AsyncClient(
            timeout=opts.timeout,
            transport=default_transport(),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        """Close the pool, unless the caller handed it in."""
        if self._owned:
            await self.client.aclose()

    async def send(self, call: ApiRequest, *, stream: bool = False) -> httpx2.Response:
        """Send `call`, retrying as `RetryPolicy` allows; return a 2xx response or raise."""
        policy: RetryPolicy | None = None  # made on the first failure: most calls never need it
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.client.send(call.request, stream=stream)
            except httpx2.TransportError as exc:
                policy = policy or RetryPolicy(max_retries=call.max_retries)
                delay = policy.delay_after_error(attempt, exc, idempotent=call.idempotent)
                if delay is None:
                    raise translate_transport_error(exc, call.request) from exc
                logger.info("retrying %s in %.2fs after %r", _describe(call), delay, exc)
                await anyio.sleep(delay)
                continue
            if response.is_success:
                return response
            policy = policy or RetryPolicy(max_retries=call.max_retries)
            delay = policy.delay_after_response(attempt, response, idempotent=call.idempotent)
            try:
                await response.aread()
            finally:
                await response.aclose()
            if delay is None:
                raise error_from_response(response)
            logger.info(
                "retrying %s in %.2fs after %d", _describe(call), delay, response.status_code
            )
            await anyio.sleep(delay)

    async def request(self, call: ApiRequest) -> Any:
        """Send `call` and return its unwrapped JSON payload."""
        return read_data(await self.send(call))

    async def request_object(self, call: ApiRequest) -> dict[str, Any]:
        """Send `call`; its payload must be a JSON object."""
        response = await self.send(call)
        data = read_data(response)
        if not isinstance(data, dict):
            raise APIResponseValidationError(
                f"{_describe(call)}: expected a JSON object, got {type(data).__name__}",
                response=response,
            )
        return data  # pyright: ignore[reportUnknownVariableType]

    async def follow(self, watch: w.Follower[T]) -> AsyncGenerator[T]:
        """Drive a follower (`TaskWatch`, ...) until its resource ends, yielding its items."""
        updates, action = watch.start()
        for update in updates:
            yield update
        while not isinstance(action, w.Finished):
            watch.check_deadline()
            if isinstance(action, w.Sleep):
                await anyio.sleep(action.seconds)
                action = action.then
            elif isinstance(action, w.OpenStream):
                try:
                    response = await self.send(action.request, stream=True)
                    decoder = NdjsonDecoder()
                    async with body_chunks(response) as chunks:
                        async for chunk in chunks:
                            for update in watch.on_lines(decoder.feed(chunk)):
                                yield update
                            if watch.finished:
                                break
                            watch.check_deadline()
                        if watch.finished:
                            # The server ends the stream after the terminal update: reading to
                            # that end returns the connection to the pool for the next request.
                            with anyio.move_on_after(DRAIN_SECONDS):
                                async for _ in chunks:
                                    pass
                            return
                        for update in watch.on_lines(decoder.flush()):
                            yield update
                    action = watch.on_stream_end()
                except httpx2.TransportError as exc:
                    action = watch.on_stream_error(exc)
                except APIConnectionError as exc:
                    action = watch.on_stream_error(exc)
            elif isinstance(action, w.Fetch):
                updates, action = watch.on_fetched(await self.request_object(action.request))
                for update in updates:
                    yield update
            else:
                action = watch.on_status(await self.request_object(action.request))


@asynccontextmanager
async def body_chunks(
    response: httpx2.Response, chunk_size: int | None = None
) -> AsyncGenerator[AsyncIterator[bytes]]:
    """A response body's chunks; on leaving, the response is closed and nothing left pending.

    httpx2 reads bodies through nested async generators and, when one is closed early, leaves
    the innermost to the garbage collector, which trio reports as a ResourceWarning
    (pydantic/httpx2#1036). So on an early exit the response is closed first and the chunks
    pulled once more: the closed connection ends every generator from the inside.
    """
    chunks = response.aiter_bytes(chunk_size)
    exhausted = False
    try:
        yield chunks
        exhausted = True
    finally:
        with anyio.CancelScope(shield=True):
            await response.aclose()
            if not exhausted:
                with anyio.move_on_after(DRAIN_SECONDS), contextlib.suppress(Exception):
                    async for _ in chunks:
                        pass
            await chunks.aclose()


async def notify(callback: Callable[[TaskUpdate], object], update: TaskUpdate) -> None:
    """Call an `on_update` callback; the async client also awaits what it returns."""
    result = callback(update)
    if inspect.isawaitable(result):
        await result


def _describe(call: ApiRequest) -> str:
    return f"{call.request.method} {call.request.url.path}"
