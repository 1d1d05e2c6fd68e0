"""Fixtures of the emulator's tests: one emulator with test apps, on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from inferencesh.local import Emulator, RunningServer, running
from inferencesh.local.core._limits import DEFAULT_MAX_BODY_SIZE
from tests.local._support import API_KEY, register_test_apps


@pytest.fixture(scope="session")
def local_emu() -> Iterator[Emulator]:
    emu = Emulator(api_key=API_KEY, heartbeat_interval=0.05, snapshot_interval=None)
    register_test_apps(emu)
    yield emu
    emu.close()


@pytest.fixture(scope="session")
def local_server(local_emu: Emulator) -> Iterator[RunningServer]:
    with running(local_emu) as server:
        yield server


@pytest.fixture(autouse=True)
def _restore_options(local_emu: Emulator) -> Iterator[None]:
    yield
    local_emu.faults.reset()
    local_emu.api_key = API_KEY
    local_emu.stream_format = "bare"
    local_emu.heartbeat_interval = 0.05
    local_emu.snapshot_interval = None
    local_emu.max_body_size = DEFAULT_MAX_BODY_SIZE
    local_emu.secrets.clear()
    local_emu.integrations.clear()


@pytest.fixture
def http(local_server: RunningServer) -> Iterator[httpx2.Client]:
    """A raw HTTP client of the emulator, with the key."""
    headers = {"authorization": f"Bearer {API_KEY}"}
    with httpx2.Client(base_url=local_server.base_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
