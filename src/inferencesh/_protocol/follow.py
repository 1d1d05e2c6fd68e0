"""The stream-follower protocol: how a driver follows any live resource (a task, a chat).

A follower is a sans-IO state machine. It says what to do next (an `Action`) and is told what
happened: a response arrived, lines arrived, the stream ended or broke (or could not be
opened: the error answer is passed on, the follower decides whether to reconnect), the
resource or its status was fetched.
The drivers (`_async/_http.py` and its generated sync twin) carry the actions out and yield
the items the follower emits, so reconnects, de-duplication, polling and deadlines are written
once per resource kind, in `_protocol/`, and never in a driver.

`TaskWatch` (`watch.py`) follows a task; the chat follower of the agent runner implements the
same protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

from inferencesh._protocol.endpoints import ApiRequest

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "Action",
    "Fetch",
    "Finished",
    "Follower",
    "OpenStream",
    "PollStatus",
    "Sleep",
]

ItemT = TypeVar("ItemT")


@dataclass(frozen=True, slots=True)
class OpenStream:
    """Open the NDJSON stream of `request` and feed its decoded lines to `on_lines`."""

    request: ApiRequest


@dataclass(frozen=True, slots=True)
class Fetch:
    """Send `request` (a GET of the whole resource) and hand its payload to `on_fetched`."""

    request: ApiRequest


@dataclass(frozen=True, slots=True)
class PollStatus:
    """Send `request` (a GET of the resource's status) and hand its payload to `on_status`."""

    request: ApiRequest


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait `seconds`, then do `then`."""

    seconds: float
    then: Action


@dataclass(frozen=True, slots=True)
class Finished:
    """Nothing more to follow: the last item was emitted."""


Action: TypeAlias = OpenStream | Fetch | PollStatus | Sleep | Finished


class Follower(Protocol[ItemT]):
    """What a driver needs from a state machine to follow a resource to its end."""

    @property
    def finished(self) -> bool:
        """True once the resource reached its end; the driver stops reading then."""
        ...

    @property
    def stream_ends(self) -> bool:
        """Whether the server ends the stream after the resource's end (a task's does).

        The driver then reads on to that end, so the connection goes back to the pool; a
        stream that stays open (a chat's) is closed at once instead.
        """
        ...

    def start(self) -> tuple[list[ItemT], Action]:
        """The items known before any request, and the first action."""
        ...

    def on_response(self, response: httpx2.Response) -> None:
        """A response arrived (a stream's head, a fetch); what follows is read from it.

        Kept so that a payload that does not fit can be reported with its response.
        """
        ...

    def on_lines(self, lines: list[dict[str, Any]]) -> list[ItemT]:
        """Apply decoded stream lines (heartbeats included); return the items they make."""
        ...

    def on_stream_end(self) -> Action:
        """The stream closed cleanly, or the driver stopped reading it once `finished`.

        Once finished: `Finished`, or a request that confirms the end (a chat's).
        """
        ...

    def on_stream_error(self, exc: Exception) -> Action:
        """The stream broke (a transport error) or could not be opened (an `APIError`).

        Return how to go on, or raise: `exc` itself when retrying cannot help.
        """
        ...

    def on_fetched(self, data: dict[str, Any]) -> tuple[list[ItemT], Action]:
        """The payload of a `Fetch` arrived."""
        ...

    def on_status(self, data: dict[str, Any]) -> Action:
        """The payload of a `PollStatus` arrived."""
        ...

    def check_deadline(self) -> None:
        """Raise the follower's timeout error once the caller's deadline has passed."""
        ...
