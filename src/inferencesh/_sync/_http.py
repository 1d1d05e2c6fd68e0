"""Sending requests with retries, and following tasks (the sync driver of `_protocol`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from typing import Any, TypeVar

import httpx2

from inferencesh._config import ClientOptions
from inferencesh._protocol import follow as w
from inferencesh._protocol.endpoints import ApiRequest
from inferencesh._protocol.envelope import error_from_response, read_data
from inferencesh._protocol.ndjson import NdjsonDecoder
from inferencesh._protocol.results import translate_transport_error
from inferencesh._protocol.retry import RetryPolicy
from inferencesh._sync._transport import (
    default_transport,
    stream_client,
    streams_bypass_httpx2,
)
from inferencesh.errors import APIConnectionError, APIResponseValidationError
from inferencesh.models._status import TaskUpdate

__all__ = ["HTTP"]

logger = logging.getLogger("inferencesh")
T = TypeVar("T")


class HTTP:
    """The client's connection pool plus the retry loop; everything else is in `_protocol`."""

    def __init__(self, opts: ClientOptions, client: httpx2.Client | None) -> None:
        self.opts = opts
        self._owned = client is None
        self.client = client or httpx2.Client(
            timeout=opts.timeout, transport=default_transport(), follow_redirects=False
        )
        # Task streams read through http.client: httpx2 parses them at half the speed (_transport).
        self._streams = stream_client(opts.timeout) if streams_bypass_httpx2(client) else None

    def close(self) -> None:
        """Close the pool, unless the caller handed it in."""
        if self._owned:
            self.client.close()
        if self._streams is not None:
            self._streams.close()

    def send(
        self, call: ApiRequest, *, stream: bool = False, via: httpx2.Client | None = None
    ) -> httpx2.Response:
        """Send `call` (through `via`, default the pool), retrying as `RetryPolicy` allows.

        Returns a 2xx response, or raises.
        """
        client = via or self.client
        policy: RetryPolicy | None = None  # made on the first failure: most calls never need it
        attempt = 0
        while True:
            attempt += 1
            try:
                response = client.send(call.request, stream=stream)
            except httpx2.TransportError as exc:
                policy = policy or RetryPolicy(max_retries=call.max_retries)
                delay = policy.delay_after_error(attempt, exc, idempotent=call.idempotent)
                if delay is None:
                    raise translate_transport_error(exc, call.request) from exc
                logger.info("retrying %s in %.2fs after %r", _describe(call), delay, exc)
                time.sleep(delay)
                continue
            if response.is_success:
                return response
            policy = policy or RetryPolicy(max_retries=call.max_retries)
            delay = policy.delay_after_response(attempt, response, idempotent=call.idempotent)
            try:
                response.read()
            finally:
                response.close()
            if delay is None:
                raise error_from_response(response)
            logger.info(
                "retrying %s in %.2fs after %d", _describe(call), delay, response.status_code
            )
            time.sleep(delay)

    def request(self, call: ApiRequest) -> Any:
        """Send `call` and return its unwrapped JSON payload."""
        return read_data(self.send(call))

    def request_object(self, call: ApiRequest) -> dict[str, Any]:
        """Send `call`; its payload must be a JSON object."""
        response = self.send(call)
        data = read_data(response)
        if not isinstance(data, dict):
            raise APIResponseValidationError(
                f"{_describe(call)}: expected a JSON object, got {type(data).__name__}",
                response=response,
            )
        return data  # pyright: ignore[reportUnknownVariableType]

    def follow(self, watch: w.Follower[T]) -> Generator[T]:
        """Drive a follower (`TaskWatch`, ...) until its resource ends, yielding its items."""
        updates, action = watch.start()
        yield from updates
        while not isinstance(action, w.Finished):
            watch.check_deadline()
            if isinstance(action, w.Sleep):
                time.sleep(action.seconds)
                action = action.then
            elif isinstance(action, w.OpenStream):
                try:
                    response = self.send(
                        action.request, stream=True, via=self._stream_client(action.request.request)
                    )
                    try:
                        decoder = NdjsonDecoder()
                        # Streams ask for identity encoding: then raw bytes skip httpx2's
                        # decoder layers, 6% of the client's CPU per line (bench/RESULTS.md §2).
                        encoding = response.headers.get("content-encoding", "identity")
                        chunks = (
                            response.iter_raw() if encoding == "identity" else response.iter_bytes()
                        )
                        for chunk in chunks:
                            yield from watch.on_lines(decoder.feed(chunk))
                            if watch.finished:
                                return
                            watch.check_deadline()
                        yield from watch.on_lines(decoder.flush())
                    finally:
                        response.close()
                    action = watch.on_stream_end()
                except httpx2.TransportError as exc:
                    action = watch.on_stream_error(exc)
                except APIConnectionError as exc:
                    action = watch.on_stream_error(exc)
            elif isinstance(action, w.Fetch):
                updates, action = watch.on_fetched(self.request_object(action.request))
                yield from updates
            else:
                action = watch.on_status(self.request_object(action.request))

    def _stream_client(self, request: httpx2.Request) -> httpx2.Client:
        if self._streams is not None and request.url.scheme in ("http", "https"):
            return self._streams
        return self.client


def notify(callback: Callable[[TaskUpdate], object], update: TaskUpdate) -> None:
    """Call an `on_update` callback; the async client also awaits what it returns."""
    callback(update)


def _describe(call: ApiRequest) -> str:
    return f"{call.request.method} {call.request.url.path}"
