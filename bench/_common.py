"""Helpers shared by the benchmark scripts: the server process, subprocess workers, tables."""

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


@contextlib.contextmanager
def server(delay_ms: float) -> Iterator[str]:
    """Run `_server.py` in its own process; yield its base URL."""
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "_server.py"), "--port", "0", "--delay-ms", str(delay_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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


async def run_in_flight(
    call: Callable[[], Awaitable[object]], concurrency: int, seconds: float
) -> dict[str, float]:
    """Keep `concurrency` calls in flight for `seconds` on asyncio, after a warm-up; count.

    Each of `concurrency` workers loops `await call()` until the deadline; the run ends when
    the last call started before it has finished, so a slow pool pays for its tail. The RSS
    growth is the peak RSS after the run minus the peak RSS after the warm-up.
    """
    await asyncio.gather(*(call() for _ in range(min(concurrency, WARMUP_CALLS))))
    rss_before = maxrss_kib()
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await call()
            done += 1

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _result(done, time.perf_counter() - start, time.process_time() - cpu, rss_before)
