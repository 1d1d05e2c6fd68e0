"""Every example runs against the emulator and prints what it promises."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"

EXPECTED = {
    "quickstart.py": "completed {'text': 'Hello World!'}",
    "stream_progress.py": "output:",
    "fire_and_forget.py": "failed as expected: out of ideas",
    "async_tasks.py": "9 {",
    "files_and_sessions.py": "same worker, counter = 2",
}


# The proxy examples are servers: tests/proxy/ runs them against the emulator and drives
# them with the official JS SDK under node and in Chromium.
SERVERS = {"proxy_fastapi.py", "proxy_flask.py"}


@pytest.mark.parametrize(
    "name", sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in SERVERS)
)
def test_example_runs(name: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    expected = EXPECTED.get(name)
    if expected is not None:
        assert expected in result.stdout, result.stdout
