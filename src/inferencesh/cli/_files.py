"""`inferencesh files upload PATH...` and `files download URI [DIR]`."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Generator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inferencesh.cli._common import (
    EXIT_OK,
    add_client_arguments,
    dump,
    make_client,
    stderr_console,
)

if TYPE_CHECKING:
    from inferencesh import File

__all__ = ["add_files_command", "files"]


def add_files_command(commands: argparse._SubParsersAction[Any]) -> None:  # pyright: ignore[reportPrivateUsage]
    """The `files` command and its subcommands."""
    parser = commands.add_parser("files", help="upload and download files")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    upload = sub.add_parser("upload", help="upload files; print each one's URI")
    upload.add_argument("paths", nargs="+", metavar="PATH")
    add_client_arguments(upload)

    download = sub.add_parser("download", help="download a file by URI (or id); print its path")
    download.add_argument("uri", metavar="URI")
    download.add_argument(
        "dest", nargs="?", default=".", metavar="DIR", help="where to save it (default: here)"
    )
    add_client_arguments(download)


def files(args: argparse.Namespace) -> int:
    """Carry out `files ACTION`; the exit code."""
    with make_client(args) as client:
        if args.action == "upload":
            uploaded: list[File] = []
            for path in args.paths:
                with _progress(Path(path).name, enabled=not args.json) as on_progress:
                    file = client.files.upload(path, on_progress=on_progress)
                uploaded.append(file)
                if not args.json:
                    print(file.uri, flush=True)
            if args.json:
                dump([f.model_dump(mode="json", exclude_none=True) for f in uploaded], pretty=False)
            return EXIT_OK
        dest = args.dest
        if Path(dest).is_dir() or dest.endswith(("/", "\\")):
            dest = str(Path(dest)) + "/"  # a folder: the file keeps its own name
        with _progress(args.uri.rsplit("/", 1)[-1], enabled=not args.json) as on_progress:
            path = client.files.download(args.uri, dest, on_progress=on_progress)
        if args.json:
            dump({"path": str(path)}, pretty=False)
        else:
            print(path, flush=True)
        return EXIT_OK


@contextmanager
def _progress(label: str, *, enabled: bool) -> Generator[Callable[[int, int | None], None] | None]:
    """A transfer progress bar on a terminal; nothing elsewhere."""
    console = stderr_console()
    if not (enabled and console.is_terminal):
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=console,
        transient=True,
    ) as bar:
        job = bar.add_task(label, total=None)

        def on_progress(done: int, total: int | None) -> None:
            bar.update(job, completed=done, total=total)

        yield on_progress
