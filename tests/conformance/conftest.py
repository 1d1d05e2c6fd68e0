"""Fixtures of the conformance suite: the emulator, and the official SDKs installed once.

The installs are cached under `.cache/conformance/` keyed on the pinned versions (see
`_clients.py`); a test session that selects no conformance test installs nothing. Fixture names
avoid the repository-wide `emulator`/`server` fixtures of `tests/conftest.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from inferencesh.local import Emulator, running
from tests.conformance._clients import (
    JS_DIR,
    PY_DIR,
    FlowRunner,
    Installed,
    clean_env,
    install_js,
    install_py,
    venv_python,
)

CONFORMANCE_KEY = "sk-conformance-0123456789"
_INSTALLS: dict[str, Installed] = {}


@pytest.fixture(scope="session")
def conformance_server() -> Iterator[Any]:
    """The emulator with its built-in apps, on a real socket for the whole session."""
    with running(Emulator(api_key=CONFORMANCE_KEY)) as server:
        yield server


@pytest.fixture(scope="session")
def conformance_server_wrapped() -> Iterator[Any]:
    """An emulator whose task streams send `{"data": task, "fields": [...]}` lines."""
    with running(Emulator(api_key=CONFORMANCE_KEY, stream_format="wrapped")) as server:
        yield server


@pytest.fixture(scope="session")
def official_js(conformance_server: Any) -> FlowRunner:
    """Runs `js/flows.mjs` with node and the pinned `@inferencesh/sdk` bundle."""
    installed = _INSTALLS["official JS SDK"] = install_js()
    return FlowRunner(
        name="official JS SDK",
        argv=["node", str(JS_DIR / "flows.mjs")],
        env=clean_env(INFERENCESH_JS_SDK=str(installed.path / "sdk.mjs")),
        base_url=conformance_server.base_url,
        api_key=conformance_server.api_key,
        installed=installed,
    )


@pytest.fixture(scope="session")
def official_py(conformance_server: Any) -> FlowRunner:
    """Runs `py_official/flows.py` with the pinned PyPI `inferencesh` in its own venv."""
    installed = _INSTALLS["official Python SDK"] = install_py()
    return FlowRunner(
        name="official Python SDK",
        # -I: neither this checkout nor PYTHONPATH can shadow the official package.
        argv=[str(venv_python(installed.path)), "-I", str(PY_DIR / "flows.py")],
        env=clean_env(),
        base_url=conformance_server.base_url,
        api_key=conformance_server.api_key,
        installed=installed,
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per official SDK: its version and whether it was installed or cached."""
    for name, installed in _INSTALLS.items():
        how = "cached" if installed.cached else f"installed in {installed.seconds:.1f} s"
        terminalreporter.write_line(
            f"conformance: {name} {installed.info.get('sdk_version')} ({how}, {installed.path})"
        )
