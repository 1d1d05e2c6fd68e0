"""The `inferencesh` command run as users run it: a subprocess against the session's emulator.

`cli` runs the command with the key and URL in its environment and returns what it printed;
`Terminal` runs it on a pseudo-terminal (the live display, Ctrl-C, the cancel prompt);
`start_serve` starts `inferencesh serve` on a free port and returns once it listens.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from inferencesh.local import AppContext, Emulator, LocalFile
from tests.conftest import API_KEY

# The console script pip installed beside this interpreter: the command users type.
COMMAND = str(Path(sys.executable).with_name("inferencesh"))
MAIN = [COMMAND]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB0-9]|\r")

# Runs the command as the leader of a new session whose controlling terminal is the pty on
# its stdin, so the terminal's ^C reaches it as SIGINT, as in a real shell.
LOGIN_TTY = (
    "import os, sys; os.login_tty(os.open(os.ttyname(0), os.O_RDWR)); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


@pytest.fixture(scope="session")
def cli_env(server: Any, emulator: Emulator) -> dict[str, str]:
    _add_apps(emulator)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFERENCE_", "FORCE_COLOR"))}
    return {
        **env,
        "INFERENCE_API_KEY": API_KEY,
        "INFERENCE_BASE_URL": server.base_url,
        "PYTHONUNBUFFERED": "1",
        "NO_COLOR": "1",
    }


def _add_apps(emulator: Emulator) -> None:
    @emulator.app("cli/two-images")
    def two_images(ctx: AppContext, input: dict[str, Any]) -> dict[str, Any]:
        # Two outputs with one name: --out must keep both.
        return {
            "images": [
                LocalFile(b"first", filename="image.png", content_type="image/png"),
                LocalFile(b"second", filename="image.png", content_type="image/png"),
            ]
        }


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(
        *args: str, input: str | None = None, env: dict[str, str] | None = None, **kw: Any
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*MAIN, *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
            env={**cli_env, **(env or {})},
            **kw,
        )

    return run


class Terminal:
    """The command on a pseudo-terminal: read its screen output, type into it."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LOGIN_TTY, COMMAND, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "30"},
            cwd=cwd,
        )
        os.close(slave)
        self._fd = master
        self.raw = ""
        self._seen = 0

    @property
    def text(self) -> str:
        """Everything shown so far, without escape sequences."""
        return ANSI.sub("", self.raw)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self._fd, 65536)
        except OSError:  # EIO: the command exited and closed the terminal
            return False
        if not chunk:
            return False
        self.raw += chunk.decode("utf-8", "replace")
        return True

    def expect(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """Wait until the output after the last match shows `pattern` (a regex)."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.compile(pattern).search(self.text, self._seen)
            if match:
                self._seen = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.5)) and self.proc.poll() is not None:
                raise AssertionError(f"{pattern!r} never showed; the screen:\n{self.text}")

    def type(self, text: str) -> None:
        os.write(self._fd, text.encode())

    def wait(self, timeout: float = 30) -> int:
        """Read until the command exits; its exit code."""
        deadline = time.monotonic() + timeout
        while self._read(0.2) and time.monotonic() < deadline:
            if self.proc.poll() is not None and not select.select([self._fd], [], [], 0)[0]:
                break
        return self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        os.close(self._fd)


@pytest.fixture
def terminal(cli_env: dict[str, str]) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def start(*args: str, cwd: Path | None = None) -> Terminal:
        term = Terminal(list(args), cli_env, cwd)
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()


def start_serve(*args: str) -> tuple[subprocess.Popen[str], str]:
    """`python -m inferencesh serve --port 0 ARGS...`, once it announced its URL.

    The caller stops it (SIGINT or terminate) and reads its output with `communicate`.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "inferencesh", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if match:
            return proc, match.group(1)
    proc.kill()
    raise AssertionError(f"serve did not start: {proc.communicate(timeout=10)}")
