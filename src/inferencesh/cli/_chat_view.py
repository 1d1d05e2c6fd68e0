"""How `inferencesh chat` and `demo` show a turn: the reply as it streams, tools, approvals.

The reply goes to stdout; tool calls, decisions and errors go to the console the view is
given: `chat` gives stderr (so `... | inferencesh chat REF > answers.txt` keeps only the
answers), `demo` gives stdout. Prompts go to stderr. Every switch flushes, so on a terminal
they interleave in the order they happened.

The runner may decide approvals on worker threads (the calls of one model turn run side by
side), so questions are asked one at a time, and a question still open when its turn ends
(Ctrl-C, a failure) gives up without taking a line meant for the prompt.
"""

from __future__ import annotations

import os
import select
import shutil
import sys
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from inferencesh.agent import AgentEvent, ApprovalRequest

__all__ = ["ChatView", "Console", "PlainConsole", "call_text", "short"]


class Console(Protocol):
    """Where the view writes its lines: a `rich.console.Console`, or a `PlainConsole`."""

    @property
    def width(self) -> int:
        """Columns of a line."""
        ...

    def print(
        self,
        *objects: Any,
        style: str | None = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        soft_wrap: bool | None = None,
    ) -> None:
        """Write one line."""
        ...


class PlainConsole:
    """A `Console` without rich (the `demo` runs on the `local` extra alone): no colours."""

    def __init__(self, file: TextIO) -> None:
        self._file = file

    @property
    def width(self) -> int:
        """Columns of the terminal (80 off a terminal)."""
        return shutil.get_terminal_size().columns

    def print(
        self,
        *objects: Any,
        style: str | None = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        soft_wrap: bool | None = None,
    ) -> None:
        """Write `objects` as one line; the styling options are ignored."""
        self._file.write(" ".join(str(o) for o in objects) + "\n")
        self._file.flush()


def short(text: str, width: int) -> str:
    """`text` on one line, cut to `width` characters (an ellipsis says it was cut).

    Leading spaces (the indentation) stay; other runs of white space become one space.
    """
    body = text.lstrip(" ")
    flat = text[: len(text) - len(body)] + " ".join(body.split())
    return flat if len(flat) <= width else flat[: max(1, width - 1)] + "…"


def call_text(name: str, arguments: Mapping[str, Any]) -> str:
    """`get_weather(city='Paris')`: a call as Python would write it."""
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"


