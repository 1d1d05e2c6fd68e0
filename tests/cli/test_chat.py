"""`inferencesh chat` as people use it: on a terminal, and in a pipe, against the emulator.

The template agent `cli/memory` answers with every user message of its chat so far (so a
reply shows what the conversation kept), and a message `wait` makes it stream a word and then
wait until its run is stopped. The `--module` agent is the offline model with a client tool
that needs approval, and writes what it deleted into a file beside its module.
"""

from __future__ import annotations

import re
import subprocess
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from inferencesh.local import Emulator
from inferencesh.local.models import Emit, ModelReply, ModelRequest
from tests.cli.conftest import Terminal

Cli = Callable[..., subprocess.CompletedProcess[str]]
TEMPLATE = "cli/memory@latest"


class MemoryModel:
    """Answers `you said: a | b | ...` (the chat's user messages); `wait` waits to be stopped."""

    def __init__(self) -> None:
        self.stopped = threading.Event()

    async def complete(self, request: ModelRequest, emit: Emit) -> ModelReply:
        said = [m.content for m in request.messages if m.role == "user"]
        if said[-1] == "wait":
            emit({"response": "thinking"})
            try:
                await anyio.sleep_forever()
            finally:  # cancelled: the chat was stopped
                self.stopped.set()
        text = "you said: " + " | ".join(said)
        emit({"response": text})
        return ModelReply(text=text)


@pytest.fixture(scope="session")
def memory(emulator: Emulator) -> MemoryModel:
    model = MemoryModel()
    emulator.models.register("cli/memory-llm", model)
    emulator.agent("cli/memory", core_app="cli/memory-llm", system_prompt="Repeat.")
    return model


JANITOR = '''
    from pathlib import Path

    from inferencesh.agent import AgentConfig
    from inferencesh.tools import tool

    LOG = Path(__file__).with_name("deleted.log")


    @tool(require_approval=True)
    def delete_file(path: str) -> str:
        """Delete a file.

        Args:
            path: The file.
        """
        with LOG.open("a") as log:
            log.write(path + "\\n")
        return f"deleted {path}"


    agent = AgentConfig(core_app="infsh/claude-haiku-45@latest", tools=[delete_file], name="janitor")
'''


@pytest.fixture
def janitor(tmp_path: Path) -> Path:
    (tmp_path / "janitor.py").write_text(textwrap.dedent(JANITOR))
    return tmp_path


def test_a_template_agent_keeps_the_conversation_resets_and_stops_on_ctrl_c(
    terminal: Callable[..., Terminal], memory: MemoryModel
) -> None:
    term = terminal("chat", TEMPLATE)
    term.expect(r"Chatting with cli/memory@latest on http://")
    term.expect(r"you> ")
    term.type("hello\n")
    term.expect(r"memory> you said: hello\n")
    term.type("again\n")
    term.expect(r"memory> you said: hello \| again\n")  # the same chat: it remembers
    term.type("/reset\n")
    term.expect(r"New conversation\.")
    term.type("fresh\n")
    term.expect(r"memory> you said: fresh\n")
    term.type("wait\n")
    term.expect(r"memory> thinking")
    term.type("\x03")  # Ctrl-C while the reply streams
    term.expect(r"\(stopped\)")
    assert memory.stopped.wait(10)  # the agent's run was stopped on the server
    term.expect(r"you> ")
    term.type("after\n")  # the conversation goes on after a stopped turn
    term.expect(r"memory> you said: fresh \| wait \| after\n")
    term.type("/exit\n")
    chat_id = term.expect(r"chat (chat_\w+) \(continue it: --chat-id chat_\w+\)").group(1)
    assert term.wait() == 0
    assert "Traceback" not in term.text

    resumed = terminal("chat", TEMPLATE, "--chat-id", chat_id)
    resumed.expect(r"you> ")
    resumed.type("more\n")
    resumed.expect(r"you said: fresh \| wait \| after \| more\n")
    resumed.expect(r"you> ")
    resumed.type("\x04")  # Ctrl-D leaves too
    assert resumed.wait() == 0


def test_a_module_agent_asks_before_a_call_and_runs_it_only_on_yes(
    terminal: Callable[..., Terminal], janitor: Path
) -> None:
    term = terminal("chat", "--module", "janitor:agent", cwd=janitor)
    term.expect(r"you> ")
    term.type("Delete /tmp/a.txt with delete_file.\n")
    term.expect(r"→ delete_file\(path='/tmp/a\.txt'\)")
    term.expect(r"\? allow delete_file\(path='/tmp/a\.txt'\)\? \[y/N\] ")
    term.type("y\n")
    term.expect(r"← deleted /tmp/a\.txt")
    term.expect(r"janitor> Here is what delete_file returned: deleted /tmp/a\.txt\n")
    term.type("Delete /tmp/b.txt with delete_file.\n")
    term.expect(r"\? allow delete_file\(path='/tmp/b\.txt'\)\? \[y/N\] ")
    term.type("n\n")
    term.expect(r"✗ delete_file refused: The user refused this call\.")
    term.expect(r"janitor> Here is what delete_file returned: .*not approve")
    term.expect(r"you> ")
    term.type("Delete /tmp/c.txt with delete_file.\n")
    term.expect(r"\? allow delete_file\(path='/tmp/c\.txt'\)\? \[y/N\] ")
    term.type("\x03")  # Ctrl-C at the question stops the turn, as anywhere in it
    term.expect(r"\(stopped\)")
    term.expect(r"you> ")
    term.type("/exit\n")
    assert term.wait() == 0
    assert (janitor / "deleted.log").read_text() == "/tmp/a.txt\n"  # only the allowed call ran


