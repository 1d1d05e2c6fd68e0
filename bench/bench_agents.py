"""Agents: the runner's overhead per tool call, and turns/s with 100 chats in flight.

Processes (each its own, on loopback): the emulator (`inferencesh.local` under uvicorn; its
`local/scripted` model plays each turn from the script the client sends in `core_app`), and
a fresh client process for each measurement, round-robin, the order rotated each round.

- **overhead**: one chat at a time; each turn's model calls the client tool `lookup`
  `--calls` times in a row, then answers. For each call: the time from the moment the chat
  follower is handed the stream line that asks for it to the moment the `POST /tools/{id}`
  with its result is handed to the transport: the runner's own work (reading the call,
  validating its arguments, running the handler, which returns at once, serializing and
  posting its result), not the network's or the server's. Sync handlers run in worker threads
  (the default); `-async` rows use an `async def` handler. Goal: < 2 ms median, < 10 ms p99.
- **turns**: `--concurrency` (100) chats in flight for `--seconds`: each worker loops "a new
  chat, one message; the model calls `lookup` once; the client runs it and posts its result;
  the model answers", and a turn counts once its answer is back. Ours: `agent.send_message`
  (the runner does the rest). The official SDK (`inferencesh==0.36.0`, its own venv, see
  `_official.py`): its async agent with the flow done by hand, as its README shows: an
  `on_tool_call` callback that submits the result, then `stream_all()` until the chat is
  idle. Goal: ours >= 1.5x the official SDK.

Run: `python bench/bench_agents.py [--calls 20] [--turns 40] [--seconds 5] [--rounds 3]`.
Like every script here, run it alone on an idle machine (it prints the load average before
and after).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    BENCH,
    WARMUP_CALLS,
    announce_url,
    load,
    machine,
    median,
    official_python,
    process,
    run_in_flight,
    run_in_flight_trio,
    run_worker,
    table,
)

KEY = "bench-key"  # the key _official.py sends
SCRIPTED = "local/scripted@latest"
OVERHEAD = ["ours-sync", "ours-asyncio", "ours-asyncio-async", "ours-trio", "ours-trio-async"]
TURNS = ["official-async", "ours-asyncio", "ours-trio"]
GOAL_MEDIAN_MS, GOAL_P99_MS, GOAL_RATIO = 2.0, 10.0, 1.5
Result = dict[str, Any]


def core_app(calls: int) -> dict[str, Any]:
    """A scripted model that calls `lookup` `calls` times, one call per model turn, then answers."""
    script: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "lookup", "arguments": {"key": f"k{i}"}}]} for i in range(calls)
    ]
    return {"ref": SCRIPTED, "input": {"script": [*script, {"text": "done"}]}}


# ------------------------------------------------------------------ the emulator's process


def serve_emulator() -> None:
    from inferencesh.local import Emulator, serve

    # Its default bounds (1,000 chats kept): with more its cost a turn grew with the chats it
    # kept, and a round measured later paid for the rounds before it.
    emulator = Emulator(api_key=KEY)

    serve(port=0, emulator=emulator, log_level="warning", announce=announce_url)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far (Linux; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ overhead (client processes)


def _tools(is_async: bool) -> list[Any]:
    from inferencesh.tools import tool

    if is_async:

        @tool
        async def lookup(key: str) -> str:
            """Look a key up.

            Args:
                key: The key.
            """
            return key.upper()

        return [lookup]

    @tool(name="lookup")
    def lookup_sync(key: str) -> str:
        """Look a key up.

        Args:
            key: The key.
        """
        return key.upper()

    return [lookup_sync]


def _instrument(flavour: str) -> tuple[dict[str, float], dict[str, float]]:
    """Record when each call is handed out, and when its result leaves: (received, sent)."""
    from inferencesh._protocol.chat_view import InvocationDue
    from inferencesh._protocol.chat_watch import ChatWatch

    if flavour == "sync":
        from inferencesh._sync import _io
    else:
        from inferencesh._async import _io  # type: ignore[no-redef]

    received: dict[str, float] = {}
    sent: dict[str, float] = {}
    on_lines = ChatWatch.on_lines

    def timed_on_lines(self: ChatWatch, lines: list[dict[str, Any]]) -> Any:
        now = time.perf_counter()
        items = on_lines(self, lines)
        for item in items:
            if isinstance(item, InvocationDue):
                received.setdefault(item.invocation.id, now)
        return items

    ChatWatch.on_lines = timed_on_lines  # type: ignore[method-assign]
    send = _io.Clients.send

    def note(request: Any) -> None:
        path = request.url.path
        if request.method == "POST" and path.startswith("/tools/"):
            sent.setdefault(path.split("/")[2], time.perf_counter())

    if flavour == "sync":

        def timed_send(self: Any, request: Any, *, stream: bool) -> Any:
            note(request)
            return send(self, request, stream=stream)

    else:

        async def timed_send(self: Any, request: Any, *, stream: bool) -> Any:  # type: ignore[misc]
            note(request)
            return await send(self, request, stream=stream)

    _io.Clients.send = timed_send  # type: ignore[method-assign]
    return received, sent


def _gaps(received: dict[str, float], sent: dict[str, float]) -> list[float]:
    return [(sent[i] - received[i]) * 1000 for i in received if i in sent]


def overhead_worker(name: str, base: str, calls: int, turns: int) -> Result:
    flavour = name.split("-")[1]
    is_async = name.endswith("-async")
    received, sent = _instrument(flavour)
    tools = _tools(is_async)
    if flavour == "sync":
        from inferencesh import inference

        with inference(KEY, base_url=base) as client:
            client.agent(core_app=core_app(2), tools=tools).send_message("warm up")
            received.clear(), sent.clear()
            for _ in range(turns):
                reply = client.agent(core_app=core_app(calls), tools=tools).send_message("go")
                assert reply.text == "done", reply.text
    else:
        import anyio

        from inferencesh import async_inference

        async def main() -> None:
            async with async_inference(KEY, base_url=base) as client:
                await client.agent(core_app=core_app(2), tools=tools).send_message("warm up")
                received.clear(), sent.clear()
                for _ in range(turns):
                    agent = client.agent(core_app=core_app(calls), tools=tools)
                    reply = await agent.send_message("go")
                    assert reply.text == "done", reply.text

        anyio.run(main, backend=flavour)
    gaps = _gaps(received, sent)
    assert len(gaps) == calls * turns, (len(gaps), calls * turns)
    return {"gaps_ms": gaps}


# ------------------------------------------------------------------ turns/s (client processes)


async def _ours_turns(base: str, concurrency: int, seconds: float, run: Any) -> Result:
    from inferencesh import async_inference

    tools = _tools(is_async=False)
    app = core_app(1)
    async with async_inference(KEY, base_url=base) as client:

        async def turn() -> None:
            reply = await client.agent(core_app=app, tools=tools).send_message("question")
            assert reply.text == "done", reply.text

        return await run(turn, concurrency, seconds)


def turns_worker(name: str, base: str, concurrency: int, seconds: float) -> Result:
    if name == "ours-trio":
        import trio

        return trio.run(
            functools.partial(_ours_turns, base, concurrency, seconds, run_in_flight_trio)
        )
    import asyncio  # noqa: TID251 - the asyncio flavour's own runner

    return asyncio.run(_ours_turns(base, concurrency, seconds, run_in_flight))


# ------------------------------------------------------------------ the run


def measure_overhead(name: str, base: str, calls: int, turns: int) -> Result:
    me = [sys.executable, str(Path(__file__).resolve())]
    argv = [*me, "--role", "overhead", "--client", name, "--url", base]
    return run_worker([*argv, "--calls", str(calls), "--turns", str(turns)], timeout=900)


def measure_turns(name: str, base: str, concurrency: int, seconds: float) -> Result:
    common = ["--url", base, "--concurrency", str(concurrency), "--seconds", str(seconds)]
    if name.startswith("official-"):
        argv = [str(official_python()), str(BENCH / "_official.py"), "agent-turns", *common]
    else:
        argv = [sys.executable, str(Path(__file__).resolve()), "--role", "turns"]
        argv += ["--client", name, *common]
    return run_worker(argv, timeout=900)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="tool calls per turn (overhead)")
    parser.add_argument("--turns", type=int, default=40, help="turns per round (overhead)")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["overhead", "turns"])
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role == "emulator":
        return serve_emulator()
    if args.role == "overhead":
        print(json.dumps(overhead_worker(args.client, args.url, args.calls, args.turns)))
        return None
    if args.role == "turns":
        result = turns_worker(args.client, args.url, args.concurrency, args.seconds)
        print(json.dumps(result))
        return None

    print(f"machine: {machine()}; load average before: {load()}", flush=True)
    gaps: dict[str, list[float]] = {n: [] for n in OVERHEAD}
    turns: dict[str, list[Result]] = {n: [] for n in TURNS}
    emulator = [sys.executable, str(Path(__file__).resolve()), "--role", "emulator"]
    with process(emulator) as (base, server_pid):
        if args.only != "overhead":
            # Unmeasured: fills the emulator to the chats it keeps, the state every round sees.
            measure_turns(TURNS[0], base, args.concurrency, args.seconds)
        for r in range(args.rounds):
            if args.only != "turns":
                order = OVERHEAD[r % len(OVERHEAD) :] + OVERHEAD[: r % len(OVERHEAD)]
                for name in order:
                    res = measure_overhead(name, base, args.calls, args.turns)
                    gaps[name] += res["gaps_ms"]
                    print(
                        f"  round {r + 1}: overhead {name:<20} median "
                        f"{median(res['gaps_ms']):.3f} ms over {len(res['gaps_ms'])} calls",
                        flush=True,
                    )
            if args.only != "overhead":
                order = TURNS[r % len(TURNS) :] + TURNS[: r % len(TURNS)]
                for name in order:
                    before = process_cpu(server_pid)
                    res = measure_turns(name, base, args.concurrency, args.seconds)
                    # The worker's warm-up turns are served too: count them in (approximate).
                    served = res["requests"] + min(args.concurrency, WARMUP_CALLS)
                    res["server_cpu_ms"] = (process_cpu(server_pid) - before) / served * 1000
                    turns[name].append(res)
                    print(
                        f"  round {r + 1}: turns {name:<16} {res['rps']:8.1f} turns/s  "
                        f"{res['cpu_us_per_request'] / 1000:6.2f} client CPU ms/turn  "
                        f"{res['server_cpu_ms']:6.2f} server CPU ms/turn",
                        flush=True,
                    )
    print(f"\nload average after the run: {load()}")
    if args.only != "turns":
        print(f"\nrunner overhead per tool call, ms (all rounds, {args.calls} calls per turn):")
        rows = []
        for name in OVERHEAD:
            g = gaps[name]
            rows.append(
                [
                    name,
                    len(g),
                    f"{median(g):.3f}",
                    f"{percentile(g, 90):.3f}",
                    f"{percentile(g, 99):.3f}",
                    f"{max(g):.3f}",
                ]
            )
        print(table(["client", "calls", "median", "p90", "p99", "max"], rows))
        for name in OVERHEAD:
            g = gaps[name]
            ok = median(g) < GOAL_MEDIAN_MS and percentile(g, 99) < GOAL_P99_MS
            verdict = "met" if ok else "NOT met"
            goal = f"< {GOAL_MEDIAN_MS:g} ms median, < {GOAL_P99_MS:g} ms p99"
            print(f"goal ({goal}) {name}: {verdict}")
    if args.only != "overhead":
        print(f"\nturns/s with {args.concurrency} chats in flight, one client tool call each:")
        rows = []
        for name in TURNS:
            rps = [x["rps"] for x in turns[name]]
            cpu = [x["cpu_us_per_request"] / 1000 for x in turns[name]]
            server = [x["server_cpu_ms"] for x in turns[name]]
            rows.append(
                [
                    name,
                    f"{median(rps):.1f}",
                    f"{max(rps):.1f}",
                    f"{median(cpu):.2f}",
                    f"{median(server):.2f}",
                ]
            )
        head = ["client", "median turns/s", "best", "client CPU ms/turn", "server CPU ms/turn"]
        print(table(head, rows))
        print("\nvs official-async (median over rounds of the per-round ratio):")
        ratios = []
        for name in TURNS[1:]:
            pairs = zip(turns[name], turns["official-async"], strict=True)
            ratio = median([a["rps"] / b["rps"] for a, b in pairs])
            ratios.append([name, f"{ratio:.2f}x", "met" if ratio >= GOAL_RATIO else "NOT met"])
        print(table(["client", "ratio", f"goal >= {GOAL_RATIO:g}x"], ratios))
    return None


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
