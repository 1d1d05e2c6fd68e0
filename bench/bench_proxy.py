"""The server proxy's cost: NDJSON lines/s and requests/s through it vs straight to upstream.

Processes (each its own, all on loopback): the emulator (`inferencesh.local`, uvicorn), the
raw benchmark server (`_server.py`, far faster than anything Python-level behind it), the
ASGI proxy (`asgi_proxy()` under uvicorn), the WSGI proxy (`wsgi_proxy()` under gunicorn,
one worker, 128 threads) and, as the floor, the official JS SDK's proxy (`_proxy_js.mjs`: its
`processProxyRequest` on node's http server, `@inferencesh/sdk` 0.6.54 npm-installed under
`bench/.work/`), each allowing the upstreams. Each measurement runs in a fresh
client process (aiohttp, so the client is not the bottleneck), round-robin over the ways in
(direct, asgi, wsgi, official-js), the order rotated each round; tables give medians over rounds and
ratios as the median of per-round ratios.

- **stream**: lines/s of one NDJSON task stream, from its first line to its last. From the
  emulator: a task of the `bench/burst` app, which waits 0.3 s (the client follows the stream
  by then), then reports `--lines` progress updates as fast as it can (the client starts it
  through the same way in). From the raw server: `GET /tasks/s{N}/stream`, N lines each in
  its own chunk.
- **rps**: `GET /tasks/{id}` with `--concurrency` calls in flight for `--seconds`: the
  emulator serving a finished task, and the raw server answering after `--delay-ms` (5 ms:
  the proxy's CPU is the limit) and after `--slow-ms` (50 ms, nearer a remote API's latency).
- **proxy CPU**: the proxy process's user+system CPU time per request (or per stream line)
  during each run, from `/proc/<pid>/stat`; other load on the machine does not inflate it.
- **memory**: each proxy process's resident set (VmRSS) after a warm-up and after all rounds.

Run: `python bench/bench_proxy.py [--lines 20000] [--seconds 3] [--rounds 3]`. Like every
script here, run it alone on an idle machine (it prints the load average before and after).
"""

from __future__ import annotations

import argparse
import asyncio  # noqa: TID251 - benchmark harness
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from _common import (
    BENCH,
    announce_url,
    load,
    machine,
    median,
    official_js_sdk,
    process,
    run_in_flight,
    run_worker,
    server,
    table,
)

KEY = "sk-bench-proxy-key"
WAYS = ["direct", "asgi", "wsgi", "official-js"]
PROXIES = WAYS[1:]


# ------------------------------------------------------------------ servers (their own processes)


def serve_emulator() -> None:
    from pydantic import BaseModel

    from inferencesh.local import AppContext, Emulator, serve

    emulator = Emulator(api_key=KEY, max_stream_buffer=1 << 30, heartbeat_interval=15.0)

    class Burst(BaseModel):
        lines: int

    @emulator.app("bench/burst", input=Burst)
    def burst(ctx: AppContext, input: Burst) -> dict[str, int]:  # pyright: ignore[reportUnusedFunction]
        ctx.sleep(0.3)  # the client follows the stream by then: every update is a line
        for i in range(input.lines):
            ctx.progress(i / input.lines, f"step {i}")
        return {"lines": input.lines}

    serve(port=0, emulator=emulator, log_level="warning", announce=announce_url)


