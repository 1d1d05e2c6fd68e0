"""The `inferencesh` command, run as users run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from inferencesh import inference

CLI = [sys.executable, "-m", "inferencesh.cli._main"]


@pytest.fixture
def served() -> Iterator[str]:
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--api-key", "sk-cli"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = None
        for line in proc.stdout:  # reads until the server announces itself
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if match:
                url = match.group(1)
                break
        assert url, "serve did not print its URL"
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # also closes the pipe


def test_serve_prints_a_url_that_serves_the_api(served: str) -> None:
    with inference("sk-cli", base_url=served) as client:
        assert client.run("infsh/echo", {"text": "hi"}).output == {"text": "hi"}


def test_run_prints_the_output_as_json(served: str) -> None:
    env = {**os.environ, "INFERENCE_API_KEY": "sk-cli", "INFERENCE_BASE_URL": served}
    result = subprocess.run(
        [*CLI, "run", "infsh/text-templating", '{"template": "Hi {1}", "strings": ["cli"]}'],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"text": "Hi cli"}
    assert "completed" in result.stderr  # the progress line


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", "infsh/echo", "{not json"], 2, "input is not JSON"),
        (["run", "no-such/app", "{}"], 1, "not found"),
    ],
)
def test_run_errors_are_clear(served: str, args: list[str], code: int, message: str) -> None:
    env: dict[str, Any] = {
        **os.environ,
        "INFERENCE_API_KEY": "sk-cli",
        "INFERENCE_BASE_URL": served,
    }
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == code
    assert message in result.stderr


def test_run_without_a_key_says_what_to_set() -> None:
    env = {k: v for k, v in os.environ.items() if k != "INFERENCE_API_KEY"}
    result = subprocess.run(
        [*CLI, "run", "infsh/echo", "{}"], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 1
    assert "INFERENCE_API_KEY" in result.stderr


def test_demo_runs_every_section() -> None:
    result = subprocess.run([*CLI, "demo", "--fast"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for text in ("completed", "delta", "picked up", "TaskFailedError", "image.png"):
        assert text in result.stdout, text
