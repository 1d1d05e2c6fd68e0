"""The SDK's own cost per stream line, without any network: `NdjsonDecoder` + `TaskWatch`.

`bench_stream.py` measures whole clients; this isolates the sans-IO part they share, to see
how much of a client's time per line is ours and how much is the HTTP stack's. Lines are the
ones `_server.py` sends; fed one line per chunk (what h11/httpx2 hands over) and in 64 KiB
chunks (what aiohttp's `iter_any` hands over).

Run: `python bench/bench_decode.py [--lines 200000] [--repeat 7]`.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from _common import machine, median, table
from _server import _final, _line

from inferencesh._config import ClientOptions
from inferencesh._protocol.ndjson import NdjsonDecoder
from inferencesh._protocol.watch import TaskWatch


def _opts() -> ClientOptions:
    return ClientOptions.resolve(
        "bench-key",
        base_url="http://127.0.0.1:1",
        proxy_url=None,
        timeout=60.0,
        max_retries=2,
        stream_mode="stream",
        poll_interval=1.0,
        headers=None,
    )


def _chunks(lines: int, size: int | None) -> list[bytes]:
    body = [_line("t1", i, lines) for i in range(lines)] + [_final("t1")]
    if size is None:
        return body
    blob = b"".join(body)
    return [blob[i : i + size] for i in range(0, len(blob), size)]


def raw_json(chunks: list[bytes]) -> int:
    """The floor: split and `json.loads`, nothing else."""
    count = 0
    rest = b""
    for chunk in chunks:
        *lines, rest = (rest + chunk).split(b"\n")
        for line in lines:
            json.loads(line)
            count += 1
    return count


def decoder_only(chunks: list[bytes]) -> int:
    decoder = NdjsonDecoder()
    return sum(len(decoder.feed(chunk)) for chunk in chunks)


def decoder_and_watch(chunks: list[bytes]) -> int:
    opts = _opts()
    watch = TaskWatch(opts, "t1", mode="stream")
    watch.start()
    decoder = NdjsonDecoder()
    count = 0
    for chunk in chunks:
        count += len(watch.on_lines(decoder.feed(chunk)))
    return count


CASES: dict[str, Callable[[list[bytes]], int]] = {
    "split + json.loads": raw_json,
    "NdjsonDecoder.feed": decoder_only,
    "feed + TaskWatch.on_lines": decoder_and_watch,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    rows: list[list[object]] = []
    for label, size in (("1 line/chunk", None), ("64 KiB chunks", 65536)):
        chunks = _chunks(args.lines, size)
        times: dict[str, list[float]] = {name: [] for name in CASES}
        for _ in range(args.repeat):
            for name, fn in CASES.items():
                start = time.perf_counter()
                count = fn(chunks)
                times[name].append(time.perf_counter() - start)
                assert count == args.lines + 1, (name, count)
        floor = median(times["split + json.loads"])
        for name in CASES:
            t = median(times[name])
            per_line = t / (args.lines + 1) * 1e6
            rows.append(
                [
                    label,
                    name,
                    f"{per_line:.2f}",
                    f"{(args.lines + 1) / t:,.0f}",
                    f"{t / floor:.2f}x",
                ]
            )
    print(table(["feeding", "step", "us/line", "lines/s", "vs split+json"], rows))


if __name__ == "__main__":
    main()