def test_a_question_left_unanswered_refuses_the_call_when_the_tools_time_is_up(
    terminal: Callable[..., Terminal], janitor: Path
) -> None:
    module = janitor / "janitor.py"
    module.write_text(
        module.read_text().replace(
            "require_approval=True", "require_approval=True, approval_timeout=1"
        )
    )
    term = terminal("chat", "--module", "janitor", cwd=janitor)
    term.expect(r"you> ")
    term.type("Delete /tmp/d.txt with delete_file.\n")
    term.expect(r"\? allow delete_file\(path='/tmp/d\.txt'\)\? \(1 s\) \[y/N\] ")
    term.expect(r"✗ delete_file (refused|failed)")  # nobody answered: refused
    term.expect(r"janitor> Here is what delete_file returned")
    term.expect(r"you> ")
    term.type("/exit\n")  # the question took no line of input
    assert term.wait() == 0
    assert not (janitor / "deleted.log").exists()


def test_in_a_pipe_each_line_is_a_message_and_stdout_has_only_the_replies(
    cli: Cli, memory: MemoryModel
) -> None:
    result = cli("chat", TEMPLATE, input="one\n\ntwo\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "you said: one\nyou said: one | two\n"
    chat_id = re.search(r"chat (chat_\w+)", result.stderr)
    assert chat_id is not None

    again = cli("chat", TEMPLATE, "--chat-id", chat_id.group(1), input="three\n")
    assert again.stdout == "you said: one | two | three\n"


def test_in_a_pipe_approvals_are_refused_unless_yes(cli: Cli, janitor: Path) -> None:
    message = "Delete /tmp/c.txt with delete_file.\n"
    refused = cli("chat", "--module", "janitor", input=message, cwd=janitor)
    assert refused.returncode == 0, refused.stderr
    assert "nobody to ask about delete_file (not on a terminal)" in refused.stderr
    assert not (janitor / "deleted.log").exists()

    allowed = cli("chat", "--module", str(janitor / "janitor.py"), "--yes", input=message)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout == "Here is what delete_file returned: deleted /tmp/c.txt\n"
    assert "→ delete_file(path='/tmp/c.txt')" in allowed.stderr
    assert (janitor / "deleted.log").read_text() == "/tmp/c.txt\n"


def test_a_function_in_the_module_makes_the_agent_with_the_commands_client(
    cli: Cli, tmp_path: Path, memory: MemoryModel
) -> None:
    (tmp_path / "factory.py").write_text(
        textwrap.dedent(
            """
            def make(client, chat_id=None):
                return client.agent("cli/memory@v2", name="echoer", chat_id=chat_id)
            """
        )
    )
    result = cli("chat", "-m", "factory:make", input="hi\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "you said: hi\n"
    chat_id = re.search(r"chat (chat_\w+)", result.stderr)
    assert chat_id is not None
    again = cli(
        "chat", "-m", "factory:make", "--chat-id", chat_id.group(1), input="ho\n", cwd=tmp_path
    )
    assert again.stdout == "you said: hi | ho\n"


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        ([], {}, "give the agent once: AGENT_REF or --module"),
        (["cli/memory", "--module", "x:agent"], {}, "give the agent once"),
        (["--module", "nowhere:agent"], {}, "no module named 'nowhere' here"),
        (
            ["--module", "broken"],
            {"broken.py": "import nothing_at_all\n"},
            "importing broken failed: ModuleNotFoundError",
        ),
        (["--module", "syntax.py"], {"syntax.py": "def (:\n"}, "importing syntax.py failed: "),
        (["--module", "empty"], {"empty.py": ""}, "module empty has no 'agent'"),
        (["--module", "num:agent"], {"num.py": "agent = 3\n"}, "--module names a int"),
        (
            ["--module", "f:make", "--chat-id", "chat_1"],
            {"f.py": "def make(client):\n    return None\n"},
            "it must take chat_id=",
        ),
        (
            ["--module", "f:make"],
            {"f.py": "def make(client):\n    return 1\n"},
            "make(client) must return client.agent(...), not int",
        ),
        (
            ["--module", "own"],
            {"own.py": "from inferencesh import inference\nagent = inference('k').agent('a/b')\n"},
            "an agent made with a client of its own",
        ),
        (["not-a-ref"], {}, "is not a template ref"),
    ],
    ids=[
        "nothing",
        "both",
        "no-module",
        "broken-import",
        "syntax-error",
        "no-attribute",
        "not-an-agent",
        "chat-id-unsupported",
        "factory-returns-junk",
        "own-client",
        "bad-ref",
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    cli: Cli, tmp_path: Path, args: list[str], files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = cli("chat", *args, input="hello\n", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_no_key_is_a_usage_error(cli: Cli) -> None:
    result = cli("chat", TEMPLATE, input="hi\n", env={"INFERENCE_API_KEY": ""})
    assert result.returncode == 2
    assert "API key" in result.stderr


def test_an_unknown_template_fails_the_turn_and_in_a_pipe_exits_1(cli: Cli) -> None:
    result = cli("chat", "cli/no-such-agent@latest", input="hi\nagain\n")
    assert result.returncode == 1
    assert "NotFoundError" in result.stderr
    assert result.stdout == ""