class ChatView:
    """Draws the events of one conversation; `label` names the agent before its replies.

    Args:
        console: Where tool calls, decisions and messages go.
        label: The agent's name, written as `label> ` before a reply.
        interactive: On a terminal: long lines are cut to one line, and by default
            replies are labelled.
        labelled: Label replies off a terminal too (default: only when interactive).
    """

    def __init__(
        self, console: Console, *, label: str, interactive: bool, labelled: bool | None = None
    ) -> None:
        self._console = console
        self._label = label
        self._interactive = interactive
        self._labelled = interactive if labelled is None else labelled
        self._in_reply = False  # stdout is in the middle of a reply line
        self._in_question = False  # stderr is in the middle of a question's line
        self._printed: dict[str, str] = {}  # message id -> reply text shown so far
        self._depth: dict[str, int] = {}  # chat id -> how deep its agent is nested
        self._lock = threading.RLock()  # one writer at a time: events, questions, messages
        self._asking = threading.Lock()  # one question at a time
        self._turn_over = threading.Event()

    # -- the turn's events ----------------------------------------------------------------

    def turn_started(self) -> None:
        """A turn begins: questions may be asked."""
        self._turn_over.clear()

    def turn_ended(self) -> None:
        """The turn is over (or being left): an open question gives up, refusing its call."""
        self._turn_over.set()

    def show(self, event: AgentEvent) -> None:
        """Show one event of the turn."""
        with self._lock:
            self._show(event)

    def _show(self, event: AgentEvent) -> None:
        depth = self._depth_of(event.chat_id, event.parent_chat_id)
        pad = "  " * (depth + 1)
        who = f"[{event.agent}] " if depth else ""
        if event.type == "message.delta":
            if depth == 0 and event.text:
                self._reply(event.message_id, event.text)
        elif event.type == "message.completed":
            if depth == 0:
                self._complete(event.message.id, event.text)
            elif event.text:
                self._note(f"{pad}{event.agent}: {event.text}", "dim")
        elif event.type == "tool_call.requested":
            kind = "" if event.kind in ("client", "") else f"[{event.kind}] "
            self._note(f"{pad}→ {who}{kind}{call_text(event.name, event.arguments)}", "cyan")
        elif event.type == "tool_call.approved":
            if event.decided_by == "policy":
                self._note(f"{pad}✓ {who}{event.name} allowed by its policy", "green")
        elif event.type == "tool_call.denied":
            self._note(f"{pad}✗ {who}{event.name} refused: {event.reason}", "yellow")
        elif event.type == "tool_call.completed":
            self._note(f"{pad}← {who}{event.result}", "dim")
        elif event.type == "tool_call.failed":
            self._note(f"{pad}✗ {who}{event.name} failed: {event.error}", "red")
        elif event.type == "error":
            self._note(f"{pad}error: {event.message}", "red")
        elif event.type == "turn.finished" and depth == 0:
            self.end_reply()
            if event.paused:
                self._note(
                    "  (the agent waits for something this terminal cannot give, such as a "
                    "form or a sign-in: answer it in the app)",
                    "yellow",
                )

    def end_reply(self) -> None:
        """Finish the reply line, if one is open."""
        if self._in_reply:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self._in_reply = False

    # -- messages around the turn ---------------------------------------------------------

    def say(self, text: str, style: str | None = None) -> None:
        """A line on the console (after the reply line, if one is open), never cut."""
        with self._lock:
            self._note(text, style, cut=False)

    def ask(self, request: ApprovalRequest) -> bool:
        """Ask on the terminal whether the call may run; only `y` or `yes` allow it.

        No answer within the tool's approval timeout, the end of input, or the turn ending
        meanwhile refuse the call.
        """
        kind = "" if request.kind in ("client", "") else f"{request.kind} tool "
        call = call_text(request.tool_name, request.arguments)
        timeout = request.tool.approval_timeout if request.tool is not None else None
        limit = f" ({timeout} s)" if timeout else ""
        question = f"  ? allow {kind}{short(call, self._console.width - 36)}?{limit} [y/N] "
        with self._asking:
            if self._turn_over.is_set():
                return False
            with self._lock:
                self.end_reply()
                sys.stderr.write(question)
                sys.stderr.flush()
                self._in_question = True
            answer = read_line(self._turn_over, float(timeout) if timeout else None)
            with self._lock:
                if answer is None or not answer.endswith("\n"):  # nobody to say yes
                    self._end_question()
                    return False
                self._in_question = False  # the terminal echoed the answer's newline
            return answer.strip().lower() in ("y", "yes")

    # -- drawing --------------------------------------------------------------------------

    def _end_question(self) -> None:
        # Whatever comes next starts on a line of its own, and only once: a question still
        # open when the server decided the call (its own timeout) must not end later, which
        # would break the reply line that followed in two.
        if self._in_question:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._in_question = False

    def _reply(self, message_id: str, text: str) -> None:
        self._end_question()
        if not self._in_reply:
            if self._labelled:
                sys.stdout.write(f"{self._label}> ")
            self._in_reply = True
        self._printed[message_id] = self._printed.get(message_id, "") + text
        sys.stdout.write(text)
        sys.stdout.flush()

    def _complete(self, message_id: str, text: str) -> None:
        # A model that does not stream (or a stream joined late) shows the text only here.
        shown = self._printed.get(message_id, "")
        if text.startswith(shown) and len(text) > len(shown):
            self._reply(message_id, text[len(shown) :])
        if message_id in self._printed:
            self.end_reply()

    def _note(self, text: str, style: str | None, *, cut: bool = True) -> None:
        # On a terminal an event is one line (a long result is cut); in a pipe, all of it.
        cut = cut and self._interactive
        self._end_question()
        self.end_reply()
        self._console.print(
            short(text, max(20, self._console.width - 1)) if cut else text,
            style=style,
            markup=False,
            highlight=False,
            soft_wrap=not cut,
        )

    def _depth_of(self, chat_id: str, parent: str | None) -> int:
        if chat_id not in self._depth:
            self._depth[chat_id] = 0 if parent is None else self._depth.get(parent, 0) + 1
        return self._depth[chat_id]


def read_line(stop: threading.Event, timeout: float | None = None) -> str | None:
    """A line of stdin; None once `stop` is set or `timeout` seconds passed first.

    The wait polls, so that a question asked on a worker thread can give up without reading
    (a blocked read could not be taken back). Ctrl-C on the main thread interrupts it.
    """
    if os.name != "posix":  # select() takes only sockets on Windows: wait without a limit
        return sys.stdin.readline()
    end = None if timeout is None else time.monotonic() + timeout
    while not stop.is_set():
        wait = 0.1 if end is None else min(0.1, end - time.monotonic())
        if wait <= 0:
            return None
        ready, _, _ = select.select([sys.stdin], [], [], wait)
        if ready:
            return sys.stdin.readline()
    return None
