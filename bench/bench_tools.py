"""Tool schema generation: inferencesh `@tool` vs the pydantic floor and two peers.

Run: `python bench/bench_tools.py` (add `--quick` for a smoke run). Needs the `bench`
dependency group (openai-agents, pydantic-ai-slim); a missing peer is reported and skipped.

Every contender turns the same kind of function (5 parameters: str, int, float, optional
list, Literal; Google docstring) into a JSON schema:

- floor:         `pydantic.TypeAdapter(fn).json_schema()`
- inferencesh:   `tool(fn).parameters_schema` (decoration + first, uncached schema build)
- openai-agents: `function_tool(fn).params_json_schema`
- pydantic-ai:   `Tool(fn).tool_def.parameters_json_schema`

Two scenarios, each reported as the median over repeats:

- 1 tool, fresh process: a fresh interpreter per sample (imports done, not timed) builds
  one schema; this includes every one-time cost, pydantic's lazy imports included (which
  importing openai-agents or pydantic-ai already pays, so they look cheap here).
- 1 tool, pydantic primed: the same, after an unrelated model schema was built untimed, so
  what is left is the tool's own first-time cost (e.g. the first TypeAdapter for `str`).
- warm, 1,000 distinct tools: in one process, 1,000 newly created functions per round
  (fresh names and docstrings, so no per-function cache can hit); time per tool.
- the same with a second shape whose parameters need pydantic (a model, an enum, a date, a
  constrained `Field` that is new in every function, an `Annotated` description).

It also times `@tool` decoration alone (no schema), which the issue caps at 50 us per tool.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, Literal

CONTENDERS = ("floor", "inferencesh", "openai-agents", "pydantic-ai")

_SOURCE = '''
def search_{i}(query: str, limit: int = 10, ratio: float = 0.5,
               tags: list[str] | None = None, mode: Literal["fast", "slow"] = "fast") -> str:
    """Search document set {i} for matching passages.

    Longer explanation of what the tool {i} does, spanning a second line.

    Args:
        query: Full-text query for set {i}.
        limit: Maximum number of results to return.
        ratio: Relevance threshold between 0 and 1.
        tags: Only return passages with all of these tags.
        mode: Trade accuracy for speed.

    Returns:
        The matching passages as text.
    """
    return query
'''


# The second shape goes through pydantic for most parameters: a shared model, an enum, a
# date, and a `Field` with constraints (a new `Field` object per tool, so nothing is cached).
_MODEL_SOURCE = '''
def search_{i}(item: Item, when: datetime.date | None = None,
               limit: Annotated[int, Field(ge=1, le=100, description="Max results")] = 10,
               color: Color = Color.RED, note: Annotated[str, "Free text"] = "") -> str:
    """Order items from catalogue {i}.

    Args:
        item: What to order.
        when: Delivery date.
        color: Preferred color.
    """
    return ""
'''


def _model_namespace() -> dict[str, Any]:
    import datetime
    import enum
    from typing import Annotated

    from pydantic import BaseModel, Field

    class Item(BaseModel):
        sku: str
        quantity: int = 1

    class Color(enum.Enum):
        RED = "red"
        BLUE = "blue"

    return {
        "Item": Item,
        "Color": Color,
        "datetime": datetime,
        "Annotated": Annotated,
        "Field": Field,
    }


def make_functions(n: int, salt: str, shape: str = "plain") -> list[Callable[..., Any]]:
    """Create `n` distinct functions (distinct code objects, names and docstrings)."""
    namespace: dict[str, Any] = {"Literal": Literal}
    template = _SOURCE
    if shape == "models":
        namespace.update(_model_namespace())
        template = _MODEL_SOURCE
    source = "".join(template.replace("{i}", f"{salt}_{i}") for i in range(n))
    # dont_inherit: this module's `from __future__ import annotations` must not leak in.
    exec(compile(source, f"<bench {salt}>", "exec", dont_inherit=True), namespace)
    return [namespace[f"search_{salt}_{i}"] for i in range(n)]


def builder(name: str) -> Callable[[Callable[..., Any]], Any]:
    """The schema-producing call of a contender (imports happen here, outside timers)."""
    if name == "floor":
        from pydantic import TypeAdapter

        return lambda fn: TypeAdapter(fn).json_schema()
    if name == "inferencesh":
        from inferencesh.tools import tool

        return lambda fn: tool(fn).parameters_schema
    if name == "inferencesh-decorate":
        from inferencesh.tools import tool

        return tool
    if name == "openai-agents":
        from agents import function_tool

        return lambda fn: function_tool(fn).params_json_schema
    if name == "pydantic-ai":
        from pydantic_ai import Tool

        return lambda fn: Tool(fn).tool_def.parameters_json_schema
    raise ValueError(name)


def available(name: str) -> bool:
    try:
        builder(name)
    except ImportError:
        return False
    return True


def cold_sample(name: str, warm_pydantic: bool) -> float:
    """Run in a child interpreter: seconds to build the first schema."""
    build = builder(name)
    if warm_pydantic:
        # pydantic imports much of itself lazily on first use; do that outside the timer so
        # the sample is the tool's own first-time cost.
        from pydantic import BaseModel, TypeAdapter

        class _Warm(BaseModel):
            when: float

        TypeAdapter(_Warm).json_schema()
    (fn,) = make_functions(1, "cold")
    gc.collect()
    start = time.perf_counter()
    build(fn)
    return time.perf_counter() - start


def warm_round(name: str, n: int, salt: str, shape: str = "plain") -> float:
    """Seconds per tool for `n` fresh functions."""
    build = builder(name)
    fns = make_functions(n, salt, shape)
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for fn in fns:
            build(fn)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed / n


def run(quick: bool) -> dict[str, Any]:
    names = [c for c in CONTENDERS if available(c)]
    skipped = [c for c in CONTENDERS if c not in names]
    cold_repeats, warm_repeats, n = (3, 2, 200) if quick else (9, 7, 1000)

    cold: dict[str, list[float]] = {c: [] for c in names}
    primed: dict[str, list[float]] = {c: [] for c in names}
    for _ in range(cold_repeats):
        for c in names:  # interleaved, so drift hits every contender alike
            for flag, samples in (("--cold", cold), ("--cold-primed", primed)):
                out = subprocess.run(
                    [sys.executable, __file__, flag, c],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                samples[c].append(float(out.stdout))

    warm: dict[str, list[float]] = {c: [] for c in [*names, "inferencesh-decorate"]}
    for c in warm:  # one untimed round each: imports, first-use caches
        warm_round(c, 20, f"w_{c.replace('-', '_')}")
    for r in range(warm_repeats):
        for c in warm:
            warm[c].append(warm_round(c, n, f"r{r}_{c.replace('-', '_')}"))

    models: dict[str, list[float]] = {c: [] for c in names}
    for c in models:
        warm_round(c, 20, f"mw_{c.replace('-', '_')}", "models")
    for r in range(warm_repeats):
        for c in models:
            models[c].append(warm_round(c, n, f"m{r}_{c.replace('-', '_')}", "models"))

    return {
        "n": n,
        "models_us": {c: statistics.median(v) * 1e6 for c, v in models.items()},
        "skipped": skipped,
        "cold_us": {c: statistics.median(v) * 1e6 for c, v in cold.items()},
        "primed_us": {c: statistics.median(v) * 1e6 for c, v in primed.items()},
        "warm_us": {c: statistics.median(v) * 1e6 for c, v in warm.items()},
    }


def report(result: dict[str, Any]) -> str:
    cold, primed, warm = result["cold_us"], result["primed_us"], result["warm_us"]
    models = result["models_us"]

    def cell(table: dict[str, float], c: str, fmt: str) -> str:
        if c not in table:
            return "– | –"
        return f"{table[c]:{fmt}} | {table[c] / table['floor']:.2f}×"

    lines = [
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs; medians.",
        "",
        "| contender | 1 tool, fresh process (µs) | × floor "
        "| 1 tool, pydantic primed (µs) | × floor "
        f"| {result['n']:,} tools (µs/tool) | × floor "
        f"| {result['n']:,} model/Field tools (µs/tool) | × floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in [*CONTENDERS, "inferencesh-decorate"]:
        if c not in warm:
            continue
        label = "inferencesh, decoration only" if c == "inferencesh-decorate" else c
        lines.append(
            f"| {label} | {cell(cold, c, ',.0f')} | {cell(primed, c, ',.0f')} "
            f"| {cell(warm, c, ',.1f')} | {cell(models, c, ',.1f')} |"
        )
    load = result["load_average"]
    before, after = (" ".join(f"{x:.2f}" for x in load[k]) for k in ("before", "after"))
    lines.append(f"\nload average (1/5/15 min) before: {before}, after: {after}")
    if result["skipped"]:
        lines.append(f"\nnot installed, skipped: {', '.join(result['skipped'])}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 200 tools")
    parser.add_argument("--json", action="store_true", help="print raw numbers as JSON")
    parser.add_argument("--cold", metavar="CONTENDER", help=argparse.SUPPRESS)
    parser.add_argument("--cold-primed", metavar="CONTENDER", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold or args.cold_primed:
        print(cold_sample(args.cold or args.cold_primed, warm_pydantic=bool(args.cold_primed)))
        return
    before = os.getloadavg()
    result = run(args.quick)
    result["load_average"] = {"before": before, "after": os.getloadavg()}
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()
