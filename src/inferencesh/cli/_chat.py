"""`inferencesh chat`: talk to an agent in the terminal.

```bash
inferencesh chat acme/support@latest            # a template agent on the server
inferencesh chat --module my_agent:agent        # an ad-hoc agent defined in Python
```

A read-eval-print loop over one conversation: each line is a message, the reply streams as
the model writes it, tool calls show as they run (your `@tool` functions run here), and calls
that need approval are asked on the terminal (`y` allows; anything else, or no terminal,
refuses). `/reset` starts a new conversation, `/exit` (or Ctrl-D) leaves, and Ctrl-C during a
reply stops the agent's turn and comes back to the prompt; the conversation goes on.

Off a terminal (stdin or stdout redirected), every line read is a message and only the
replies go to stdout, so the command works in pipes; the first failure ends it with exit
code 1, and calls that need approval are refused unless `--yes` allows them all.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inferencesh.cli._chat_view import ChatView
from inferencesh.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    make_client,
    stderr_console,
)

if TYPE_CHECKING:
    from inferencesh import Agent, Inference
    from inferencesh.agent import ApprovalRequest

__all__ = ["add_chat_command", "chat", "load_agent"]

COMMANDS = "/reset starts a new conversation, /exit leaves; Ctrl-C stops a reply"


def add_chat_command(commands: argparse._SubParsersAction[Any]) -> None:  # pyright: ignore[reportPrivateUsage]
    """The `chat` command's arguments."""
    parser = commands.add_parser(
        "chat",
        help="talk to an agent: replies stream, your tools run here, approvals are asked",
        description="Chat with an agent: a template on the server (AGENT_REF) or an ad-hoc "
        "agent defined in Python (--module). " + COMMANDS + ".",
    )
    parser.add_argument(
        "ref", nargs="?", default=None, metavar="AGENT_REF", help="a template, e.g. acme/support"
    )
    parser.add_argument(
        "--module",
        "-m",
        default=None,
        metavar="MODULE[:NAME]",
        help="the agent NAME (default: agent) of a Python module (pkg.mod or path/file.py): "
        "an AgentConfig, a config dict, a template ref, or a function taking the client and "
        "returning client.agent(...)",
    )
    parser.add_argument(
        "--chat-id", default=None, metavar="ID", help="continue this conversation (as printed)"
    )
    parser.add_argument(
        "--yes", "-y", action="store_true", help="allow every call that needs approval, unasked"
    )
    parser.add_argument(
        "--api-key", default=None, metavar="KEY", help="API key (default: INFERENCE_API_KEY)"
    )
    parser.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="the API's URL (default: INFERENCE_BASE_URL, else https://api.inference.sh)",
    )


def chat(args: argparse.Namespace) -> int:
    """Run the conversation the arguments describe; the exit code."""
    if (args.ref is None) == (args.module is None):
        raise CommandError("give the agent once: AGENT_REF or --module MODULE:NAME", EXIT_USAGE)
    source: object = args.ref if args.module is None else load_agent(args.module)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    with make_client(args) as client:
        agent = _make_agent(client, source, args.chat_id)
        label = agent.name.split("@")[0].rsplit("/", 1)[-1] or "agent"
        console = stderr_console()
        view = ChatView(console, label=label, interactive=interactive)
        session = _Session(agent, view, yes=args.yes, interactive=interactive)
        if interactive:
            view.say(f"Chatting with {agent.name} on {client.base_url}. {COMMANDS}.", "dim")
        try:
            return session.loop()
        finally:
            if agent.chat_id is not None:
                view.say(f"chat {agent.chat_id} (continue it: --chat-id {agent.chat_id})", "dim")


