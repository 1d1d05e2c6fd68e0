"""Run a batch of tasks with at most 4 at a time, with a progress bar, and collect failures.

The async client runs on asyncio or trio (through anyio); a CapacityLimiter bounds how many
tasks run at once, whatever the batch size.
"""

import sys

import anyio

from inferencesh import TaskFailedError, async_inference
from inferencesh.local import Emulator, running

PROMPTS = [f"picture {i}" for i in range(12)]


def bar(done: int, total: int, width: int = 24) -> str:
    filled = width * done // total
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


async def main(base_url: str, api_key: str) -> None:
    limiter = anyio.CapacityLimiter(4)
    results: dict[str, object] = {}
    failures: dict[str, str] = {}

    async with async_inference(api_key, base_url=base_url) as client:

        async def one(prompt: str) -> None:
            async with limiter:
                try:
                    app = "infsh/fail" if prompt.endswith("7") else "infsh/draw-image"
                    task = await client.run(app, {"prompt": prompt, "message": "no ideas"})
                    results[prompt] = task.output["image"].uri
                except TaskFailedError as exc:
                    failures[prompt] = str(exc.task.error)
            done = len(results) + len(failures)
            end = "\n" if done == len(PROMPTS) or not sys.stdout.isatty() else ""
            print(f"\r{bar(done, len(PROMPTS))}", end=end, flush=True)

        async with anyio.create_task_group() as tg:
            for prompt in PROMPTS:
                tg.start_soon(one, prompt)

    print(f"{len(results)} done, {len(failures)} failed: {failures}")


with running(Emulator()) as server:
    anyio.run(main, server.base_url, server.api_key)
