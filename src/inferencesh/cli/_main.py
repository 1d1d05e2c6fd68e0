"""Argument parsing and dispatch; each command lives in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from inferencesh import __version__
from inferencesh.cli._agents import add_serve_arguments, serve_agent_options
from inferencesh.cli._commands import add_api_commands, dispatch
from inferencesh.cli._common import CommandError


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (`inferencesh serve: error: ...`), no usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    if not text.strip().isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text!r}")
    return int(text)


def _size(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a number of bytes above 0, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="inferencesh", description="inference.sh from the command line.")
    parser.add_argument("--version", action="version", version=f"inferencesh {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the local emulator of the inference.sh API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, default=8787, help="port to listen on (8787; 0 picks a free one)"
    )
    serve.add_argument(
        "--api-key",
        default=None,
        help="the key clients must send as 'Authorization: Bearer <key>' "
        "(the emulator's default, sk-local-test)",
    )
    serve.add_argument(
        "--data-dir", default=None, help="where uploaded files are kept (a temporary directory)"
    )
    serve.add_argument(
        "--max-upload-size",
        type=_size,
        default=None,
        metavar="BYTES",
        help="largest accepted upload, in bytes (2 GiB)",
    )
    serve.add_argument(
        "--max-body-size",
        type=_size,
        default=None,
        metavar="BYTES",
        help="largest request body of an API call, in bytes (16 MiB)",
    )
    add_serve_arguments(serve)

    demo = commands.add_parser("demo", help="run apps on an in-process emulator and show the SDK")
    demo.add_argument("--fast", action="store_true", help="shorter slow-app runs")
    demo.add_argument(
        "--yes", "-y", action="store_true", help="approve the agent's call that needs approval"
    )

    add_api_commands(commands)  # run, tasks, files, chat: cli/_commands.py
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `inferencesh` command."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            from inferencesh.cli._serve import serve

            return serve(
                host=args.host,
                port=args.port,
                api_key=args.api_key,
                data_dir=args.data_dir,
                max_upload_size=args.max_upload_size,
                max_body_size=args.max_body_size,
                **serve_agent_options(args),
            )
        if args.command == "demo":
            from inferencesh.cli._demo import demo

            return demo(fast=args.fast, yes=args.yes)
        return dispatch(args)  # run, tasks, files: cli/_commands.py
    except KeyboardInterrupt:
        return 130
    except CommandError as exc:  # serve and demo (the others report their own)
        print(f"inferencesh: {exc}", file=sys.stderr)
        return exc.code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
