"""Every example runs against the emulator and prints what it promises."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"

# What each example must print (every string of a tuple).
EXPECTED: dict[str, str | tuple[str, ...]] = {
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
    "agent_tools.py": 'failed (tool_error): {"error": "no weather station in Atlantis"}',
    "agent_template.py": "tool: shipped on Monday",
    "agent_approval.py": (
        "ran: refunded 30 on A-17",
        "denied by the callback: The user refused this call.",
        "approved by the policy",
    ),
    "agent_rag.py": 'retrieved: {"passages": ["Refunds are paid within 14 days',
    "agent_memory.py": (
        "resumed in the same chat: True",
        "  user: My name is Ada and I like tide pools.",
        "after reset(), a new chat: True",
    ),
    "agent_structured_output.py": ("priority urgent, order 1042", "(it gave {'priority': 'soon'})"),
    "agent_testing.py": "3 passed",
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
    expected = EXPECTED[name]
    for text in (expected,) if isinstance(expected, str) else expected:
        assert text in result.stdout, result.stdout
    # Nothing said twice in a row (stream_progress.py used to print every step twice).
    lines = result.stdout.splitlines()
    assert all(a != b for a, b in zip(lines, lines[1:], strict=False)), result.stdout
