"""The agent part of `inferencesh demo`: one streamed turn that uses every kind of tool.

An ad-hoc agent (`concierge`) gets two `@tool` functions of this process (`get_weather`, and
`send_email`, which needs approval), an app tool (the emulator's `infsh/text-templating`) and
a server-side sub-agent (`research`, a template whose own model calls `get_weather`, which
runs here too). The models are `ScriptedModel`s, so the conversation is the same every time;
the steps read what the tools returned, so the answer shows what happened. The turns are
written with `inferencesh.testing`'s helpers, which need no pytest (a `local` install has none).

The turn is drawn by `inferencesh chat`'s view as it streams. The approval is asked y/N on a
terminal; `--yes` approves it; off a terminal it is refused, and the demo says why.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from inferencesh.cli._chat_view import ChatView, PlainConsole
from inferencesh.testing import ScriptedModel, call, calls, reply
from inferencesh.tools import agent_tool, app_tool, tool

if TYPE_CHECKING:
    from inferencesh import Inference
    from inferencesh.agent import ApprovalRequest
    from inferencesh.cli._chat_view import Console
    from inferencesh.local import Emulator
    from inferencesh.local.models import ModelRequest

__all__ = ["MESSAGE", "prepare", "show_agent"]

MESSAGE = "What's the weather in Paris? Email it to Ada."
LLM = "demo/llm"  # the core app of both agents, answered by the scripted models below
RESEARCHER = "demo/researcher"

OUTBOX: list[str] = []  # what send_email sent: nothing, if the call was refused


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: The city, e.g. "Paris".
    """
    return f"18 degrees and sunny in {city}"


@tool(require_approval=True)
def send_email(to: str, text: str) -> str:
    """Send an email.

    Args:
        to: The address.
        text: The message.
    """
    OUTBOX.append(to)
    return f"sent to {to}"


write_note = app_tool(
    "write_note",
    "infsh/text-templating@latest",
    description="Fill a template: {1}, {2}... are replaced by the strings, in order.",
)
research = agent_tool("research", f"{RESEARCHER}@latest", description="Ask the researcher.")


def _last_result(request: ModelRequest) -> str:
    return request.messages[-1].content


def _write(request: ModelRequest) -> dict[str, Any]:
    found = _last_result(request)  # the researcher's answer
    return call("write_note", template="Hi {1}! {2}", strings=["Ada", found])


def _send(request: ModelRequest) -> dict[str, Any]:
    note = json.loads(_last_result(request))["text"]  # what the app returned
    return call("send_email", to="ada@example.com", text=note)


def _answer(request: ModelRequest) -> dict[str, Any]:
    if _last_result(request).startswith("sent to"):
        return reply("Done: Ada has the forecast in her inbox.")
    return reply("I wrote the note, but did not send it: sending was not approved.")


def prepare(emulator: Emulator) -> None:
    """Register the sub-agent's template and the two scripted models on `emulator`."""
    emulator.models.register(
        LLM,
        ScriptedModel(
            calls(
                call("research", message="The weather in Paris?"), text="Let me ask the researcher."
            ),
            _write,
            _send,
            _answer,
        ),
    )
    # The researcher's model has its own script: the first model call of each chat is step 1.
    emulator.models.register(
        f"{LLM}-researcher",
        ScriptedModel(call("get_weather", city="Paris"), reply("18 degrees, sunny.")),
    )
    emulator.agent(RESEARCHER, core_app=f"{LLM}-researcher", tools=[get_weather], name="researcher")


def show_agent(client: Inference, say: Any, *, yes: bool) -> None:
    """Stream one turn of the concierge agent, asking for (or deciding) its approval."""
    on_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    view = ChatView(_console(), label="concierge", interactive=on_terminal, labelled=True)

    def approve(request: ApprovalRequest) -> bool:
        if yes:
            view.say(f"  ✓ {request.tool_name} approved (--yes)", "green")
            return True
        if not on_terminal:
            which = "stdin" if not sys.stdin.isatty() else "stdout"
            view.say(
                f"  ✗ {request.tool_name} needs approval: refused, {which} is not a terminal "
                "(--yes approves)",
                "yellow",
            )
            return False
        return view.ask(request)

    agent = client.agent(
        core_app=LLM,
        name="concierge",
        tools=[get_weather, send_email, write_note, research],
    )
    say("(a scripted model, the same every run; the @tool functions run in this process)")
    say(f"you> {MESSAGE}")
    view.turn_started()
    try:
        with agent.stream(MESSAGE, approve=approve) as events:
            try:
                for event in events:
                    view.show(event)
            finally:  # an open question gives up before the stream waits for its calls
                view.turn_ended()
    finally:
        view.end_reply()
    sent = ", ".join(OUTBOX) if OUTBOX else "nothing (send_email never ran)"
    say(f"outbox: {sent}")


def _console() -> Console:
    try:
        from rich.console import Console
    except ImportError:  # the `local` extra alone: no colours
        return PlainConsole(sys.stdout)
    return Console(highlight=False)
