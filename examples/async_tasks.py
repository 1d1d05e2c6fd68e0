"""Run many tasks at once with the async client (asyncio or trio, through anyio)."""

import anyio

from inferencesh import Task
from inferencesh.local import Emulator, running


async def main(base_url: str, api_key: str) -> None:
    from inferencesh import async_inference

    results: dict[int, Task] = {}
    async with async_inference(api_key, base_url=base_url) as client:

        async def one(i: int) -> None:
            results[i] = await client.run("infsh/echo", {"text": f"hello {i}"})

        async with anyio.create_task_group() as tg:
            for i in range(10):
                tg.start_soon(one, i)
    for i in sorted(results):
        print(i, results[i].output)


with running(Emulator()) as server:
    anyio.run(main, server.base_url, server.api_key)
