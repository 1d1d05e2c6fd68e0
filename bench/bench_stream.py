"""Task-stream consumption: updates/s of `client.tasks.stream` over a long NDJSON stream.

The server (`_server.py`, its own process) sends N task lines, each in its own HTTP chunk
(one write per line, waiting whenever the socket buffer is full), then a completed line.
Every client reads the whole stream in a fresh process, after a 1,000-line warm-up stream;
the rate is (N + 1) / seconds from the request to the terminal update. The consumer only
counts what it gets (dicts for raw clients and the official SDK, `TaskUpdate`s for ours).

Clients, in one run, round-robin (R rounds, the order rotated each round), medians:

  httpx2-raw           httpx2.Client.stream + iter_lines + json.loads (the issue's floor)
  httpx-raw            the same with httpx 0.28 (PERFORMANCE.md's floor)
  aiohttp-raw          one aiohttp session, `async for line in resp.content` + json.loads
  socket-orjson        blocking socket, split on b"\\n", orjson (the fastest reader: checks
                       that the server is not the bottleneck)
  official-sync        inferencesh 0.36.0 `inference().tasks.stream(id)` (requests)
  official-async       inferencesh 0.36.0 `async_inference().tasks.stream(id)` (aiohttp)
  ours-sync            `inference().tasks.stream(id)` (task streams through http.client)
  ours-sync-httpx2     the same, forced onto an `httpx2.Client` (for comparison: the old path)
  ours-asyncio         `async_inference().tasks.stream(id)` on asyncio (streams read from a
                       plain socket through anyio)
  ours-asyncio-aiohttp the same, forced onto the aiohttp transport (a client of the caller's
                       over it: the old path, for comparison)
  ours-trio            the same on trio (the same socket reader)

Run: `python bench/bench_stream.py [--lines 200000] [--rounds 5] [--only a,b]`.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from _common import BENCH, load, machine, median, official_python, run_worker, server, table

KEY = "bench-key"
WARMUP = "s1000"

CLIENTS = [
    "httpx2-raw",
    "httpx-raw",
    "aiohttp-raw",
    "socket-orjson",
    "official-sync",
    "official-async",
    "ours-sync",
    "ours-sync-httpx2",
    "ours-asyncio",
    "ours-asyncio-aiohttp",
    "ours-trio",
]
FLOOR = "httpx2-raw"
GOAL = "official-async"
SYNC_GOAL = "official-sync"  # the sync client's goal

Result = dict[str, float]


# -- workers (each runs in its own process) ---------------------------------------------


def _timed(read: Callable[[str], int], lines: int) -> Result:
    read(WARMUP)
    start, cpu = time.perf_counter(), time.process_time()
    count = read(f"s{lines}")
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "updates": count,
    }


def _raw(client: Any, base: str, lines: int) -> Result:
    """Read with an httpx-style client (httpx2's or httpx's: the same API), each line parsed."""

    def read(task_id: str) -> int:
        count = 0
        with client.stream("GET", f"{base}/tasks/{task_id}/stream") as response:
            for line in response.iter_lines():
                if line:
                    json.loads(line)
                    count += 1
        return count

    return _timed(read, lines)


def httpx2_raw(base: str, lines: int) -> Result:
    import httpx2

    with httpx2.Client(timeout=60) as client:
        return _raw(client, base, lines)


def httpx_raw(base: str, lines: int) -> Result:
    import httpx  # noqa: TID251 - the floor PERFORMANCE.md names

    with httpx.Client(timeout=60) as client:
        return _raw(client, base, lines)


def aiohttp_raw(base: str, lines: int) -> Result:
    import asyncio  # noqa: TID251

    import aiohttp

    async def main() -> Result:
        async with aiohttp.ClientSession() as session:

            async def read(task_id: str) -> int:
                count = 0
                async with session.get(f"{base}/tasks/{task_id}/stream") as response:
                    async for line in response.content:
                        if line.strip():
                            json.loads(line)
                            count += 1
                return count

            await read(WARMUP)
            start, cpu = time.perf_counter(), time.process_time()
            count = await read(f"s{lines}")
            return {
                "seconds": time.perf_counter() - start,
                "cpu_seconds": time.process_time() - cpu,
                "updates": count,
            }

    return asyncio.run(main())


def socket_orjson(base: str, lines: int) -> Result:
    import socket

    import orjson

    url = urlsplit(base)

    def read(task_id: str) -> int:
        count = 0
        with socket.create_connection((url.hostname, url.port)) as sock:
            sock.sendall(
                f"GET /tasks/{task_id}/stream HTTP/1.1\r\nhost: {url.netloc}\r\n"
                "accept: application/x-ndjson\r\nconnection: close\r\n\r\n".encode()
            )
            rest = b""
            while True:
                data = sock.recv(1 << 18)
                if not data:
                    return count
                *parts, rest = (rest + data).split(b"\n")
                for part in parts:
                    if part[:1] == b"{":  # skips headers and chunk-size lines
                        count += 1
                        if orjson.loads(part)["status"] == 10:
                            return count

    return _timed(read, lines)


def ours_sync(base: str, lines: int, *, httpx2_client: bool = False) -> Result:
    import httpx2

    from inferencesh import inference

    # A client of the caller's own keeps task streams on httpx2 (see _sync/_transport.py).
    http_client = httpx2.Client(timeout=60) if httpx2_client else None
    with inference(KEY, base_url=base, http_client=http_client) as client:

        def read(task_id: str) -> int:
            count = 0
            for _ in client.tasks.stream(task_id):
                count += 1
            return count

        result = _timed(read, lines)
    if http_client is not None:
        http_client.close()
    return result


def ours_sync_httpx2(base: str, lines: int) -> Result:
    return ours_sync(base, lines, httpx2_client=True)


async def _ours_async(base: str, lines: int, *, aiohttp_transport: bool) -> Result:
    import httpx2

    from inferencesh import async_inference

    http_client = None
    if aiohttp_transport:
        # The old path: task streams through the aiohttp pool, behind a client of the caller's.
        from inferencesh._async._transport import AiohttpTransport

        http_client = httpx2.AsyncClient(timeout=60, transport=AiohttpTransport())
    async with async_inference(KEY, base_url=base, http_client=http_client) as client:

        async def read(task_id: str) -> int:
            count = 0
            async with client.tasks.stream(task_id) as updates:
                async for _ in updates:
                    count += 1
            return count

        await read(WARMUP)
        start, cpu = time.perf_counter(), time.process_time()
        count = await read(f"s{lines}")
        result = {
            "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu,
            "updates": count,
        }
    if http_client is not None:
        await http_client.aclose()
    return result


def ours_asyncio(base: str, lines: int) -> Result:
    import asyncio  # noqa: TID251

    return asyncio.run(_ours_async(base, lines, aiohttp_transport=False))


def ours_asyncio_aiohttp(base: str, lines: int) -> Result:
    import asyncio  # noqa: TID251

    return asyncio.run(_ours_async(base, lines, aiohttp_transport=True))


def ours_trio(base: str, lines: int) -> Result:
    import trio

    # AutoTransport picks httpx2's transport on trio.
    return trio.run(functools.partial(_ours_async, base, lines, aiohttp_transport=False))


WORKERS: dict[str, Callable[[str, int], Result]] = {
    "httpx2-raw": httpx2_raw,
    "httpx-raw": httpx_raw,
    "aiohttp-raw": aiohttp_raw,
    "socket-orjson": socket_orjson,
    "ours-sync": ours_sync,
    "ours-sync-httpx2": ours_sync_httpx2,
    "ours-asyncio": ours_asyncio,
    "ours-asyncio-aiohttp": ours_asyncio_aiohttp,
    "ours-trio": ours_trio,
}


# -- the run ----------------------------------------------------------------------------


def measure(name: str, base: str, lines: int) -> Result:
    if name.startswith("official-"):
        argv = [
            str(official_python()),
            str(BENCH / "_official.py"),
            "stream-" + name.removeprefix("official-"),
            "--url",
            base,
            "--lines",
            str(lines),
        ]
    else:
        argv = [sys.executable, __file__, "--worker", name, "--url", base, "--lines", str(lines)]
    result = run_worker(argv)
    if result["updates"] != lines + 1:
        raise RuntimeError(f"{name} got {result['updates']} updates, expected {lines + 1}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="comma-separated client names")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.url, args.lines)))
        return

    names = args.only.split(",") if args.only else CLIENTS
    rates: dict[str, list[float]] = {n: [] for n in names}
    cpu_rates: dict[str, list[float]] = {n: [] for n in names}  # updates per CPU second
    print(f"machine: {machine()}; load average before: {load()}")
    print(
        f"stream: {args.lines:,} lines + 1 terminal, one chunk per line; "
        f"{args.rounds} rounds, one client at a time"
    )
    with server(delay_ms=0) as base:
        socket_orjson(base, args.lines)  # untimed: the server builds and caches the stream
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                result = measure(name, base, args.lines)
                rate = (args.lines + 1) / result["seconds"]
                rates[name].append(rate)
                cpu_rates[name].append((args.lines + 1) / result["cpu_seconds"])
                print(
                    f"  round {r + 1}: {name:<20} {rate:>10,.0f} updates/s  "
                    f"{result['cpu_seconds'] / (args.lines + 1) * 1e6:5.2f} CPU us/update",
                    flush=True,
                )

    def ratio(series: dict[str, list[float]], name: str, ref: str) -> float:
        """The median over rounds of the ratio within a round (runs of a round are close in
        time, so this cancels slow drift and other load better than a ratio of medians)."""
        return median([a / b for a, b in zip(series[name], series[ref], strict=True)])

    def show(series: dict[str, list[float]], name: str, ref: str) -> str:
        return f"{ratio(series, name, ref):.2f}x" if ref in series else "-"

    rows = [
        [
            name,
            f"{median(rates[name]):,.0f}",
            f"{max(rates[name]):,.0f}",
            show(rates, name, FLOOR),
            show(rates, name, GOAL),
            show(rates, name, SYNC_GOAL),
            f"{1e6 / median(cpu_rates[name]):.2f}",
            show(cpu_rates, name, FLOOR),
            show(cpu_rates, name, GOAL),
        ]
        for name in names
    ]
    print()
    print(f"load average after the run: {load()}")
    print(
        table(
            [
                "client",
                "updates/s median",
                "best",
                f"vs {FLOOR}",
                f"vs {GOAL}",
                f"vs {SYNC_GOAL}",
                "CPU us/update",
                f"per CPU-s vs {FLOOR}",
                f"per CPU-s vs {GOAL}",
            ],
            rows,
        )
    )
    print(
        "(ratios: median over rounds of the per-round ratio; the CPU columns use the client "
        "process's CPU time, which other load on the machine does not inflate)"
    )
    if GOAL in rates:
        for ours in (n for n in names if n.startswith("ours-")):
            wall, cpu = ratio(rates, ours, GOAL), ratio(cpu_rates, ours, GOAL)
            verdict = "met" if wall >= 1.0 else "NOT met"
            print(f"goal (>= {GOAL}) {ours}: {verdict} ({wall:.2f}x; per CPU-s {cpu:.2f}x)")
    if SYNC_GOAL in rates:
        for ours in (n for n in names if n.startswith("ours-sync")):
            wall, cpu = ratio(rates, ours, SYNC_GOAL), ratio(cpu_rates, ours, SYNC_GOAL)
            verdict = "met" if wall >= 1.0 else "NOT met"
            print(f"goal (>= {SYNC_GOAL}) {ours}: {verdict} ({wall:.2f}x; per CPU-s {cpu:.2f}x)")


if __name__ == "__main__":
    main()
