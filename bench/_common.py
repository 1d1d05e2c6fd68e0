"""Helpers shared by the benchmark scripts: server processes, subprocess workers, tables, and
keeping calls in flight (asyncio or trio)."""

from __future__ import annotations

import asyncio  # noqa: TID251 - benchmark harness
import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work"
OFFICIAL_VENV = WORK / "official"
OFFICIAL_VERSION = "0.36.0"
OFFICIAL_JS = WORK / "official-js"
OFFICIAL_JS_VERSION = "0.6.54"


def official_python() -> Path:
    """The python of the venv holding the official SDK (`inferencesh==0.36.0`), made on demand.

    The official SDK has our import name, so it lives in its own venv under `bench/.work/`
    (git-ignored) and its part of each benchmark runs in a subprocess of that venv's python.
    """
    python = OFFICIAL_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {OFFICIAL_VENV} with inferencesh[async]=={OFFICIAL_VERSION} ...")
        subprocess.run([sys.executable, "-m", "venv", str(OFFICIAL_VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                f"inferencesh[async]=={OFFICIAL_VERSION}",
                "orjson",
            ],
            check=True,
        )
    return python


def official_js_sdk() -> Path:
    """The official JS SDK's package directory (`@inferencesh/sdk@0.6.54`), npm-installed on
    demand under `bench/.work/` (git-ignored)."""
    package = OFFICIAL_JS / "node_modules" / "@inferencesh" / "sdk"
    if not (package / "package.json").exists():
        print(f"installing @inferencesh/sdk@{OFFICIAL_JS_VERSION} into {OFFICIAL_JS} ...")
        OFFICIAL_JS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(OFFICIAL_JS),
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--loglevel=error",
                f"@inferencesh/sdk@{OFFICIAL_JS_VERSION}",
            ],
            check=True,
        )
    return package


@contextlib.contextmanager
def process(argv: list[str], env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """Start a server process that prints `READY <address>`; yield the address and its pid."""
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, cwd=BENCH
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"{argv} did not start: {line!r}")
        yield line.split()[1], proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def announce_url(text: str) -> None:
    """`serve(announce=...)` in a server process: print `READY <url>` for `process`."""
    print("READY " + next(w for w in text.split() if w.startswith("http")), flush=True)


@contextlib.contextmanager
def server(delay_ms: float) -> Iterator[str]:
    """Run `_server.py` in its own process; yield its base URL."""
    argv = [sys.executable, str(BENCH / "_server.py"), "--port", "0", "--delay-ms", str(delay_ms)]
    with process(argv) as (port, _):
        yield f"http://127.0.0.1:{int(port)}"


def run_worker(argv: Sequence[str], *, timeout: float = 300) -> dict[str, float]:
    """Run one measurement in a fresh process; it prints one JSON object as its last line."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {argv} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def maxrss_kib() -> int:
    """This process's peak resident set size so far, in KiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def load() -> str:
    """The 1/5/15-minute load averages: other work on the machine shows up here."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (it reads well in a terminal too)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def fmt(row: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    lines = [fmt(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [fmt(r) for r in cells[1:]]
    return "\n".join(lines)


WARMUP_CALLS = 100


def _result(done: int, elapsed: float, cpu: float, rss_before: int) -> dict[str, float]:
    return {
        "rps": done / elapsed,
        "cpu_us_per_request": cpu / max(done, 1) * 1e6,
        "requests": done,
        "rss_growth_mib": (maxrss_kib() - rss_before) / 1024,
    }


Gather = Callable[[Sequence[Callable[[], Awaitable[object]]]], Awaitable[None]]
"""Runs each of the functions given at once and returns when all have returned."""


async def _in_flight(
    call: Callable[[], Awaitable[object]], concurrency: int, seconds: float, gather: Gather
) -> dict[str, float]:
    await gather([call] * min(concurrency, WARMUP_CALLS))
    rss_before = maxrss_kib()
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await call()
            done += 1

    start, cpu = time.perf_counter(), time.process_time()
    await gather([worker] * concurrency)
    return _result(done, time.perf_counter() - start, time.process_time() - cpu, rss_before)


async def run_in_flight(
    call: Callable[[], Awaitable[object]], concurrency: int, seconds: float
) -> dict[str, float]:
    """Keep `concurrency` calls in flight for `seconds` on asyncio, after a warm-up; count.

    Each of `concurrency` workers loops `await call()` until the deadline; the run ends when
    the last call started before it has finished, so a slow pool pays for its tail. The RSS
    growth is the peak RSS after the run minus the peak RSS after the warm-up.
    """

    async def gather(fns: Sequence[Callable[[], Awaitable[object]]]) -> None:
        await asyncio.gather(*(fn() for fn in fns))

    return await _in_flight(call, concurrency, seconds, gather)


async def run_in_flight_trio(
    call: Callable[[], Awaitable[object]], concurrency: int, seconds: float
) -> dict[str, float]:
    """`run_in_flight` for trio (call it under `trio.run`)."""
    import trio

    async def gather(fns: Sequence[Callable[[], Awaitable[object]]]) -> None:
        async with trio.open_nursery() as nursery:
            for fn in fns:
                nursery.start_soon(fn)

    return await _in_flight(call, concurrency, seconds, gather)
