"""On a terminal: the live display, and Ctrl-C with the question whether to cancel."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from inferencesh import TaskCancelledError, TaskStatus, inference
from tests.cli.conftest import Terminal
from tests.conftest import API_KEY, Gates


def test_the_live_display_shows_status_progress_and_logs(
    terminal: Callable[..., Terminal],
) -> None:
    term = terminal("run", "infsh/slow", "-i", "steps=3", "-i", "interval=0.3")
    head = term.expect(r"infsh/slow (tsk_\w+) (received|running)")
    task_id = head.group(1)
    term.expect(r"━+ 100% step 3 of 3")  # the bar, its percentage and the app's message
    term.expect(r"  \| step 3/3")  # the tail of the logs
    term.expect(rf"✓ completed task {task_id} in [\d.]+s")
    assert term.wait() == 0
    result = term.text[term.text.index("✓ completed") :].split("\n", 1)[1]
    assert json.loads(result) == {"steps": 3}
    assert term.text.count("✓ completed") == 1  # the live view is gone, one summary stays


@pytest.mark.parametrize(
    ("answer", "cancelled"),
    [("y\n", True), ("n\n", False), ("\x03", False)],
    ids=["yes-cancels", "no-leaves-it-running", "ctrl-c-again-leaves-it-running"],
)
def test_ctrl_c_asks_whether_to_cancel_the_task(
    terminal: Callable[..., Terminal], gates: Gates, server: Any, answer: str, cancelled: bool
) -> None:
    gate = gates.new()
    term = terminal("run", "test/gate", "-i", f"gate={gate}")
    task_id = term.expect(r"test/gate (tsk_\w+) running").group(1)
    term.type("\x03")  # Ctrl-C, through the terminal
    term.expect(rf"Interrupted: task {task_id} is still running\.")
    term.expect(rf"Cancel task {task_id}\? \[y/N\]")
    term.type(answer)
    if cancelled:
        term.expect(rf"Cancelled task {task_id}\.")
    else:
        term.expect(rf"Left running\. Follow it: inferencesh tasks wait {task_id}")
    assert term.wait() == 130
    assert "Traceback" not in term.text
    with inference(API_KEY, base_url=server.base_url) as client:
        if cancelled:
            with pytest.raises(TaskCancelledError):
                client.tasks.wait(task_id)
        else:
            assert client.tasks.get(task_id).status == TaskStatus.RUNNING
            gates.open(gate)
            assert client.tasks.wait(task_id).output == {"value": None}
