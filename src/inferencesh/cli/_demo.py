"""`inferencesh demo`: the SDK's task and agent features on an in-process emulator."""

from __future__ import annotations

import sys
import tempfile

from inferencesh.cli._common import require_local_extra
from inferencesh.cli._progress import ProgressLine


def _say(text: str = "") -> None:
    print(text, flush=True)


def _heading(n: int, title: str) -> None:
    _say()
    _say(f"{n}. {title}")
    _say("-" * (len(title) + 3))


def demo(*, fast: bool = False, yes: bool = False) -> int:
    """Start the emulator, then show tasks (waiting, streaming, errors, files), then an agent.

    Args:
        fast: Shorter runs of the slow app.
        yes: Approve the agent's call that needs approval without asking.
    """
    require_local_extra()
    from inferencesh import TaskFailedError
    from inferencesh.cli._demo_agent import prepare, show_agent
    from inferencesh.local import Emulator, running

    steps = 8 if fast else 20
    emulator = Emulator()
    prepare(emulator)
    with running(emulator) as server, server.client() as client:
        _say(f"Local inference.sh emulator on {server.base_url}")

        _heading(1, "Run a task and wait, with a live progress bar")
        with ProgressLine(sys.stdout) as line:
            task = client.run("infsh/slow", {"steps": steps}, on_update=line.update)
        _say(f"task {task.id} {task.status.label}: {task.output}")

        _heading(2, "Stream a run's updates as they happen")
        with client.run(
            "infsh/llm-echo", {"text": "streams arrive token by token"}, stream=True
        ) as updates:
            for update in updates:
                if update.delta is not None:
                    _say(f"  delta    {update.output.get('response', '')!r}")
                else:
                    _say(f"  {update.status.label}")

        _heading(3, "Fire and forget, pick the result up later")
        created = client.run(
            "infsh/text-templating", {"template": "Hello {1}!", "strings": ["later"]}, wait=False
        )
        _say(f"created {created.id} ({created.status.label}); doing other work...")
        done = client.tasks.wait(created.id)
        _say(f"picked up {done.id}: {done.output}")

        _heading(4, "A failing app raises a typed error")
        try:
            client.run("infsh/fail", {"message": "the model ran out of ideas"})
        except TaskFailedError as exc:
            _say(f"TaskFailedError: {exc}")
            _say(
                f"  exc.task.status = {exc.task.status.label}, exc.task.error = {exc.task.error!r}"
            )

        _heading(5, "An app that draws a PNG, downloaded as a file")
        drawn = client.run("infsh/draw-image", {"prompt": "a red disc", "width": 64, "height": 32})
        with tempfile.TemporaryDirectory() as folder:
            path = drawn.output["image"].download(folder)
            size = f"{drawn.output['width']}x{drawn.output['height']}"
            _say(f"{path.name}: {path.stat().st_size} bytes, {size}")

        _heading(6, "An agent, streamed: your tools, an app tool, a sub-agent, an approval")
        show_agent(client, _say, yes=yes)
    _say()
    _say("Done. Point the same code at the real API by setting INFERENCE_API_KEY.")
    return 0