class _Session:
    """The loop: read a line, run the turn or the slash command, until the end."""

    def __init__(self, agent: Agent, view: ChatView, *, yes: bool, interactive: bool) -> None:
        self._agent = agent
        self._view = view
        self._yes = yes
        self._interactive = interactive
        if interactive:
            import readline  # noqa: F401  # pyright: ignore[reportUnusedImport]  # line editing, history

    def loop(self) -> int:
        while True:
            line = self._read()
            if line is None:
                return EXIT_OK
            text = line.strip()
            if not text:
                continue
            if text in ("/exit", "/quit"):
                return EXIT_OK
            if text == "/reset":
                self._agent.reset()
                self._view.say("New conversation.", "dim")
                continue
            if text.startswith("/") and " " not in text:
                self._view.say(f"unknown command {text}: {COMMANDS}", "yellow")
                continue
            if not self._turn(text) and not self._interactive:
                return EXIT_FAILED

    def _read(self) -> str | None:
        """The next message; None at the end of input."""
        try:
            if self._interactive:
                return input("you> ")
            line = sys.stdin.readline()
            return line if line else None
        except EOFError:
            if self._interactive:
                sys.stdout.write("\n")
            return None
        except KeyboardInterrupt:  # at the prompt: a fresh prompt, as Python's own REPL does
            sys.stdout.write("\n")
            self._view.say("(Ctrl-D or /exit leaves)", "dim")
            return ""

    def _turn(self, text: str) -> bool:
        """Send `text` and show the turn; False if it failed."""
        from inferencesh import InferenceError

        failed = False
        self._view.turn_started()
        try:
            with self._agent.stream(text, approve=self._approve) as events:
                try:
                    for event in events:
                        self._view.show(event)
                        failed = failed or event.type == "error"
                finally:  # before the stream waits for its calls: an open question gives up
                    self._view.turn_ended()
        except KeyboardInterrupt:  # leaving the stream stopped the agent's run
            self._view.say("(stopped)", "yellow")
            return False
        except InferenceError as exc:
            self._view.say(f"inferencesh: {type(exc).__name__}: {exc}", "red")
            return False
        return not failed

    def _approve(self, request: ApprovalRequest) -> bool:
        if self._yes:
            return True
        if not self._interactive:
            self._view.say(
                f"  nobody to ask about {request.tool_name} (not on a terminal);"
                " --yes allows every call",
                "yellow",
            )
            return False
        return self._view.ask(request)


def load_agent(spec: str) -> object:
    """What `--module MODULE[:NAME]` names (NAME defaults to `agent`).

    Raises:
        CommandError: The module cannot be imported or has no such name.
    """
    module_name, _, name = spec.partition(":")
    name = name or "agent"
    if not module_name:
        raise CommandError(f"--module takes MODULE[:NAME], got {spec!r}", EXIT_USAGE)
    if module_name.endswith(".py"):
        module = _import_file(Path(module_name))
    else:
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))  # as `python -m` does: modules of this folder
        module = _import(module_name)
    try:
        return getattr(module, name)
    except AttributeError:
        raise CommandError(f"module {module_name} has no {name!r}", EXIT_USAGE) from None


def _import(module_name: str) -> object:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise CommandError(
                f"no module named {module_name!r} here (run from the folder that holds it, or "
                "add that folder to PYTHONPATH)",
                EXIT_USAGE,
            ) from None
        raise _import_failed(module_name, exc) from None
    except Exception as exc:  # the user's module failed to import: say where and why
        raise _import_failed(module_name, exc) from None


def _import_file(path: Path) -> object:
    if not path.is_file():
        raise CommandError(f"no such file: {path}", EXIT_USAGE)
    module_spec = importlib.util.spec_from_file_location(path.stem, path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[path.stem] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        raise _import_failed(str(path), exc) from None
    return module


def _import_failed(module: str, exc: Exception) -> CommandError:
    where = "".join(traceback.format_exception_only(exc)).strip()
    return CommandError(f"importing {module} failed: {where}", EXIT_USAGE)


def _make_agent(client: Inference, source: object, chat_id: str | None) -> Agent:
    """The agent `source` describes, continuing `chat_id` when given."""
    from inferencesh import Agent, AsyncAgent
    from inferencesh.agent import AgentConfig

    if isinstance(source, str | AgentConfig | Mapping):
        return client.agent(source, chat_id=chat_id)  # pyright: ignore[reportUnknownArgumentType]
    if isinstance(source, Agent | AsyncAgent):
        raise CommandError(
            "--module names an agent made with a client of its own: name its AgentConfig "
            "instead, or a function taking the client (the command's key and URL apply)",
            EXIT_USAGE,
        )
    if not callable(source):
        raise CommandError(
            f"--module names a {type(source).__name__}: give an AgentConfig, a config dict, a "
            "template ref or a function taking the client",
            EXIT_USAGE,
        )
    if chat_id is None:
        made = source(client)
    elif "chat_id" in inspect.signature(source).parameters:
        made = source(client, chat_id=chat_id)
    else:
        raise CommandError(
            "--chat-id with a function: it must take chat_id= and pass it to client.agent()",
            EXIT_USAGE,
        )
    if not isinstance(made, Agent):
        if inspect.iscoroutine(made):
            made.close()  # an async function's: never awaited (closed, so Python says nothing)
        raise CommandError(
            f"{getattr(source, '__name__', 'the function')}(client) must return "
            f"client.agent(...), not {type(made).__name__}",
            EXIT_USAGE,
        )
    return made
