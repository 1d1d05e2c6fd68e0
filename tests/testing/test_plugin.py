"""The pytest plugin users get: fixtures that serve a fresh emulator per test."""

from __future__ import annotations

import pytest

from inferencesh import AsyncInference, Inference, NotFoundError
from inferencesh.local import AppContext, Emulator


def test_register_an_app_and_run_it(
    inferencesh_emulator: Emulator, inferencesh_client: Inference
) -> None:
    @inferencesh_emulator.app("me/upper")
    def upper(ctx: AppContext, input: dict[str, str]) -> dict[str, str]:  # pyright: ignore[reportUnusedFunction]
        ctx.progress(0.5, "shouting")
        return {"text": input["text"].upper()}

    task = inferencesh_client.run("me/upper", {"text": "hi"})
    assert task.output == {"text": "HI"}


def test_each_test_gets_a_fresh_emulator(inferencesh_client: Inference) -> None:
    with pytest.raises(NotFoundError):
        inferencesh_client.run("me/upper", {"text": "hi"})
    assert inferencesh_client.tasks.list().items == []


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_async_client_fixture(
    anyio_backend: str, inferencesh_async_client: AsyncInference
) -> None:
    task = await inferencesh_async_client.run("infsh/echo", {"text": anyio_backend})
    assert task.output == {"text": anyio_backend}
