"""Every code block in the README and under docs/ runs as written, against the emulator.

A page's Python blocks run in order as one script (so a block may use what an earlier one
defined, as a reader would), in a fresh interpreter, in an empty folder, with
INFERENCE_API_KEY and INFERENCE_BASE_URL pointing at the test emulator. A block right after
`<!-- test: pytest -->` is a test module and runs under pytest instead; a `bash` block after
`<!-- test: shell -->` runs in bash with the `inferencesh` command on PATH. Other blocks
(JSON, output, installation commands) are not code to run, nor is a block that only
includes an example file (those run in tests/test_examples.py). No hidden set-up: whatever
a block needs is on the page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import API_KEY

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(
    r"(?:<!-- test: (?P<mark>[\w-]+) -->\n)?^```(?P<lang>[\w-]*)[^\n]*\n(?P<code>.*?)^```",
    re.M | re.S,
)
RUNNABLE = {"python", "py"}
# A block that only includes an example file (`--8<-- "examples/x.py"`, for the site):
# tests/test_examples.py runs those files.
INCLUDED = re.compile(r'--8<-- "examples/\w+\.py"')


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    mark: str | None
    code: str


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    found: list[Block] = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start("code")) + 1
        found.append(Block(page, line, m.group("lang"), m.group("mark"), m.group("code")))
    return found


def script(page_blocks: list[Block]) -> str:
    """The page's Python blocks as one script; line numbers match the page's."""
    lines: list[str] = []
    for block in page_blocks:
        lines.extend([""] * (block.line - 1 - len(lines)))
        lines.extend(block.code.splitlines())
    return "\n".join(lines) + "\n"


def _id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def python_blocks(page: Path) -> list[Block]:
    return [
        b
        for b in blocks(page)
        if b.lang in RUNNABLE and b.mark is None and not INCLUDED.fullmatch(b.code.strip())
    ]


def _marked(mark: str) -> list[Block]:
    return [b for page in PAGES for b in blocks(page) if b.mark == mark]


SCRIPTS = [page for page in PAGES if python_blocks(page)]
SHELL = _marked("shell")
PYTESTS = _marked("pytest")


def _block_id(block: Block) -> str:
    return f"{_id(block.page)}:{block.line}"


Runs = dict[str, "Future[subprocess.CompletedProcess[str]]"]


@pytest.fixture(scope="module")
def runs(server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """Every page script and marked block, started at once (most of their time is waiting
    for processes to start and apps to run), three at a time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFERENCE_")}
    env |= {
        "INFERENCE_API_KEY": API_KEY,
        "INFERENCE_BASE_URL": server.base_url,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
    }

    def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)

    futures: Runs = {}
    with ThreadPoolExecutor(max_workers=3) as pool:
        for page in SCRIPTS:
            folder = tmp_path_factory.mktemp("page")
            path = folder / page.name.replace(".md", "_md.py")
            path.write_text(script(python_blocks(page)))
            futures[_id(page)] = pool.submit(run, [sys.executable, str(path)], folder)
        for block in SHELL:
            folder = tmp_path_factory.mktemp("shell")
            futures[_block_id(block)] = pool.submit(
                run, ["bash", "-euo", "pipefail", "-c", block.code], folder
            )
        for block in PYTESTS:
            folder = tmp_path_factory.mktemp("pytest")
            (folder / "test_from_the_docs.py").write_text(block.code)
            args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
            futures[_block_id(block)] = pool.submit(run, args, folder)
        yield futures


@pytest.mark.parametrize("page", SCRIPTS, ids=_id)
def test_every_python_block_of_the_page_runs(page: Path, runs: Runs) -> None:
    result = runs[_id(page)].result()
    assert result.returncode == 0, f"{_id(page)}:\n{result.stderr[-3000:]}"


@pytest.mark.parametrize("block", SHELL, ids=_block_id)
def test_every_shell_block_runs(block: Block, runs: Runs) -> None:
    result = runs[_block_id(block)].result()
    assert result.returncode == 0, f"{_block_id(block)}:\n{result.stderr[-3000:]}"


@pytest.mark.parametrize("block", PYTESTS, ids=_block_id)
def test_every_pytest_block_passes(block: Block, runs: Runs) -> None:
    result = runs[_block_id(block)].result()
    assert result.returncode == 0, f"{_block_id(block)}:\n{result.stdout[-3000:]}"
    assert " passed" in result.stdout


def test_the_pages_have_code_to_run() -> None:
    # A change to the fence syntax must not silently turn every test above into nothing.
    assert len(SCRIPTS) >= 10 and len(SHELL) >= 5 and PYTESTS


def test_the_local_llm_block_passes_against_an_openai_compatible_server(
    tmp_path: Path,
) -> None:
    # The docs' local-LLM test is skipped above (CI has no LLM server): here it runs against
    # a fake OpenAI-compatible server that calls get_weather, then answers.
    from tests.local.agents.test_openai_model import TEXT_TURN, TOOL_TURN, FakeLLM

    (block,) = [b for b in PYTESTS if "INFERENCESH_LLM_BASE_URL" in b.code]
    fake = FakeLLM()
    fake.replies += [TOOL_TURN, TEXT_TURN]
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        (tmp_path / "test_from_the_docs.py").write_text(block.code)
        env = {k: v for k, v in os.environ.items() if not k.startswith("INFERENCE")}
        env |= {"INFERENCESH_LLM_BASE_URL": fake.base_url, "INFERENCESH_LLM_MODEL": "fake-1"}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        fake.server.shutdown()
        fake.server.server_close()
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout
    assert [r["body"]["model"] for r in fake.requests] == ["fake-1", "fake-1"]
