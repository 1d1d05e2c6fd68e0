from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import pytest

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
