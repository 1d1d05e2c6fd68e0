"""`inferencesh tasks ...` and `inferencesh files ...` against the emulator."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inferencesh import TaskCancelledError, inference
from tests.cli.conftest import MAIN
from tests.conftest import API_KEY, Gates

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _started(cli: Cli, *args: str) -> str:
    result = cli("run", *args, "--no-wait")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_tasks_get_list_and_logs(cli: Cli) -> None:
    task_id = _started(cli, "infsh/slow", "-i", "steps=2", "-i", "interval=0")
    assert cli("tasks", "wait", task_id).returncode == 0

    got = cli("tasks", "get", task_id)
    assert got.returncode == 0, got.stderr
    task = json.loads(got.stdout)
    assert (task["id"], task["status"], task["output"]) == (task_id, "completed", {"steps": 2})
    assert task["input"] == {"steps": 2, "interval": 0}

    listed = cli("tasks", "list", "--limit", "50", "--json")
    assert listed.returncode == 0, listed.stderr
    assert task_id in [t["id"] for t in json.loads(listed.stdout)["items"]]
    table = cli("tasks", "list", "--limit", "50", "--status", "completed")
    assert re.search(rf"^{task_id}\s+app_\w+\s+completed\s+\d{{4}}-", table.stdout, re.M)
    assert table.stdout.splitlines()[0].split() == ["ID", "APP", "STATUS", "CREATED"]

    logs = cli("tasks", "logs", task_id)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.splitlines() == ["step 1/2", "step 2/2"]


def test_tasks_cancel_then_cancel_again(cli: Cli, gates: Gates, server: Any) -> None:
    gate = gates.new()
    task_id = _started(cli, "test/gate", "-i", f"gate={gate}")
    assert gates.wait_started(gate)
    cancelled = cli("tasks", "cancel", task_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"cancel requested for task {task_id}" in cancelled.stderr
    with inference(API_KEY, base_url=server.base_url) as client:
        try:
            client.tasks.wait(task_id)
        except TaskCancelledError:
            pass
    again = cli("tasks", "cancel", task_id)
    assert again.returncode == 1
    assert f"task {task_id} has already ended (cancelled)" in again.stderr
    waited = cli("tasks", "wait", task_id, "--json")
    assert waited.returncode == 1
    assert json.loads(waited.stdout)["status"] == "cancelled"


def test_tasks_logs_follow_prints_lines_as_they_come(
    cli: Cli, cli_env: dict[str, str], gates: Gates
) -> None:
    gate = gates.new()
    task_id = _started(cli, "test/gate", "-i", f"gate={gate}")
    proc = subprocess.Popen(
        [*MAIN, "tasks", "logs", task_id, "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == f"waiting on {gate}\n"  # before the task ends
    gates.open(gate)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert stdout == ""  # nothing more, nothing twice


def test_files_upload_then_download(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes(b"hello from the command line\n" * 100)
    up = cli("files", "upload", str(source))
    assert up.returncode == 0, up.stderr
    uri = up.stdout.strip()
    assert uri.startswith("http") and uri.endswith("/notes.txt")

    into = tmp_path / "down"
    into.mkdir()
    down = cli("files", "download", uri, str(into))
    assert down.returncode == 0, down.stderr
    saved = Path(down.stdout.strip())
    assert saved == into / "notes.txt"
    assert saved.read_bytes() == source.read_bytes()

    as_json = cli("files", "upload", str(source), str(source), "--json")
    files = json.loads(as_json.stdout)
    assert [f["filename"] for f in files] == ["notes.txt", "notes.txt"]
    assert files[0]["size"] == source.stat().st_size

    missing = cli("files", "upload", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2
    assert "nope.txt" in missing.stderr and "Traceback" not in missing.stderr


BLOCK_RICH = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "rich":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
from inferencesh.cli import main

raise SystemExit(main(sys.argv[1:]))
"""


def test_without_the_cli_extra_it_says_what_to_install(cli_env: dict[str, str]) -> None:
    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", BLOCK_RICH, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=cli_env,
        )

    for args in (["run", "infsh/echo"], ["tasks", "list"], ["files", "upload", "x"]):
        result = command(*args)
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert "pip install 'inferencesh[cli]'" in line
    # The emulator's commands need only the local extra: tests/cli/test_demo.py runs the demo.
