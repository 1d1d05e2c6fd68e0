"""Shared fixtures: one emulator on a real socket for the session, and client twins.

Client tests run three times: the sync client (driven from a worker thread), and the async
client on asyncio and on trio. Apps that must wait for the test block on a gate (a
`threading.Event` the test opens), so no test sleeps to synchronise.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio.to_thread
import httpx2
import pytest
from pydantic import BaseModel

from inferencesh import AsyncInference, Inference, TaskUpdate, async_inference, inference
from inferencesh.local import AppContext, Emulator, running
from tests.faultproxy import FaultProxy

API_KEY = "sk-test-0123456789"


class Gates:
    """Named events that test apps block on."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._started: dict[str, threading.Event] = {}

    def new(self) -> str:
        name = uuid.uuid4().hex
        self._events[name] = threading.Event()
        self._started[name] = threading.Event()
        return name

    def open(self, name: str) -> None:
        self._events[name].set()

    def wait_started(self, name: str, timeout: float = 10.0) -> bool:
        return self._started[name].wait(timeout)

    def block(self, name: str, ctx: AppContext) -> None:
        self._started[name].set()
        # Checking for cancel between short waits keeps the app cooperative.
        while not self._events[name].wait(0.01):
            ctx.raise_if_cancelled()


class GateInput(BaseModel):
    gate: str
    output: Any = None


GATES = Gates()


def make_emulator() -> Emulator:
    emulator = Emulator(api_key=API_KEY, heartbeat_interval=0.05)

    @emulator.app("test/gate", input=GateInput)
    def gate(ctx: AppContext, input: GateInput) -> dict[str, Any]:  # pyright: ignore[reportUnusedFunction]
        ctx.log(f"waiting on {input.gate}")
        GATES.block(input.gate, ctx)
        return {"value": input.output}

    return emulator


@pytest.fixture(scope="session")
def gates() -> Gates:
    return GATES


@pytest.fixture(scope="session")
def emulator() -> Emulator:
    return make_emulator()


@pytest.fixture(scope="session")
def server(emulator: Emulator) -> Iterator[Any]:
    with running(emulator) as srv:
        yield srv


@pytest.fixture
def fault_proxy(server: Any) -> Iterator[FaultProxy]:
    """A `FaultProxy` in front of the session's emulator: point clients at `fault_proxy.url`."""
    with FaultProxy(server.base_url) as proxy:
        yield proxy


@pytest.fixture(autouse=True)
def _reset_faults(emulator: Emulator) -> Iterator[None]:
    yield
    emulator.faults.reset()


@pytest.fixture(params=["sync", "asyncio", "trio"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def anyio_backend(flavour: str) -> str:
    return "asyncio" if flavour == "sync" else flavour


class Twin:
    """One test body for both clients: `await twin("tasks.get", id)`."""

    def __init__(self, client: Inference | AsyncInference) -> None:
        self.client = client
        self.is_async = isinstance(client, AsyncInference)

    def _target(self, path: str) -> Any:
        target: Any = self.client
        for part in path.split("."):
            target = getattr(target, part)
        return target

    async def __call__(self, path: str, *args: Any, **kwargs: Any) -> Any:
        target = self._target(path)
        if self.is_async:
            return await target(*args, **kwargs)
        return await anyio.to_thread.run_sync(functools.partial(target, *args, **kwargs))

    async def run_sync(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking call of the sync client off the event loop."""
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

    async def collect(self, path: str, *args: Any, **kwargs: Any) -> list[TaskUpdate]:
        """Call something returning a task stream and collect all of its updates."""
        stream = await self(path, *args, **kwargs)
        if self.is_async:
            async with stream:
                return [u async for u in stream]

        def consume() -> list[TaskUpdate]:
            with stream:
                return list(stream)

        return await anyio.to_thread.run_sync(consume)

    async def close(self) -> None:
        if isinstance(self.client, AsyncInference):
            await self.client.aclose()
        else:
            self.client.close()


@pytest.fixture
async def twin(flavour: str, server: Any) -> Any:
    client = server.client() if flavour == "sync" else server.async_client()
    t = Twin(client)
    yield t
    await t.close()


@pytest.fixture
async def make_twin(flavour: str, server: Any) -> Any:
    """Build a twin with client options of the test's choosing (`base_url=fault_proxy.url`...)."""
    made: list[Twin] = []

    def make(**kwargs: Any) -> Twin:
        kwargs = {"api_key": server.api_key, "base_url": server.base_url, **kwargs}
        client = inference(**kwargs) if flavour == "sync" else async_inference(**kwargs)
        made.append(Twin(client))
        return made[-1]

    yield make
    for t in made:
        await t.close()


@pytest.fixture
async def scripted(flavour: str) -> AsyncIterator[Callable[..., Twin]]:
    """Clients of a scripted API at http://api.test (no server): `scripted(handler, **opts)`."""
    made: list[tuple[Twin, Any]] = []

    def make(handler: Callable[[httpx2.Request], httpx2.Response], **kwargs: Any) -> Twin:
        transport = httpx2.MockTransport(handler)
        if flavour == "sync":
            http: Any = httpx2.Client(transport=transport)
            client: Any = inference("sk-x", base_url="http://api.test", http_client=http, **kwargs)
        else:
            http = httpx2.AsyncClient(transport=transport)
            client = async_inference("sk-x", base_url="http://api.test", http_client=http, **kwargs)
        made.append((Twin(client), http))
        return made[-1][0]

    yield make
    for twin, http in made:
        await twin.close()
        if isinstance(http, httpx2.AsyncClient):
            await http.aclose()
        else:
            http.close()
