"""A local emulator of the inference.sh API, for demos and tests.

It serves the real HTTP protocol (envelopes, problem+json errors, NDJSON task streams with
heartbeats) on a real ASGI server, runs apps you register as Python functions or classes, and
can inject faults. The official JS and Python SDKs work against it unchanged.

```python
from inferencesh.local import Emulator, running

with running(Emulator()) as server, server.client() as client:
    task = client.run("infsh/text-templating", {"template": "Hello {1}!", "strings": ["World"]})
    assert task.output == {"text": "Hello World!"}
```

Needs the `local` extra (`pip install 'inferencesh[local]'`): Starlette and uvicorn.
"""

from __future__ import annotations

from typing import Any

try:
    import starlette  # noqa: F401  # pyright: ignore[reportUnusedImport]
    import uvicorn  # noqa: F401  # pyright: ignore[reportUnusedImport]
except ImportError as _missing:
    _what = _missing.name or "starlette or uvicorn"
    raise ImportError(
        f"inferencesh.local (the emulator) needs the 'local' extra ({_what} is missing): "
        "pip install 'inferencesh[local]'",
        name=_missing.name,
    ) from _missing

from inferencesh.local._emulator import DEFAULT_API_KEY as DEFAULT_API_KEY
from inferencesh.local._emulator import Emulator as Emulator
from inferencesh.local._server import RunningServer as RunningServer
from inferencesh.local._server import running as running
from inferencesh.local._server import serve as serve
from inferencesh.local.apps._registry import AppContext as AppContext
from inferencesh.local.apps._registry import IntegrationRequirement as IntegrationRequirement
from inferencesh.local.apps._registry import RegisteredApp as RegisteredApp
from inferencesh.local.apps._registry import TaskCancelled as TaskCancelled
from inferencesh.local.core._faults import Faults as Faults
from inferencesh.local.files._store import LocalFile as LocalFile

__all__ = [
    "DEFAULT_API_KEY",
    "AppContext",
    "Emulator",
    "Faults",
    "IntegrationRequirement",
    "LocalFile",
    "RegisteredApp",
    "RunningServer",
    "TaskCancelled",
    "running",
    "serve",
]


def _publish(*objects: Any) -> None:
    # Reprs, tracebacks and docs then name the public path, not the private module.
    for obj in objects:
        obj.__module__ = __name__


_publish(AppContext, Emulator, Faults, IntegrationRequirement, LocalFile, RegisteredApp)
_publish(RunningServer)
_publish(TaskCancelled, running, serve)
del _publish
