"""Generate the sync client modules from their async twins.

The async modules in `src/inferencesh/_async/` are the source; for each module named in
`GENERATED`, the sync module in `_sync/` is produced by the token rules below (as httpcore
does), so the twins cannot drift apart. Lines marked `# async-only` are dropped. Only what
differs by nature is written by hand, twice: the I/O seam `_io.py` (sleeping, threads, files,
bodies, parallel uploads, the HTTP clients) and the transports `_transport.py`; the modules
generated here reach the flavour's I/O only through `_io`. `tests/test_twins.py` keeps the
hand-written twins in step.

    python scripts/unasync.py           # rewrite the sync modules
    python scripts/unasync.py --check   # fail if any is out of date (CI, `nox -s lint`)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "inferencesh"
GENERATED = (
    "_http.py",
    "_closing.py",
    "files.py",
    "client.py",
    "tasks.py",
    "sessions.py",
    "_turn.py",
    "agents.py",
)

HEADER = "# Generated from _async/{name} by scripts/unasync.py: edit that file, not this one.\n"

RULES: list[tuple[str, str]] = [
    (r"\bAsyncInference\b", "Inference"),
    (r"\basync_inference\b", "inference"),
    (r"\bAsyncTaskStream\b", "TaskStream"),
    (r"\bAsyncTasks\b", "Tasks"),
    (r"\bAsyncFiles\b", "Files"),
    (r"\bAsyncFile\b", "File"),
    (r"\bAsyncSessions\b", "Sessions"),
    (r"\bAsyncAppSession\b", "AppSession"),
    (r"\bAsyncHTTP\b", "HTTP"),
    (r"\bAsyncAgentStream\b", "AgentStream"),
    (r"\bAsyncAgent\b", "Agent"),
    (r"\bexecute_async\b", "execute_sync"),
    (r"\bAsyncGenerator\b", "Generator"),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\bAbstractAsyncContextManager\b", "AbstractContextManager"),
    (r"\bhttpx2\.AsyncClient\b", "httpx2.Client"),
    (r"\binferencesh\._async\b", "inferencesh._sync"),
    (r"\baclosing\b", "closing"),
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\b__aiter__\b", "__iter__"),
    (r"\b__anext__\b", "__next__"),
    (r"\banext\(", "next("),
    (r"\baclose\b", "close"),
    (r"\.aread\(", ".read("),
    (r"\(async\)", "(sync)"),
    (r"\bAn async client\b", "A sync client"),
    (r"\ban async client\b", "a sync client"),
    (r"\bThe async client\b", "The sync client"),
]
_COMPILED = [(re.compile(pattern), repl) for pattern, repl in RULES]


def unasync(text: str, name: str) -> str:
    """The sync twin of one async module's source."""
    lines = [line for line in text.splitlines(keepends=True) if "# async-only" not in line]
    out = "".join(lines)
    for pattern, repl in _COMPILED:
        out = pattern.sub(repl, out)
    return HEADER.format(name=name) + out


def formatted(text: str, path: Path) -> str:
    """`text` as ruff formats and import-sorts it, so generated files pass the lint."""
    args = ["--stdin-filename", str(path)]
    fixed = (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ruff",
                "check",
                "--select",
                "I,F401",
                "--fix",
                "-q",
                "-",
                *args,
            ],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        or text
    )
    return subprocess.run(
        [sys.executable, "-m", "ruff", "format", "-", *args],
        input=fixed,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale: list[str] = []
    for name in GENERATED:
        source = (SRC / "_async" / name).read_text()
        target = SRC / "_sync" / name
        text = formatted(unasync(source, name), target)
        if target.exists() and target.read_text() == text:
            continue
        stale.append(str(target.relative_to(ROOT)))
        if not check:
            target.write_text(text)
    if check and stale:
        print("out of date (run python scripts/unasync.py):", *stale, sep="\n  ")
        return 1
    for path in stale:
        print("wrote", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
