from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import pytest

from inferencesh import AsyncInference, Inference
from inferencesh.agent import AgentEvent
from inferencesh.agent._execute import execute_async, execute_sync
from inferencesh.agent.dispatch import Flow

T = TypeVar("T")

Runner = Callable[[Flow[Any]], Awaitable[Any]]


@pytest.fixture(params=["sync", "asyncio", "trio"])
def flavour(request: pytest.FixtureRequest) -> str:
    """Dispatch runs under the sync executor, and the async one on asyncio and trio."""
    return str(request.param)


@pytest.fixture
def execute(flavour: str) -> Runner:
    """Carry out a dispatch flow the way the test's flavour of client does."""
    limiter = anyio.CapacityLimiter(4)

    async def run(flow: Flow[T]) -> T:
        if flavour == "sync":
            return execute_sync(flow)
        return await execute_async(flow, limiter=limiter)

    return run


class AgentTwin:
    """One test body for both clients' agents: the sync one is driven from a worker thread."""

    def __init__(self, client: Inference | AsyncInference) -> None:
        self.client = client
        self.is_async = isinstance(client, AsyncInference)

    def agent(self, *args: Any, **kwargs: Any) -> Any:
        """`client.agent(...)` (no I/O: the same in both)."""
        return self.client.agent(*args, **kwargs)

    async def __call__(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call an agent's method: awaited, or in a worker thread for the sync client."""
        if self.is_async:
            return await method(*args, **kwargs)
        return await anyio.to_thread.run_sync(functools.partial(method, *args, **kwargs))

    async def events(self, agent: Any, text: str | None, **kwargs: Any) -> list[AgentEvent]:
        """Every event of one turn."""
        if self.is_async:
            async with agent.stream(text, **kwargs) as stream:
                return [event async for event in stream]

        def consume() -> list[AgentEvent]:
            with agent.stream(text, **kwargs) as stream:
                return list(stream)

        return await anyio.to_thread.run_sync(consume)

    async def events_until(
        self, agent: Any, text: str | None, stop: Callable[[AgentEvent], bool], **kwargs: Any
    ) -> list[AgentEvent]:
        """The events of a turn up to the first `stop(event)`, then leave the stream."""
        seen: list[AgentEvent] = []
        if self.is_async:
            async with agent.stream(text, **kwargs) as stream:
                async for event in stream:
                    seen.append(event)
                    if stop(event):
                        break
            return seen

        def consume() -> list[AgentEvent]:
            with agent.stream(text, **kwargs) as stream:
                for event in stream:
                    seen.append(event)
                    if stop(event):
                        break
            return seen

        return await anyio.to_thread.run_sync(consume)

    async def close(self) -> None:
        if isinstance(self.client, AsyncInference):
            await self.client.aclose()
        else:
            self.client.close()


@pytest.fixture
async def agents(flavour: str, server: Any) -> AsyncIterator[AgentTwin]:
    client = server.client() if flavour == "sync" else server.async_client()
    twin = AgentTwin(client)
    yield twin
    await twin.close()


def tool_messages(reply: Any) -> list[str]:
    """The texts of the turn's tool messages: what the model was told each call returned."""
    return [m.text for m in reply.messages if m.role == "tool"]


@pytest.fixture
def seen() -> list[tuple[str, Any]]:
    """What the test's tool handlers were called with (thread-safe appends)."""
    return []
