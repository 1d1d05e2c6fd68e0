"""Upload and download of a large file: peak RSS growth of the client and MiB/s.

Compared in one run, each client in a fresh process against the same emulator (started with
`inferencesh serve` in its own process, so its memory is not counted):

- `ours-sync` / `ours-async`: `client.files.upload(path)` and `file.download(dir)`;
- `httpx2-raw` (the floor): `POST /files`, then a streaming `PUT` of the open file with httpx2;
  for downloads, `client.stream("GET", uri)` written chunk by chunk;
- `official`: the official SDK's `upload_file(path)` and its `download()` helper (0.36.0, in its
  own venv).

    python bench/bench_files.py --size-mib 512 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import WORK, load, machine, median, official_python, run_worker, table

KEY = "sk-bench"

WORKER = r"""
import json, os, resource, sys, time
from pathlib import Path

kind, op, base, key, path, out_dir = sys.argv[1:7]

def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

def upload_raw():
    import httpx2
    size = os.path.getsize(path)
    with httpx2.Client(timeout=600) as c:
        r = c.post(base + "/files", headers={"authorization": "Bearer " + key},
                   json={"files": [{"uri": "", "filename": "big.bin",
                                    "content_type": "application/octet-stream", "size": size}]})
        r.raise_for_status()
        body = r.json()
        item = (body.get("data") if isinstance(body, dict) else body)[0]
        start_rss = rss_kib(); t = time.perf_counter()
        with open(path, "rb") as f:
            c.put(item["upload_url"], content=f,
                  headers={"content-type": "application/octet-stream",
                           "content-length": str(size)}).raise_for_status()
        return time.perf_counter() - t, start_rss, item["uri"]

def upload_ours_sync():
    from inferencesh import inference
    with inference(key, base_url=base) as c:
        c.files.upload(b"warm-up", filename="w.bin")
        start_rss = rss_kib(); t = time.perf_counter()
        f = c.files.upload(path)
        return time.perf_counter() - t, start_rss, f.uri

def upload_ours_async():
    import asyncio
    from inferencesh import async_inference
    async def go():
        async with async_inference(key, base_url=base) as c:
            await c.files.upload(b"warm-up", filename="w.bin")
            start_rss = rss_kib(); t = time.perf_counter()
            f = await c.files.upload(path)
            return time.perf_counter() - t, start_rss, f.uri
    return asyncio.run(go())

def upload_official():
    from inferencesh import Inference
    c = Inference(api_key=key, base_url=base)
    start_rss = rss_kib(); t = time.perf_counter()
    f = c.upload_file(path)
    uri = f["uri"] if isinstance(f, dict) else f.uri  # 0.36 returns the FileDTO as a dict
    return time.perf_counter() - t, start_rss, uri

def download_raw(uri):
    import httpx2
    with httpx2.Client(timeout=600) as c:
        c.get(base + "/tasks/none")  # warm-up: connection pool and TLS context exist
        start_rss = rss_kib(); t = time.perf_counter()
        with c.stream("GET", uri) as r, open(Path(out_dir) / "raw.bin", "wb") as out:
            r.raise_for_status()
            for chunk in r.iter_bytes(1024 * 1024):
                out.write(chunk)
        return time.perf_counter() - t, start_rss

def download_ours_sync(uri):
    from inferencesh import inference
    with inference(key, base_url=base) as c:
        c.tasks.list(limit=1)  # warm-up: transport and models loaded, as in a running program
        start_rss = rss_kib(); t = time.perf_counter()
        c.files.download(uri, Path(out_dir) / "ours.bin")
        return time.perf_counter() - t, start_rss

def download_ours_async(uri):
    import asyncio
    from inferencesh import async_inference
    async def go():
        async with async_inference(key, base_url=base) as c:
            await c.tasks.list(limit=1)  # warm-up: aiohttp session and models loaded
            start_rss = rss_kib(); t = time.perf_counter()
            await c.files.download(uri, Path(out_dir) / "ours-async.bin")
            return time.perf_counter() - t, start_rss
    return asyncio.run(go())

