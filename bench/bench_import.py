"""Cold import time above a bare interpreter, in many fresh subprocesses (medians).

Each statement runs as `python -c STATEMENT` in a new process; the wall time of the whole
process is measured and the bare interpreter's median (`python -c pass`) subtracted. The
statements run round-robin (the order rotated each round) so that drift hits all alike.
Bytecode caches are warmed first, so this is "cold process, warm disk".

  floor      import httpx2, pydantic, anyio   (the issue's floor; goal: ours <= 1.25x)
  httpx      import httpx, pydantic, anyio    (PERFORMANCE.md's floor)
  floor+BaseModel  import httpx2, anyio; from pydantic import BaseModel  (`import pydantic`
             is lazy: this is what defining any pydantic model at import costs on top)
  ours       import inferencesh
  ours-api   from inferencesh import inference, async_inference
  official   import inferencesh  (0.36.0, in its own venv, against that venv's bare python)

Then `-X importtime` of `ours-api`: the heaviest of our own modules and of the rest.

Run: `python bench/bench_import.py [--rounds 40]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import machine, median, official_python, table

GOAL = 1.25
STATEMENTS = {
    "floor": "import httpx2, pydantic, anyio",
    "httpx": "import httpx, pydantic, anyio",
    "floor+BaseModel": "import httpx2, anyio; from pydantic import BaseModel",
    "ours": "import inferencesh",
    "ours-api": "from inferencesh import inference, async_inference",
}
BARE = "pass"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    return env


def _time(python: str | Path, statement: str) -> float:
    start = time.perf_counter()
    subprocess.run([str(python), "-c", statement], check=True, env=_env())
    return time.perf_counter() - start


def importtime(
    statement: str, top: int
) -> tuple[list[tuple[str, int]], list[tuple[str, str, int]]]:
    """From one `-X importtime` run: our modules by cumulative µs, and the other modules that
    our modules import directly (with the importer), heaviest first."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    )
    ours: list[tuple[str, int]] = []
    direct: list[tuple[str, str, int]] = []
    pending: list[tuple[int, str, int]] = []  # post-order: children come before their parent
    seen_ours = False
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cum_text, raw_name = line.split(":", 1)[1].split("|")
        module, cum = raw_name.strip(), int(cum_text)
        depth = (len(raw_name) - len(raw_name.lstrip()) - 1) // 2
        children: list[tuple[int, str, int]] = []
        while pending and pending[-1][0] > depth:
            children.append(pending.pop())
        if module.startswith("inferencesh"):
            # A module can show twice (its package's __init__ imports it first): keep the
            # larger figure, which includes the package.
            ours = [e for e in ours if e[0] != module or e[1] > cum]
            if all(e[0] != module for e in ours):
                ours.append((module, cum))
            direct += [
                (m, module, c)
                for d, m, c in children
                if d == depth + 1 and not m.startswith("inferencesh")
            ]
        elif depth == 0 and seen_ours:
            # importtime does not show the modules `inferencesh.__getattr__` loads with
            # importlib (the client modules), so what they import directly lands at depth 0.
            direct.append((module, "inferencesh client modules", cum))
        seen_ours = seen_ours or module == "inferencesh"
        pending.append((depth, module, cum))
    ours.sort(key=lambda e: -e[1])
    direct.sort(key=lambda e: -e[2])
    return ours[:top], direct[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--no-official", action="store_true")
    args = parser.parse_args()

    official = None if args.no_official else official_python()
    jobs: list[tuple[str, str | Path, str]] = [("bare", sys.executable, BARE)]
    jobs += [(name, sys.executable, stmt) for name, stmt in STATEMENTS.items()]
    if official is not None:
        jobs += [("official-bare", official, BARE), ("official", official, "import inferencesh")]
    for _, python, stmt in jobs:  # warm the bytecode caches
        _time(python, stmt)

    times: dict[str, list[float]] = {name: [] for name, _, _ in jobs}
    for r in range(args.rounds):
        shift = r % len(jobs)
        for name, python, stmt in jobs[shift:] + jobs[:shift]:
            times[name].append(_time(python, stmt))

    med = {name: median(v) * 1000 for name, v in times.items()}
    above = {name: med[name] - med["bare"] for name in ("bare", *STATEMENTS)}
    if official is not None:
        above["official"] = med["official"] - med["official-bare"]
    floor = above["floor"]
    print(f"machine: {machine()}")
    print(f"{args.rounds} fresh processes per statement, round-robin; medians")
    rows: list[list[object]] = []
    for name in (*STATEMENTS, *(["official"] if official is not None else [])):
        stmt = STATEMENTS.get(name, "import inferencesh  # 0.36.0")
        rows.append([name, f"`{stmt}`", f"{above[name]:.1f}", f"{above[name] / floor:.2f}x"])
    rows.append(["bare", "`pass`", f"{med['bare']:.1f} (absolute)", "-"])
    print(table(["case", "statement", "ms above bare", "vs floor"], rows))
    for name in ("ours", "ours-api"):
        ratio = above[name] / floor
        print(
            f"goal (<= {GOAL}x floor) {name}: {'met' if ratio <= GOAL else 'NOT met'} "
            f"({ratio:.2f}x)"
        )

    ours, direct = importtime(STATEMENTS["ours-api"], args.top)
    print(f"\n-X importtime of `{STATEMENTS['ours-api']}` (one run, cumulative ms):")
    print(table(["our module", "cumulative ms"], [[m, f"{us / 1000:.1f}"] for m, us in ours]))
    print()
    print(
        table(
            ["module imported by ours", "imported by", "cumulative ms"],
            [[m, by, f"{us / 1000:.1f}"] for m, by, us in direct],
        )
    )


if __name__ == "__main__":
    main()