def serve_asgi(allowed: str) -> None:
    import uvicorn

    from inferencesh.proxy import asgi_proxy

    sock = tcp_listener()
    print(f"READY http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    app = asgi_proxy(api_key=KEY, allowed_hosts=allowed.split(","))
    config = uvicorn.Config(app, log_level="warning", access_log=False, backlog=2048)
    uvicorn.Server(config).run(sockets=[sock])


def tcp_listener() -> socket.socket:
    """A listening loopback socket that says it is TCP.

    asyncio turns Nagle's algorithm off only on sockets created with IPPROTO_TCP; without it
    every response split in two writes waits out the peer's 40 ms delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    return sock


@contextlib.contextmanager
def gunicorn(allowed: str) -> Iterator[tuple[str, int]]:
    sock = tcp_listener()  # accepted sockets inherit TCP_NODELAY
    fd = sock.fileno()
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"fd://{fd}", "--worker-class", "gthread"]
    argv += ["--threads", "128", "--workers", "1", "--log-level", "warning", "_proxy_wsgi:app"]
    env = {**os.environ, "BENCH_PROXY_KEY": KEY, "BENCH_PROXY_ALLOWED": allowed}
    proc = subprocess.Popen(argv, env=env, cwd=BENCH, pass_fds=(fd,))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", proc.pid
    finally:
        proc.terminate()
        proc.wait(10)
        sock.close()


def _family(pid: int) -> list[int]:
    """`pid` and its children (gunicorn's worker)."""
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` and its children so far."""
    ticks = 0
    for p in _family(pid):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """VmRSS of `pid` and its children (gunicorn's worker), in MiB."""
    total = 0
    for p in _family(pid):
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


# ------------------------------------------------------------------ workers (fresh processes)


def _headers(via: str, target: str) -> tuple[str, dict[str, str]]:
    """The URL to call and its headers: straight with the key, or the proxy's way."""
    if via == "direct":
        return target, {"authorization": f"Bearer {KEY}"}
    return via, {"x-inf-target-url": target}


async def stream_worker(via: str, target: str, start: str | None) -> dict[str, float]:
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
        if start is not None:
            base, body = start.split(" ", 1)
            url, headers = _headers(via, base + "/apps/run")
            async with session.post(url, headers=headers, data=body) as created:
                task_id = (await created.json())["data"]["id"]
            target = target.format(id=task_id)
        url, headers = _headers(via, target)
        headers["accept"] = "application/x-ndjson"
        lines = 0
        begin = cpu = 0.0
        async with session.get(url, headers=headers) as response:
            assert response.status == 200, await response.text()
            async for line in response.content:
                if not line.strip():
                    continue
                lines += 1
                if lines == 1:  # the snapshot sent on connect; the burst follows it
                    begin, cpu = time.perf_counter(), time.process_time()
                if b'"status":10' in line or b'"status": 10' in line:
                    break
        elapsed = time.perf_counter() - begin
    rate = (lines - 1) / elapsed
    return {"lines_per_s": rate, "lines": lines, "cpu_s": time.process_time() - cpu}


async def rps_worker(via: str, target: str, concurrency: int, seconds: float) -> dict[str, float]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        url, headers = _headers(via, target)

        async def get() -> None:
            async with session.get(url, headers=headers) as response:
                assert response.status == 200, response.status
                await response.read()

        return await run_in_flight(get, concurrency, seconds)


# ------------------------------------------------------------------ the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--delay-ms", type=float, default=5.0)
    parser.add_argument("--slow-ms", type=float, default=50.0)
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--via", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    parser.add_argument("--allowed", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role == "emulator":
        return serve_emulator()
    if args.role == "asgi":
        return serve_asgi(args.allowed)
    if args.role in ("stream", "rps"):
        if args.role == "stream":
            result = asyncio.run(stream_worker(args.via, args.target, args.start))
        else:
            result = asyncio.run(rps_worker(args.via, args.target, args.concurrency, args.seconds))
        print(json.dumps(result))
        return None

    print(f"machine: {machine()}; load before: {load()}")
    me = [sys.executable, str(Path(__file__).resolve())]
    with contextlib.ExitStack() as stack:
        emu, _ = stack.enter_context(process([*me, "--role", "emulator"]))
        raw = {delay: stack.enter_context(server(delay)) for delay in (args.delay_ms, args.slow_ms)}
        allowed = ",".join(u.removeprefix("http://") for u in (emu, *raw.values()))
        asgi, asgi_pid = stack.enter_context(process([*me, "--role", "asgi", "--allowed", allowed]))
        wsgi, wsgi_pid = stack.enter_context(gunicorn(allowed))
        js_argv = ["node", str(BENCH / "_proxy_js.mjs"), str(official_js_sdk()), allowed]
        js, js_pid = stack.enter_context(process(js_argv, env={"BENCH_PROXY_KEY": KEY}))
        vias = {"direct": "direct", "asgi": asgi, "wsgi": wsgi, "official-js": js}
        pids = {"asgi": asgi_pid, "wsgi": wsgi_pid, "official-js": js_pid}
        finished = _finished_task(emu)
        in_flight = ["--concurrency", str(args.concurrency), "--seconds", str(args.seconds)]
        fast, slow = raw[args.delay_ms], raw[args.slow_ms]
        burst = json.dumps({"app": "bench/burst", "input": {"lines": args.lines}})
        cases: dict[str, list[str]] = {
            "stream/emulator": [
                *("--role", "stream", "--target", emu + "/tasks/{id}/stream"),
                *("--start", f"{emu} {burst}"),
            ],
            "stream/raw": ["--role", "stream", "--target", f"{fast}/tasks/s{args.lines}/stream"],
            "rps/emulator": ["--role", "rps", "--target", f"{emu}/tasks/{finished}", *in_flight],
            f"rps/raw {args.delay_ms:g} ms": [
                "--role",
                "rps",
                "--target",
                f"{fast}/tasks/t1",
                *in_flight,
            ],
            f"rps/raw {args.slow_ms:g} ms": [
                "--role",
                "rps",
                "--target",
                f"{slow}/tasks/t1",
                *in_flight,
            ],
        }
        # Warm up every way in once (imports, pools), then note the proxies' memory.
        for via in vias.values():
            for argv in cases.values():
                run_worker(
                    [*me, *argv, "--via", via] + (["--seconds", "0.5"] if "rps" in argv else [])
                )
        rss_start = {way: rss_mib(pid) for way, pid in pids.items()}
        results: dict[str, dict[str, list[dict[str, float]]]] = {
            c: {w: [] for w in WAYS} for c in cases
        }
        for r in range(args.rounds):
            order = WAYS[r % len(WAYS) :] + WAYS[: r % len(WAYS)]
            for case, argv in cases.items():
                for way in order:
                    before = cpu_seconds(pids[way]) if way in pids else 0.0
                    result = run_worker([*me, *argv, "--via", vias[way]])
                    if way in pids:
                        units = result["requests"] if "requests" in result else result["lines"]
                        result["proxy_cpu_us"] = (cpu_seconds(pids[way]) - before) / units * 1e6
                    results[case][way].append(result)
        rss_end = {way: rss_mib(pid) for way, pid in pids.items()}
    print(f"load after: {load()}")
    report(results, rss_start, rss_end, args)


def _finished_task(emu: str) -> str:
    import httpx2

    headers = {"authorization": f"Bearer {KEY}"}
    created = httpx2.post(
        f"{emu}/apps/run", headers=headers, json={"app": "infsh/echo", "input": {"text": "hi"}}
    )
    task_id: str = created.json()["data"]["id"]
    for _ in range(200):
        if httpx2.get(f"{emu}/tasks/{task_id}", headers=headers).json()["data"]["status"] == 10:
            return task_id
        time.sleep(0.01)
    raise RuntimeError("the emulator's echo task did not finish")


def report(
    results: dict[str, dict[str, list[dict[str, float]]]],
    rss_start: dict[str, float],
    rss_end: dict[str, float],
    args: argparse.Namespace,
) -> None:
    rows: list[list[object]] = []
    for case, by_way in results.items():
        metric = "lines_per_s" if case.startswith("stream") else "rps"
        direct = by_way["direct"]
        for way in WAYS:
            runs = by_way[way]
            ratios = [run[metric] / d[metric] for run, d in zip(runs, direct, strict=True)]
            cpu = [x["proxy_cpu_us"] for x in runs if "proxy_cpu_us" in x]
            rows.append(
                [
                    case,
                    way,
                    f"{median([x[metric] for x in runs]):,.0f}",
                    f"{max(x[metric] for x in runs):,.0f}",
                    f"{median(ratios):.2f}x",
                    f"{median(cpu):,.1f}" if cpu else "",
                ]
            )
    print()
    print(
        f"{args.rounds} rounds; stream: {args.lines:,} lines; rps: {args.concurrency} in flight "
        f"for {args.seconds:g} s"
    )
    print(
        table(
            ["case", "way in", "median (lines or req/s)", "best", "vs direct", "proxy CPU µs each"],
            rows,
        )
    )
    print()
    print(
        table(
            ["proxy", "RSS after warm-up (MiB)", "RSS after the rounds (MiB)"],
            [[w, f"{rss_start[w]:.1f}", f"{rss_end[w]:.1f}"] for w in PROXIES],
        )
    )


if __name__ == "__main__":
    main()
