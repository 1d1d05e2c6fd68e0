"""Every example runs against the emulator and prints what it promises."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"

EXPECTED = {
    "quickstart.py": "completed {'text': 'Hello World!'}",
    "stream_progress.py": "output: {'steps': 5}",
    "fire_and_forget.py": "failed as expected: out of ideas",
    "async_tasks.py": "9 {",
    "files.py": "PNG: True",
    "sessions.py": "new session, counter = 1",
    "batch.py": "11 done, 1 failed: {'picture 7': 'no ideas'}",
    "error_recovery.py": "cancelled: cancelled",
    "tools_basics.py": "validation error (sent back to the model):",
    "agent_as_tool.py": "researcher: turn.finished",
    "agent_chain.py": "editor: You said: You said: You said: A short note on tide pools.",
    "agent_fan_out.py": "Riga: You said: One fact about Riga",
    "agent_supervisor.py": "supervisor called forecast:",
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
    assert EXPECTED[name] in result.stdout, result.stdout
    # Nothing said twice in a row (stream_progress.py used to print every step twice).
    lines = result.stdout.splitlines()
    assert all(a != b for a, b in zip(lines, lines[1:], strict=False)), result.stdout
