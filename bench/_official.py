"""The official SDK's side of the benchmarks (`inferencesh==0.36.0`, run by its own venv).

It shares our import name, so this file runs only under `bench/.work/official/bin/python`
(see `_common.official_python`). It calls the SDK the way its README tells users to:

- `stream-sync`:  `for update in inference(...).tasks.stream(id)` (requests, `iter_lines`)
- `stream-async`: `async for update in async_inference(...).tasks.stream(id)` (aiohttp)
- `get`:          `await async_inference(...).tasks.get(id)` with C calls in flight (aiohttp,
                  one new `ClientSession` per call, as the SDK does)
- `agent-turns`:  C chats in flight with `async_inference(...).agent(config)`, each turn one
                  client tool call done by hand: `send_message(text, on_tool_call=...)` whose
                  callback submits the result, then `stream_all()` until the chat is idle
                  (`send_message` returns when the run pauses for the tool), as its README
                  and `bench_agents.py` describe

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


async def _agent_turns(base: str, concurrency: int, seconds: float) -> dict[str, float]:
    client = inferencesh.async_inference(api_key=KEY, base_url=base)
    lookup = (
        inferencesh.tool("lookup")
        .describe("Look a key up.")
        .param("key", inferencesh.string("The key."))
        .build()
    )
    script = [{"tool_calls": [{"name": "lookup", "arguments": {"key": "k0"}}]}, {"text": "done"}]
    config = {"core_app": {"ref": "local/scripted@latest", "input": {"script": script}}}
    config["tools"] = [lookup]

    async def turn() -> None:
        agent = client.agent(config)

        async def on_tool_call(call: inferencesh.ToolCallInfo) -> None:
            await agent.submit_tool_result(call.id, str(call.args["key"]).upper())

        await agent.send_message("question", on_tool_call=on_tool_call)
        while True:  # it returned when the run paused for the tool: follow it to the end
            chat = await agent.get_chat()
            assert chat is not None
            if chat["status"] == "idle":
                break
            await agent.stream_all(on_tool_call=on_tool_call)
        answers = [m for m in chat["chat_messages"] if m["role"] == "assistant"]
        text = "".join(c.get("text") or "" for c in answers[-1]["content"])
        assert text == "done", text

    return await run_in_flight(turn, concurrency, seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["stream-sync", "stream-async", "get", "agent-turns"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    if args.mode == "stream-sync":
        result = stream_sync(args.url, args.lines)
    elif args.mode == "stream-async":
        result = asyncio.run(_stream_async(args.url, args.lines))
    elif args.mode == "agent-turns":
        result = asyncio.run(_agent_turns(args.url, args.concurrency, args.seconds))
    else:
        result = asyncio.run(_get(args.url, args.concurrency, args.seconds))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
