"""The commands that talk to the API (`run`, `tasks`, `files`, `chat`): parsing and dispatch.

They need the `cli` extra (rich, for the live display); `serve` and `demo` do not, so a
`[local]`-only install keeps them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from inferencesh.cli._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CommandError,
    require_cli_extra,
)

__all__ = ["API_COMMANDS", "add_api_commands", "dispatch"]

API_COMMANDS = frozenset({"run", "tasks", "files", "chat"})


def add_api_commands(commands: argparse._SubParsersAction[Any]) -> None:  # pyright: ignore[reportPrivateUsage]
    """Add `run`, `tasks`, `files` and `chat` to the command line."""
    from inferencesh.cli._chat import add_chat_command
    from inferencesh.cli._files import add_files_command
    from inferencesh.cli._run import add_run_command
    from inferencesh.cli._tasks import add_tasks_command

    add_run_command(commands)
    add_tasks_command(commands)
    add_files_command(commands)
    add_chat_command(commands)


def dispatch(args: argparse.Namespace) -> int:
    """Run one API command; every failure is one line on stderr and an exit code."""
    from inferencesh import (
        ConfigurationError,
        FileInputError,
        InferenceError,
        InvalidInputError,
        NotFoundError,
    )

    try:
        require_cli_extra()
        if args.command == "run":
            from inferencesh.cli._run import run

            return run(args)
        if args.command == "chat":
            from inferencesh.cli._chat import chat

            return chat(args)
        if args.command == "tasks":
            from inferencesh.cli._tasks import tasks

            return tasks(args)
        from inferencesh.cli._files import files

        return files(args)
    except CommandError as exc:
        return _fail(str(exc), exc.code)
    except (ConfigurationError, FileInputError, InvalidInputError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except NotFoundError as exc:
        return _fail(f"not found: {exc}", EXIT_FAILED)
    except InferenceError as exc:
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_FAILED)
    except KeyboardInterrupt:
        sys.stderr.write("\nInterrupted.\n")
        return EXIT_INTERRUPTED


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"inferencesh: {message}\n")
    return code
