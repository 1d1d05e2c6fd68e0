# Generated from _async/_http.py by scripts/unasync.py: edit that file, not this one.
"""Sending requests through the one retry loop, and following live resources (sync).

The decisions are `_protocol`'s: `Attempts` says what to send and whether to try again, a
`Follower` (`TaskWatch`, ...) what to do next while following a resource. This module only
moves bytes and sleeps, through `_io` (the flavour's I/O).
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2

from inferencesh._config import ClientOptions
from inferencesh._protocol import follow as w
from inferencesh._protocol.attempts import Attempts
from inferencesh._protocol.endpoints import ApiRequest
from inferencesh._protocol.envelope import read_data
from inferencesh._protocol.ndjson import NdjsonDecoder
from inferencesh._protocol.results import as_model, as_object
from inferencesh._sync import _io as io
from inferencesh.errors import APIError, ClientClosedError

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["HTTP"]

logger = logging.getLogger("inferencesh")
T = TypeVar("T")
M = TypeVar("M", bound="BaseModel")


class HTTP:
    """The client's connections plus the retry loop; everything else is in `_protocol`."""

    def __init__(self, opts: ClientOptions, client: httpx2.Client | None) -> None:
        self.opts = opts
        self._clients = io.Clients(opts, client)
        self._closed = False

    @property
    def client(self) -> httpx2.Client:
        """The connection pool (the caller's client, when one was handed in)."""
        return self._clients.pool

    def stream_slot(self) -> AbstractContextManager[None]:
        """Hold a connection for a stream that stays open (a chat's), leaving some for requests."""
        return self._clients.stream_slot()

    def close(self) -> None:
        """Close the connections, unless the caller handed them in."""
        self._closed = True
        self._clients.close()

    def send(self, call: ApiRequest, *, stream: bool = False) -> httpx2.Response:
        """Send `call`, trying again as `Attempts` decides; return a 2xx response or raise."""
        if self._closed or self._clients.is_closed:
            raise ClientClosedError(
                "this client was closed; make a new one (or use it inside its with block)"
            )
        attempts = Attempts(call)
        while True:
            request = attempts.next_request()
            try:
                response = self._clients.send(request, stream=stream)
            except httpx2.TransportError as exc:
                delay = attempts.after_error(exc)
                logger.info("retrying %s in %.2fs after %r", _describe(request), delay, exc)
                io.sleep(delay)
                continue
            if response.is_success:
                return response
            try:
                response.read()
            finally:
                response.close()
            delay = attempts.after_response(response)
            logger.info(
                "retrying %s in %.2fs after %d", _describe(request), delay, response.status_code
            )
            io.sleep(delay)

    def request(self, call: ApiRequest) -> Any:
        """Send `call` and return its unwrapped JSON payload."""
        return read_data(self.send(call))

    def request_object(self, call: ApiRequest) -> tuple[dict[str, Any], httpx2.Response]:
        """Send `call`; its payload must be a JSON object. Returns it, and the response."""
        response = self.send(call)
        return as_object(read_data(response), response), response

    def request_model(self, model: type[M], call: ApiRequest) -> M:
        """Send `call` and validate its payload as `model`."""
        response = self.send(call)
        return as_model(model, read_data(response), response)

    def follow(self, follower: w.Follower[T]) -> Generator[T]:
        """Drive a follower (`TaskWatch`, ...) until its resource ends, yielding its items."""
        items, action = follower.start()
        for item in items:
            yield item
        while not isinstance(action, w.Finished):
            follower.check_deadline()
            if isinstance(action, w.Sleep):
                io.sleep(action.seconds)
                action = action.then
            elif isinstance(action, w.OpenStream):
                try:
                    response = self.send(action.request, stream=True)
                    follower.on_response(response)
                    decoder = NdjsonDecoder()
                    with io.body_chunks(response) as chunks:
                        for chunk in chunks:
                            for item in follower.on_lines(decoder.feed(chunk)):
                                yield item
                            if follower.finished:
                                break
                            follower.check_deadline()
                        if not follower.finished:
                            for item in follower.on_lines(decoder.flush()):
                                yield item
                        elif follower.stream_ends:
                            # The server ends the stream after the terminal update: reading to
                            # that end returns the connection to the pool.
                            io.drain(chunks)
                    action = follower.on_stream_end()  # Finished, or what to confirm the end
                except httpx2.TransportError as exc:
                    action = follower.on_stream_error(exc)
                except APIError as exc:  # the stream could not be opened: the follower decides
                    action = follower.on_stream_error(exc)
            elif isinstance(action, w.Fetch):
                data, response = self.request_object(action.request)
                follower.on_response(response)
                items, action = follower.on_fetched(data)
                for item in items:
                    yield item
            else:
                data, response = self.request_object(action.request)
                follower.on_response(response)
                action = follower.on_status(data)


def _describe(request: httpx2.Request) -> str:
    return f"{request.method} {request.url.path}"
