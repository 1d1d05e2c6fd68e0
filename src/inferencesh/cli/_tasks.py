"""`inferencesh tasks get|list|cancel|logs|wait`: look after tasks already started."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from inferencesh.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    add_client_arguments,
    dump,
    jsonable,
    make_client,
    say,
    task_summary,
)
from inferencesh.cli._display import LogTracker
from inferencesh.cli._follow import add_follow_arguments, follow

if TYPE_CHECKING:
    from inferencesh import Inference, Task

__all__ = ["add_tasks_command", "tasks"]

_STATUSES = (
    "received queued dispatched preparing serving setting_up running cancelling uploading "
    "completed failed cancelled rejected"
).split()


def add_tasks_command(commands: argparse._SubParsersAction[Any]) -> None:  # pyright: ignore[reportPrivateUsage]
    """The `tasks` command and its subcommands."""
    parser = commands.add_parser("tasks", help="look up, follow and cancel tasks")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    get = sub.add_parser("get", help="print a task as JSON (its output's files as URIs)")
    get.add_argument("task_id", metavar="ID")
    add_client_arguments(get)

    listing = sub.add_parser("list", help="your latest tasks, newest first")
    listing.add_argument("--limit", type=int, default=20, help="how many (20)")
    listing.add_argument("--status", choices=_STATUSES, default=None, help="only this status")
    listing.add_argument("--app", default=None, metavar="APP_ID", help="only this app's tasks")
    listing.add_argument("--cursor", default=None, help="the next page's cursor, as printed")
    add_client_arguments(listing)

    cancel = sub.add_parser("cancel", help="ask the server to cancel a task")
    cancel.add_argument("task_id", metavar="ID")
    add_client_arguments(cancel)

    logs = sub.add_parser("logs", help="print a task's logs")
    logs.add_argument("task_id", metavar="ID")
    logs.add_argument(
        "--follow", "-f", action="store_true", help="keep printing new lines until the task ends"
    )
    add_client_arguments(logs)

    wait = sub.add_parser("wait", help="follow a task to its end and print its output")
    wait.add_argument("task_id", metavar="ID")
    add_follow_arguments(wait)
    add_client_arguments(wait)


def tasks(args: argparse.Namespace) -> int:
    """Carry out `tasks ACTION`; the exit code."""
    from inferencesh import TaskStatus

    with make_client(args) as client:
        if args.action == "get":
            task = client.tasks.get(args.task_id)
            summary = task_summary(task)
            summary["input"] = jsonable(task.input)
            dump(summary, pretty=not args.json)
            return EXIT_OK
        if args.action == "list":
            status = TaskStatus.parse(args.status) if args.status else None
            page = client.tasks.list(
                limit=args.limit, cursor=args.cursor, status=status, app_id=args.app
            )
            if args.json:
                dump(
                    {
                        "items": [task_summary(t) for t in page.items],
                        "next_cursor": page.next_cursor,
                    },
                    pretty=False,
                )
            else:
                _table(page.items)
                if page.has_next and page.next_cursor:
                    say(f"more: inferencesh tasks list --cursor {page.next_cursor}")
            return EXIT_OK
        if args.action == "cancel":
            return _cancel(client, args)
        if args.action == "logs":
            return _logs(client, args)
        return follow(client, lambda: args.task_id, args)


def _cancel(client: Inference, args: argparse.Namespace) -> int:
    from inferencesh import ConflictError

    try:
        client.tasks.cancel(args.task_id)
    except ConflictError:
        status = client.tasks.get(args.task_id).status.label
        raise CommandError(f"task {args.task_id} has already ended ({status})") from None
    if args.json:
        dump({"id": args.task_id, "cancel_requested": True}, pretty=False)
    else:
        say(f"cancel requested for task {args.task_id}")
    return EXIT_OK


def _logs(client: Inference, args: argparse.Namespace) -> int:
    if not args.follow:
        logs = client.tasks.logs(args.task_id)
        if args.json:
            dump([log.model_dump(mode="json") for log in logs.logs], pretty=False)
            return EXIT_OK
        for log in logs.logs:
            for line in log.content.splitlines():
                print(line, flush=True)
        return EXIT_OK
    # --follow: each line once, as it comes, until the task ends.
    shown = LogTracker()
    status = "unknown"
    with client.tasks.stream(args.task_id) as updates:
        for update in updates:
            for line in shown.new_lines(update.data.get("logs")):
                print(line, flush=True)
            status = update.status.label
    if status != "completed":
        say(f"task {args.task_id} {status}")
        return EXIT_FAILED
    return EXIT_OK


def _table(items: list[Task]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("ID", "APP", "STATUS", "CREATED"):
        table.add_column(column, no_wrap=True)
    for task in items:
        created = task.created_at.strftime("%Y-%m-%d %H:%M:%S") if task.created_at else ""
        table.add_row(task.id, task.app_id or "", task.status.label, created)
    Console(highlight=False, soft_wrap=True).print(table)
