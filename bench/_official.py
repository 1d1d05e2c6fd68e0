"""The official SDK's side of the benchmarks (`inferencesh==0.36.0`, run by its own venv).

It shares our import name, so this file runs only under `bench/.work/official/bin/python`
(see `_common.official_python`). It calls the SDK the way its README tells users to:

- `stream-sync`:  `for update in inference(...).tasks.stream(id)` (requests, `iter_lines`)
- `stream-async`: `async for update in async_inference(...).tasks.stream(id)` (aiohttp)
- `get`:          `await async_inference(...).tasks.get(id)` with C calls in flight (aiohttp,
                  one new `ClientSession` per call, as the SDK does)

Each prints one JSON object, like the workers of `bench_stream.py`/`bench_concurrency.py`.
"""

from __future__ import annotations

import argparse
import asyncio  # noqa: TID251 - the official async client is asyncio-only
import json
import time

from _common import run_in_flight

import inferencesh

KEY = "bench-key"


def stream_sync(base: str, lines: int) -> dict[str, float]:
    client = inferencesh.inference(api_key=KEY, base_url=base)
    for _ in client.tasks.stream("s1000"):  # warm-up: imports, first connection
        pass
    start, cpu = time.perf_counter(), time.process_time()
    count = 0
    for _ in client.tasks.stream(f"s{lines}"):
        count += 1
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "updates": count,
    }


async def _stream_async(base: str, lines: int) -> dict[str, float]:
    client = inferencesh.async_inference(api_key=KEY, base_url=base)
    async for _ in client.tasks.stream("s1000"):
        pass
    start, cpu = time.perf_counter(), time.process_time()
    count = 0
    async for _ in client.tasks.stream(f"s{lines}"):
        count += 1
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "updates": count,
    }


async def _get(base: str, concurrency: int, seconds: float) -> dict[str, float]:
    client = inferencesh.async_inference(api_key=KEY, base_url=base)

    async def call() -> None:
        response = await client.tasks.get("t1")
        assert response.data["id"] == "t1"

    return await run_in_flight(call, concurrency, seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["stream-sync", "stream-async", "get"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    if args.mode == "stream-sync":
        result = stream_sync(args.url, args.lines)
    elif args.mode == "stream-async":
        result = asyncio.run(_stream_async(args.url, args.lines))
    else:
        result = asyncio.run(_get(args.url, args.concurrency, args.seconds))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
