"""`inferencesh demo` as people run it: in a pipe (as CI does), with `--yes`, on a terminal.

The demo starts its own emulator in-process. Its last section streams one turn of an agent
whose model is scripted: it asks a server-side sub-agent (`researcher`, whose own model calls
`get_weather`), fills a note with an app tool (`infsh/text-templating`), then calls
`send_email`, which needs approval; `outbox:` says what `send_email` actually sent.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from tests.cli.conftest import Terminal
from tests.cli.test_tasks_and_files import BLOCK_RICH

Cli = Callable[..., subprocess.CompletedProcess[str]]

NOTE = "Hi Ada! 18 degrees, sunny."  # the app's output, made of the sub-agent's answer
SENT = "sent to ada@example.com"  # send_email's result, only if it ran


def _lines_with(text: str, *parts: str) -> list[str]:
    return [line for line in text.splitlines() if all(p in line for p in parts)]


def _shows_the_tools_before_the_approval(out: str) -> None:
    # The sub-agent's events are labelled with its name; its get_weather ran in the demo.
    assert _lines_with(out, "[researcher]", "get_weather(city='Paris')")
    assert _lines_with(out, "[researcher]", "18 degrees and sunny in Paris")
    assert _lines_with(out, "research(message=")
    assert _lines_with(out, "write_note(", "Ada")  # the app tool, called...
    assert _lines_with(out, NOTE)  # ...and what the app returned
    assert _lines_with(out, "send_email(", "ada@example.com")


def test_in_a_pipe_every_section_runs_and_the_approval_is_refused_saying_why(cli: Cli) -> None:
    result = cli("demo", "--fast", stdin=subprocess.DEVNULL)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("completed", "delta", "picked up", "TaskFailedError", "image.png"):
        assert text in out, text
    _shows_the_tools_before_the_approval(out)
    [why] = _lines_with(out, "stdin is not a terminal")
    assert "send_email" in why and "--yes" in why
    assert _lines_with(out, "send_email refused")
    assert SENT not in out  # the refused call never ran...
    assert "outbox: nothing" in out
    assert "not approved" in out  # ...and the model's answer says so
    assert "Traceback" not in result.stderr


def test_yes_approves_and_the_call_runs_also_without_the_cli_extra(cli: Cli) -> None:
    # Without rich (a `local`-only install) the agent's turn is drawn in plain text.
    result = cli("demo", "--fast", "--yes", stdin=subprocess.DEVNULL)
    plain = subprocess.run(
        [sys.executable, "-c", BLOCK_RICH, "demo", "--fast", "-y"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )

    for run in (result, plain):
        assert run.returncode == 0, run.stderr
        _shows_the_tools_before_the_approval(run.stdout)
        assert _lines_with(run.stdout, "send_email approved (--yes)")
        assert _lines_with(run.stdout, SENT)  # the approved tool's result
        assert "outbox: ada@example.com" in run.stdout
        assert "stdin is not a terminal" not in run.stdout


def test_on_a_terminal_yes_runs_the_call(terminal: Callable[..., Terminal]) -> None:
    term = terminal("demo", "--fast")
    term.expect(r"\[researcher\] 18 degrees and sunny in Paris")
    term.expect(r"allow send_email\(to='ada@example\.com'.*\[y/N\]")
    term.type("y\n")
    term.expect(SENT)
    term.expect(r"concierge> Done")
    term.expect("outbox: ada@example.com")
    assert term.wait() == 0


def test_on_a_terminal_no_refuses_the_call(terminal: Callable[..., Terminal]) -> None:
    term = terminal("demo", "--fast")
    term.expect(r"allow send_email\(.*\[y/N\]")
    term.type("n\n")
    term.expect(r"✗ send_email refused")
    term.expect("not approved")
    term.expect("outbox: nothing")
    assert term.wait() == 0
    assert SENT not in term.text
    assert "not a terminal" not in term.text
