"""`inferencesh run APP`: run an app, show its progress, print its output as JSON."""

from __future__ import annotations

import argparse
from typing import Any

from inferencesh.cli._common import EXIT_OK, add_client_arguments, dump, make_client, say
from inferencesh.cli._follow import add_follow_arguments, follow
from inferencesh.cli._inputs import build_input

__all__ = ["add_run_command", "run"]


def add_run_command(commands: argparse._SubParsersAction[Any]) -> None:  # pyright: ignore[reportPrivateUsage]
    """The `run` command's arguments."""
    parser = commands.add_parser(
        "run",
        help="run an app: live progress, then its output as JSON",
        description="Run an app and wait for it, showing its status, progress and logs; "
        "print its output as JSON on stdout (files as their URIs, or paths with --out).",
    )
    parser.add_argument("app", help="the app, e.g. infsh/echo or me/app@version")
    parser.add_argument(
        "input_json",
        nargs="?",
        default=None,
        metavar="INPUT",
        help="the input as JSON (the same as --input)",
    )
    parser.add_argument(
        "--input",
        dest="input_flag",
        default=None,
        metavar="JSON|@FILE",
        help="the input: JSON text, @file.json, or @- to read stdin",
    )
    parser.add_argument(
        "-i",
        dest="pairs",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one input field (repeatable): VALUE as JSON if it parses, else text; "
        "@path uploads a file; a.b=1 sets a nested field",
    )
    parser.add_argument("--function", default=None, help="the entry point of a multi-function app")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="start the task, print its id and exit (follow it with `tasks wait`)",
    )
    add_follow_arguments(parser)
    add_client_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the app the arguments name; the exit code."""
    if args.input_json is not None and args.input_flag is not None:
        from inferencesh.cli._common import EXIT_USAGE, CommandError

        raise CommandError("give the input once: as INPUT or as --input", EXIT_USAGE)
    data = build_input(args.input_json or args.input_flag, args.pairs)
    with make_client(args) as client:
        if args.no_wait:
            task = client.run(args.app, data, function=args.function, wait=False)
            if args.json:
                dump({"id": task.id, "status": task.status.label})
            else:
                print(task.id, flush=True)
                say(f"started task {task.id}; follow it: inferencesh tasks wait {task.id}")
            return EXIT_OK
        # Created first, then followed: the id is known (and shown) before any update.
        start = lambda: client.run(args.app, data, function=args.function, wait=False).id  # noqa: E731
        return follow(client, start, args, app=args.app)
