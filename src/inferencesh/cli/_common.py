"""What the API commands share: exit codes, the client, JSON output, messages.

Exit codes (documented in docs/cli.md):

| code | meaning |
| --- | --- |
| 0 | done |
| 1 | the task failed or was cancelled, or the API refused or could not be reached |
| 2 | usage: bad arguments or input, no API key, a missing extra |
| 130 | interrupted (Ctrl-C); a task that was running keeps running unless cancelled |
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

if TYPE_CHECKING:
    from rich.console import Console

    from inferencesh import Inference, Task

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandError",
    "add_client_arguments",
    "dump",
    "jsonable",
    "make_client",
    "require_cli_extra",
    "require_local_extra",
    "stderr_console",
    "task_summary",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A failure the command reports in one line on stderr, then exits with `code`."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def require_cli_extra() -> None:
    """Fail with instructions when the command line's own dependencies are missing."""
    try:
        import rich  # noqa: F401  # pyright: ignore[reportUnusedImport]
    except ImportError:
        raise CommandError(
            "this command needs the command-line extra (rich is missing): "
            "pip install 'inferencesh[cli]'",
            EXIT_USAGE,
        ) from None


def require_local_extra() -> None:
    """Fail with instructions when the emulator's server dependencies are missing."""
    try:
        import starlette  # noqa: F401  # pyright: ignore[reportUnusedImport]
        import uvicorn  # noqa: F401  # pyright: ignore[reportUnusedImport]
    except ImportError as exc:
        missing = exc.name or "starlette or uvicorn"
        raise CommandError(
            f"this command needs the local emulator ({missing} is missing): "
            "pip install 'inferencesh[local]'",
            EXIT_USAGE,
        ) from None


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    """`--api-key`, `--base-url` and `--json`, which every API command takes."""
    parser.add_argument(
        "--api-key", default=None, metavar="KEY", help="API key (default: INFERENCE_API_KEY)"
    )
    parser.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="the API's URL (default: INFERENCE_BASE_URL, else https://api.inference.sh)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="machine output: only JSON on stdout, no progress display",
    )


def make_client(args: argparse.Namespace) -> Inference:
    """The sync client the options describe (`ConfigurationError` without a key)."""
    from inferencesh import inference

    return inference(args.api_key, base_url=args.base_url)


def stderr_console() -> Console:
    """Where progress, prompts and messages go, so stdout stays the result."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def jsonable(value: Any) -> Any:
    """`value` with files turned into their URIs (or saved paths) and models into dicts."""
    from inferencesh import FileRef

    if isinstance(value, FileRef):
        return value.uri
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        items = cast("Mapping[object, Any]", value)
        return {str(k): jsonable(v) for k, v in items.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in cast("list[Any]", value)]
    return value


def dump(value: Any, *, pretty: bool = True) -> None:
    """Print `value` as JSON on stdout (indented unless `pretty` is False)."""
    text = json.dumps(jsonable(value), indent=2 if pretty else None, default=str)
    print(text, flush=True)


def task_summary(task: Task, output: Any = None) -> dict[str, Any]:
    """The task as `--json` prints it: id, app id, status, output (files as URIs or paths)."""
    return {
        "id": task.id,
        "app_id": task.app_id,
        "status": task.status.label,
        "output": jsonable(task.output if output is None else output),
        "error": task.error,
        "session_id": task.session_id,
        "created_at": task.created_at.isoformat() if task.created_at else None,
        "updated_at": task.updated_at.isoformat() if task.updated_at else None,
    }


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Stop the command with `message` on stderr."""
    raise CommandError(message, code)


def say(text: str) -> None:
    """A plain line on stderr (messages never go to stdout, which carries results)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