def download_official(uri):
    import inferencesh
    import inferencesh.utils.download  # noqa: F401 - warm-up: the helper is imported
    start_rss = rss_kib(); t = time.perf_counter()
    inferencesh.download(uri, out_dir)
    return time.perf_counter() - t, start_rss

size = os.path.getsize(path)
if op == "upload":
    fn = {"httpx2-raw": upload_raw, "ours-sync": upload_ours_sync, "ours-async": upload_ours_async,
          "official": upload_official}[kind]
    elapsed, start_rss, uri = fn()
else:
    uri = os.environ["BENCH_URI"]
    fn = {"httpx2-raw": download_raw, "ours-sync": download_ours_sync,
          "ours-async": download_ours_async, "official": download_official}[kind]
    elapsed, start_rss = fn(uri)
print(json.dumps({"mib_s": size / 2**20 / elapsed, "growth_mib": (peak_kib() - start_rss) / 1024,
                  "uri": uri}))
"""


@contextmanager
def emulator(data_dir: Path) -> Iterator[str]:
    """`inferencesh serve` in its own process, its files under `data_dir`."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "inferencesh.cli._main", "serve", "--port", "0", "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TMPDIR": str(data_dir)},
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if match:
                yield match.group(1)
                return
        raise RuntimeError("the emulator did not start")
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def make_file(size_mib: int) -> Path:
    path = WORK / f"upload-{size_mib}MiB.bin"
    if not path.exists() or path.stat().st_size != size_mib * 2**20:
        WORK.mkdir(parents=True, exist_ok=True)
        block = os.urandom(2**20)
        with path.open("wb") as f:
            for _ in range(size_mib):
                f.write(block)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-official", action="store_true")
    args = parser.parse_args()

    print(f"machine: {machine()}; load before: {load()}")
    source = make_file(args.size_mib)
    worker = WORK / "files_worker.py"
    worker.write_text(WORKER)
    kinds = ["httpx2-raw", "ours-sync", "ours-async"] + ([] if args.no_official else ["official"])
    pythons = dict.fromkeys(kinds, sys.executable)
    if not args.no_official:
        pythons["official"] = str(official_python())
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(dir=WORK) as tmp, emulator(Path(tmp)) as base:
        for _ in range(args.rounds):
            for kind in kinds:
                with tempfile.TemporaryDirectory(dir=WORK) as out:
                    argv = [pythons[kind], str(worker), kind, "upload", base, KEY, str(source), out]
                    up = run_worker(argv, timeout=900)
                    results.setdefault((kind, "upload"), []).append(up)
                    os.environ["BENCH_URI"] = str(up["uri"])
                    argv[3] = "download"
                    down = run_worker(argv, timeout=900)
                    results.setdefault((kind, "download"), []).append(down)

    rows: list[list[object]] = []
    for op in ("upload", "download"):
        floor_runs = results[("httpx2-raw", op)]
        floor = median([r["mib_s"] for r in floor_runs])
        for kind in kinds:
            runs = results[(kind, op)]
            speed = median([r["mib_s"] for r in runs])
            growth = median([r["growth_mib"] for r in runs])
            # Clients of a round run close together: their ratio is steadier than the medians'
            # when other load comes and goes during the run.
            per_round = median(
                [r["mib_s"] / f["mib_s"] for r, f in zip(runs, floor_runs, strict=True)]
            )
            rows.append(
                [
                    op,
                    kind,
                    f"{speed:,.0f}",
                    f"{speed / floor:.2f}x",
                    f"{per_round:.2f}x",
                    f"{growth:,.1f}",
                    f"{growth / args.size_mib:.3f}",
                ]
            )
    print(f"{args.size_mib} MiB file, {args.rounds} rounds, medians; load after: {load()}")
    headers = ["op", "client", "MiB/s", "vs httpx2-raw", "per-round ratio", "RSS growth MiB"]
    print(table([*headers, "growth / size"], rows))
    print(json.dumps({f"{k}/{op}": v for (k, op), v in results.items()}))


if __name__ == "__main__":
    main()
