"""Following a task to its end for `run` and `tasks wait`: the display, Ctrl-C, the result.

Ctrl-C while following never cancels silently, and never leaves silently either: it says the
task is still running and shows its id, then cancels it with `--cancel-on-interrupt`, asks
(on a terminal), or says how to pick it up again; the exit code is 130 in every case.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inferencesh.cli._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    dump,
    say,
    stderr_console,
    task_summary,
)
from inferencesh.cli._display import TaskDisplay

if TYPE_CHECKING:
    from inferencesh import File, Inference

__all__ = ["add_follow_arguments", "follow"]


def add_follow_arguments(parser: argparse.ArgumentParser) -> None:
    """`--out`, `--cancel-on-interrupt` and `--wait-timeout`, for `run` and `tasks wait`."""
    parser.add_argument(
        "--out",
        "-o",
        metavar="DIR",
        default=None,
        help="download the output's files into DIR (the result then shows their paths)",
    )
    parser.add_argument(
        "--cancel-on-interrupt",
        action="store_true",
        help="cancel the task on Ctrl-C instead of asking (or leaving it running)",
    )
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop waiting after this long (exit 1; the task keeps running)",
    )


def follow(
    client: Inference,
    start: Callable[[], str],
    args: argparse.Namespace,
    *,
    app: str | None = None,
) -> int:
    """Follow the task `start()` names (it may create it); print its result; the exit code."""
    from inferencesh import TaskError, TaskTimeoutError

    display = TaskDisplay(stderr_console(), app=app, enabled=not args.json)
    try:
        with display:
            display.started(start())
            with client.tasks.stream(display.task_id or "", wait_timeout=args.wait_timeout) as s:
                for update in s:
                    display.update(update)
                task = s.result()
    except KeyboardInterrupt:
        display.close()
        return _interrupted(client, display.task_id, args)
    except TaskError as exc:
        display.finish(exc.task.status, exc.task.error)
        if args.json:  # no display: the reason on stderr, the task on stdout
            say(
                f"task {exc.task.id} {exc.task.status.label}: {exc.task.error or 'no reason given'}"
            )
            dump(task_summary(exc.task))
        return EXIT_FAILED
    except TaskTimeoutError as exc:
        display.close()
        task_id = exc.task_id or display.task_id
        say(f"gave up waiting after {args.wait_timeout:g}s; task {task_id} keeps running")
        if args.json:
            dump({"id": task_id, "status": "running", "timed_out": True})
        return EXIT_FAILED
    display.finish(task.status)
    output = task.output
    if args.out is not None:
        output = download_files(output, Path(args.out))
    if args.json:
        dump(task_summary(task, output))
    else:
        dump(output)
    return EXIT_OK


def download_files(output: Any, out: Path) -> Any:
    """`output` with every file saved into `out` and replaced by its path."""
    from inferencesh import File

    taken: set[Path] = set()

    def walk(value: Any) -> Any:
        if isinstance(value, File):
            return _save(value, out, taken)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
        if isinstance(value, list):
            return [walk(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
        return value

    return walk(output)


def _save(file: File, out: Path, taken: set[Path]) -> str:
    first = out / file.name
    if first not in taken:
        dest: Path | str = f"{out}{os.sep}"  # the client checks the server's name is safe
    else:  # two outputs with one name: keep both
        stem, dot, suffix = file.name.rpartition(".")
        stem, suffix = (stem, dot + suffix) if dot and stem else (file.name, "")
        n = 2
        while (out / f"{stem}-{n}{suffix}") in taken:
            n += 1
        dest = out / f"{stem}-{n}{suffix}"
    path = file.download(dest)
    taken.add(path)
    return str(path)


def _interrupted(client: Inference, task_id: str | None, args: argparse.Namespace) -> int:
    """Ctrl-C while following: say so, then cancel, ask, or leave the task running."""
    if task_id is None:
        say("Interrupted before the task was created; see `inferencesh tasks list` in case it was.")
        return EXIT_INTERRUPTED
    say(f"Interrupted: task {task_id} is still running.")
    cancel = args.cancel_on_interrupt or (not args.json and _ask(f"Cancel task {task_id}? [y/N] "))
    status = "running"
    if cancel:
        from inferencesh import ConflictError

        try:
            client.tasks.cancel(task_id)
            status = "cancelling"
            say(f"Cancelled task {task_id}.")
        except ConflictError:
            status = client.tasks.get(task_id).status.label
            say(f"Task {task_id} had already ended ({status}).")
    else:
        say(f"Left running. Follow it: inferencesh tasks wait {task_id}")
        say(f"             Cancel it: inferencesh tasks cancel {task_id}")
    if args.json:
        dump({"id": task_id, "status": status, "interrupted": True})
    return EXIT_INTERRUPTED


def _ask(question: str) -> bool:
    """A yes/no question on the terminal; no terminal, EOF or another Ctrl-C mean no."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    try:
        sys.stderr.write(question)
        sys.stderr.flush()
        answer = sys.stdin.readline()
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("\n")
        return False
    return answer.strip().lower() in ("y", "yes")
