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


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_runs(name: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    expected = EXPECTED.get(name)
    if expected is not None:
        assert expected in result.stdout, result.stdout
