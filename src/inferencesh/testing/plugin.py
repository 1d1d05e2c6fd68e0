"""The pytest plugin (entry point `inferencesh`); see `inferencesh.testing`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from inferencesh import AsyncInference, Inference
    from inferencesh.local import Emulator
    from inferencesh.local._server import RunningServer
    from inferencesh.local.models._scripted import ScriptedModel


@pytest.fixture
def inferencesh_emulator() -> Iterator[Emulator]:
    """A fresh emulator with the built-in apps; register your own with `@emulator.app(...)`."""
    from inferencesh.local import Emulator

    emulator = Emulator()
    try:
        yield emulator
    finally:
        emulator.close()


@pytest.fixture
def inferencesh_server(inferencesh_emulator: Emulator) -> Iterator[RunningServer]:
    """The test's emulator on a real socket (127.0.0.1, a free port)."""
    from inferencesh.local import running

    with running(inferencesh_emulator) as server:
        yield server


@pytest.fixture
def inferencesh_client(inferencesh_server: RunningServer) -> Iterator[Inference]:
    """A sync client of the test's emulator."""
    with inferencesh_server.client() as client:
        yield client


@pytest.fixture
async def inferencesh_async_client(
    inferencesh_server: RunningServer,
) -> AsyncIterator[AsyncInference]:
    """An async client of the test's emulator (use with `@pytest.mark.anyio`)."""
    async with inferencesh_server.async_client() as client:
        yield client


@pytest.fixture
def inferencesh_model(inferencesh_emulator: Emulator) -> ScriptedModel:
    """An empty `ScriptedModel`, the default model of the test's emulator.

    Every agent of the test (any `core_app` ref without a model of its own) follows its
    script: `inferencesh_model.extend([call("get_weather", city="Paris"), reply("Sunny")])`.
    """
    from inferencesh.local.models._scripted import ScriptedModel

    model = ScriptedModel()
    inferencesh_emulator.models.default = model
    return model
