"""`inferencesh run`: inputs, output files, JSON for scripts, exit codes (piped, not a terminal)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inferencesh import TaskCancelledError, TaskStatus, inference
from tests.cli.conftest import MAIN
from tests.conftest import API_KEY, Gates

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_run_prints_the_output_as_json_and_the_progress_on_stderr(cli: Cli) -> None:
    result = cli("run", "infsh/slow", "-i", "steps=3", "-i", "interval=0")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"steps": 3}
    lines = result.stderr.splitlines()
    task_id = re.match(r"task (tsk_\w+) \(infsh/slow\)", lines[0])
    assert task_id, lines
    # Each log line once, and no line twice (however the updates were cut up).
    for step in (1, 2, 3):
        assert lines.count(f"  | step {step}/3") == 1, lines
    assert len(set(lines)) == len(lines), lines
    assert "  100% step 3 of 3" in lines
    assert lines[-1].startswith(f"completed task {task_id.group(1)} in "), lines


def test_a_file_in_the_output_is_printed_as_its_uri(cli: Cli, server: Any) -> None:
    # This used to crash: "Object of type File is not JSON serializable".
    result = cli("run", "infsh/draw-image", "-i", "width=4", "-i", "height=4")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["image"].startswith(server.base_url) and output["image"].endswith("/image.png")
    assert (output["width"], output["height"]) == (4, 4)


def test_out_downloads_every_file_and_prints_their_paths(cli: Cli, tmp_path: Path) -> None:
    result = cli("run", "cli/two-images", "--out", str(tmp_path / "out"), "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --json: no display
    task = json.loads(result.stdout)
    first, second = (Path(p) for p in task["output"]["images"])
    assert (first.name, second.name) == ("image.png", "image-2.png")
    assert (first.read_bytes(), second.read_bytes()) == (b"first", b"second")
    assert task["status"] == "completed" and task["id"].startswith("tsk_")


def test_input_from_json_a_file_stdin_and_pairs(cli: Cli, tmp_path: Path) -> None:
    doc = tmp_path / "input.json"
    doc.write_text('{"text": "from a file", "n": 1}')
    data = tmp_path / "notes.txt"
    data.write_bytes(b"twelve bytes")
    cases = [
        (["--input", '{"a": [1, 2]}'], None, {"a": [1, 2]}),
        (['{"a": 1}'], None, {"a": 1}),  # the input as the second argument
        (["--input", f"@{doc}", "-i", "n=2"], None, {"text": "from a file", "n": 2}),
        (["--input", "@-"], '{"piped": true}', {"piped": True}),
        (
            ["-i", "n=5", "-i", "text=hello world", "-i", 'q="5"', "-i", "deep.er=null"],
            None,
            {"n": 5, "text": "hello world", "q": "5", "deep": {"er": None}},
        ),
    ]
    for args, stdin, expected in cases:
        result = cli("run", "infsh/echo", *args, input=stdin)
        assert result.returncode == 0, (args, result.stderr)
        assert json.loads(result.stdout) == expected, args
    uploaded = cli("run", "infsh/file-info", "-i", f"file=@{data}")
    assert uploaded.returncode == 0, uploaded.stderr
    assert json.loads(uploaded.stdout)["file"]["size"] == 12


def test_no_wait_prints_the_id_and_tasks_wait_picks_it_up(cli: Cli) -> None:
    started = cli("run", "infsh/echo", "-i", "text=later", "--no-wait")
    assert started.returncode == 0, started.stderr
    task_id = started.stdout.strip()
    assert re.fullmatch(r"tsk_\w+", task_id), started.stdout
    assert f"inferencesh tasks wait {task_id}" in started.stderr
    waited = cli("tasks", "wait", task_id)
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout) == {"text": "later"}


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["run", "infsh/fail", "-i", "message=out of ideas"], 1, "out of ideas"),
        (["run", "no-such/app"], 1, "not found"),
        (["run", "infsh/echo", "{not json"], 2, "input is not JSON"),
        (["run", "infsh/echo", "--input", "[1, 2]"], 2, "must be a JSON object"),
        (["run", "infsh/echo", "--input", "@missing.json"], 2, "cannot read the input file"),
        (["run", "infsh/echo", "-i", "file=@missing.png"], 2, "no such file: missing.png"),
        (["run", "infsh/echo", "-i", "novalue"], 2, "-i takes KEY=VALUE"),
        (["run", "infsh/echo", "{}", "--input", "{}"], 2, "give the input once"),
        (["run"], 2, "required: app"),
        (["tasks", "get", "tsk_nope"], 1, "not found"),
    ],
)
def test_failures_are_one_line_and_an_exit_code(
    cli: Cli, args: list[str], code: int, says: str
) -> None:
    result = cli(*args)
    assert result.returncode == code, result.stderr
    assert says in result.stderr
    ours = [line for line in result.stderr.splitlines() if not line.startswith("  | ")]
    assert "Traceback" not in "\n".join(ours)  # the app's own logs may hold one


def test_a_failed_task_with_json_prints_the_task(cli: Cli) -> None:
    result = cli("run", "infsh/fail", "-i", "message=no luck", "--json")
    assert result.returncode == 1
    task = json.loads(result.stdout)
    assert (task["status"], task["error"]) == ("failed", "no luck")
    assert result.stderr.strip() == f"task {task['id']} failed: no luck"


def test_without_a_key_it_says_what_to_set(cli: Cli) -> None:
    result = cli("run", "infsh/echo", env={"INFERENCE_API_KEY": ""})
    assert result.returncode == 2
    assert "INFERENCE_API_KEY" in result.stderr


def test_the_key_and_url_options_win_over_the_environment(cli: Cli, server: Any) -> None:
    env = {"INFERENCE_API_KEY": "sk-wrong", "INFERENCE_BASE_URL": "http://127.0.0.1:9"}
    args = ["--api-key", API_KEY, "--base-url", server.base_url]
    result = cli("run", "infsh/echo", "-i", "x=1", *args, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"x": 1}


def _start_gated(
    cli_env: dict[str, str], gates: Gates, *extra: str
) -> tuple[subprocess.Popen[str], str]:
    gate = gates.new()
    proc = subprocess.Popen(
        [*MAIN, "run", "test/gate", "-i", f"gate={gate}", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "status: running" in line:
            break
    else:
        raise AssertionError(proc.communicate(timeout=10))
    assert gates.wait_started(gate)
    return proc, gate


@pytest.mark.parametrize("cancel", [False, True], ids=["leaves-it-running", "cancel-on-interrupt"])
def test_ctrl_c_says_the_task_is_still_running_and_shows_its_id(
    cli_env: dict[str, str], gates: Gates, server: Any, cancel: bool
) -> None:
    extra = ["--cancel-on-interrupt"] if cancel else []
    proc, gate = _start_gated(cli_env, gates, *extra)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert stdout == ""
    task_id = re.search(r"Interrupted: task (tsk_\w+) is still running\.", stderr)
    assert task_id, stderr
    assert "Traceback" not in stderr
    with inference(API_KEY, base_url=server.base_url) as client:
        if cancel:
            assert f"Cancelled task {task_id.group(1)}." in stderr
            with pytest.raises(TaskCancelledError):
                client.tasks.wait(task_id.group(1))
        else:
            assert f"inferencesh tasks wait {task_id.group(1)}" in stderr
            assert client.tasks.get(task_id.group(1)).status == TaskStatus.RUNNING
            gates.open(gate)
            assert client.tasks.wait(task_id.group(1)).status == TaskStatus.COMPLETED
