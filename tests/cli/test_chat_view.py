"""The view `chat` and `demo` draw a turn with, on one screen as a terminal shows it.

stdout and stderr are one stream here, as on a terminal, so the order of what the view wrote
on each is what a person sees.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from collections.abc import Generator

from inferencesh.agent import ApprovalRequest
from inferencesh.agent.events import MessageDelta, ToolCallDenied
from inferencesh.cli._chat_view import ChatView, PlainConsole


class Screen(io.StringIO):
    """stdout and stderr at once; `asked` is set once a question shows."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = threading.Event()

    def write(self, s: str) -> int:
        written = super().write(s)
        if "[y/N]" in s:
            self.asked.set()
        return written


@contextlib.contextmanager
def one_screen() -> Generator[Screen]:
    """The view's stdout and stderr on one `Screen`, and a stdin nobody types into.

    Entered in the test itself: pytest puts its own capture back on `sys` between a fixture's
    setup and the test.
    """
    read, write = os.pipe()
    shown = Screen()
    saved = sys.stdin, sys.stdout, sys.stderr
    with os.fdopen(read) as stdin, os.fdopen(write, "w"):
        sys.stdin, sys.stdout, sys.stderr = stdin, shown, shown
        try:
            yield shown
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved


def test_a_question_the_server_decided_first_ends_before_the_reply_not_inside_it() -> None:
    with one_screen() as screen:
        _refused_by_the_server_while_asking(screen)
    lines = screen.getvalue().splitlines()
    assert lines[0].startswith("  ? allow delete_file(path='/tmp/a')?")
    assert lines[1:] == ["  ✗ delete_file refused: too late", "bot> Not deleted."]


def _refused_by_the_server_while_asking(screen: Screen) -> None:
    view = ChatView(PlainConsole(screen), label="bot", interactive=True)
    request = ApprovalRequest(tool_name="delete_file", arguments={"path": "/tmp/a"})
    answers: list[bool] = []
    view.turn_started()
    asking = threading.Thread(target=lambda: answers.append(view.ask(request)))
    asking.start()
    assert screen.asked.wait(10)

    # The server refused the call on its own timeout while the question was still asked,
    # and the model answered; the question gives up only when the turn ends.
    view.show(
        ToolCallDenied(
            agent="bot",
            chat_id="c1",
            invocation_id="i1",
            name="delete_file",
            reason="too late",
            decided_by="runner",
        )
    )
    for text in ("Not ", "deleted."):
        view.show(MessageDelta(agent="bot", chat_id="c1", message_id="m1", text=text))
    view.turn_ended()
    asking.join(10)
    view.end_reply()

    assert answers == [False]
