"""The sync and async clients must offer the same API with the same docs."""

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from inferencesh._async import _io as async_io
from inferencesh._async._http import AsyncHTTP
from inferencesh._async.agents import AsyncAgent, AsyncAgentStream
from inferencesh._async.client import AsyncInference, async_inference
from inferencesh._async.files import AsyncFiles
from inferencesh._async.sessions import AsyncAppSession, AsyncSessions
from inferencesh._async.tasks import AsyncTasks, AsyncTaskStream
from inferencesh._sync import _io as sync_io
from inferencesh._sync._http import HTTP
from inferencesh._sync.agents import Agent, AgentStream
from inferencesh._sync.client import Inference, inference
from inferencesh._sync.files import Files
from inferencesh._sync.sessions import AppSession, Sessions
from inferencesh._sync.tasks import Tasks, TaskStream
from inferencesh.models.file import AsyncFile, File

TWINS: list[tuple[Any, Any]] = [
    (Inference, AsyncInference),
    (Tasks, AsyncTasks),
    (TaskStream, AsyncTaskStream),
    (Files, AsyncFiles),
    (Sessions, AsyncSessions),
    (AppSession, AsyncAppSession),
    (File, AsyncFile),
    (HTTP, AsyncHTTP),
    (sync_io.Clients, async_io.Clients),
    (Agent, AsyncAgent),
    (AgentStream, AsyncAgentStream),
    (sync_io.EventPump, async_io.EventPump),
    (sync_io.Outlet, async_io.Outlet),
    (sync_io.JobHandle, async_io.JobHandle),
]
# Python's protocols differ by name between the two worlds; everything else must match.
RENAMED = {
    "close": "aclose",
    "__iter__": "__aiter__",
    "__next__": "__anext__",
    "__enter__": "__aenter__",
    "__exit__": "__aexit__",
}


def public_methods(cls: type) -> Iterator[tuple[str, Callable[..., Any]]]:
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if issubclass(cls, BaseModel) and name in dir(BaseModel):
            continue  # pydantic's own methods
        if (
            not name.startswith("_")
            or name in RENAMED
            or name in RENAMED.values()
            or name == "__init__"
        ):
            yield name, member


def normalise(doc: str | None) -> str:
    text = inspect.cleandoc(doc or "")
    for word in ("async with", "async for", "await "):
        text = text.replace(word, word.split()[-1] if word != "await " else "")
    for name in ("AsyncTaskStream", "AsyncAgentStream", "AsyncAgent"):
        text = text.replace(name, name.removeprefix("Async"))
    return text.replace("httpx2.AsyncClient", "httpx2.Client")


@pytest.mark.parametrize(("sync_cls", "async_cls"), TWINS, ids=lambda c: c.__name__)
def test_twins_have_the_same_methods_signatures_and_docs(sync_cls: type, async_cls: type) -> None:
    sync_methods = dict(public_methods(sync_cls))
    async_methods = dict(public_methods(async_cls))
    assert {RENAMED.get(n, n) for n in sync_methods} == set(async_methods)
    for name, fn in sync_methods.items():
        twin = async_methods[RENAMED.get(name, name)]
        sync_params = list(inspect.signature(fn).parameters.values())
        async_params = list(inspect.signature(twin).parameters.values())
        assert [p.name for p in sync_params] == [p.name for p in async_params], name
        assert [p.kind for p in sync_params] == [p.kind for p in async_params], name
        assert [p.default for p in sync_params] == [p.default for p in async_params], name
        assert normalise(fn.__doc__) == normalise(twin.__doc__), name


def test_async_methods_are_coroutines_where_they_do_io() -> None:
    for name, fn in public_methods(AsyncTasks):
        if name not in ("stream", "__init__"):
            assert inspect.iscoroutinefunction(fn), name
    assert inspect.iscoroutinefunction(AsyncInference.run)
    assert inspect.iscoroutinefunction(AsyncInference.aclose)


def test_factories_match() -> None:
    assert list(inspect.signature(inference).parameters) == list(
        inspect.signature(async_inference).parameters
    )


def test_the_hand_written_io_twins_offer_the_same_functions() -> None:
    # What the generated modules call through `_io` must exist, alike, in both flavours.
    assert sync_io.__all__ == async_io.__all__
    for name in sync_io.__all__:
        sync_fn, async_fn = getattr(sync_io, name), getattr(async_io, name)
        if inspect.isclass(sync_fn):
            continue  # compared method by method in TWINS
        sync_params = inspect.signature(sync_fn).parameters
        async_params = inspect.signature(async_fn).parameters
        assert list(sync_params) == list(async_params), name
        assert [p.default for p in sync_params.values()] == [
            p.default for p in async_params.values()
        ], name


def test_only_the_io_seam_and_the_transports_are_written_by_hand() -> None:
    from pathlib import Path

    sync_dir = Path(sync_io.__file__).parent
    by_hand = {"__init__.py", "_io.py", "_transport.py"}
    for path in sync_dir.glob("*.py"):
        generated = path.read_text().startswith("# Generated from _async/")
        assert generated == (path.name not in by_hand), path.name


def test_sync_modules_are_generated_from_their_async_twins() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[1] / "scripts" / "unasync.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
