"""The agent API's edges: configs, misuse, manual answers, stop, and what goes on the wire."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from inferencesh._protocol.chats import tool_path
from inferencesh.agent.config import AgentConfig, AgentSpec
from inferencesh.agent.output import output_schema, read_output
from inferencesh.errors import AgentOutputError, ConfigurationError, UsageError
from inferencesh.local import Emulator
from inferencesh.testing import call, reply, scripted_core_app
from inferencesh.tools import Skill, Toolset, app_tool, internal_tools, tool

from .conftest import AgentTwin

FIXTURES = Path(__file__).parents[1] / "fixtures" / "protocol"


@tool
def get_weather(city: str) -> str:
    """Get the weather.

    Args:
        city: City name.
    """
    return city


def test_an_ad_hoc_body_matches_what_the_official_sdk_sends() -> None:
    expected = json.loads((FIXTURES / "agent-run-request-structured.json").read_text())
    spec = AgentSpec.build(core_app="infsh/claude-sonnet-4@abc123")
    body = spec.run_body(
        chat_id=None,
        text="Analyze: Great product!",
        output_schema=expected["agent_config"]["output_schema"],
    )
    assert body["agent_config"]["tools"] == []
    del body["agent_config"]["tools"]
    assert body == expected


def test_a_template_body_matches_what_the_official_sdk_sends() -> None:
    expected = json.loads((FIXTURES / "agent-run-request-template.json").read_text())
    spec = AgentSpec.build("my-org/assistant@abc123", tools=[get_weather])
    attachment = expected["input"]["attachments"][0]
    body = spec.run_body(chat_id=None, text="Summarize this", attachments=[attachment])
    assert body == expected
    assert spec.tools == {"get_weather": get_weather} and spec.name == "my-org/assistant@abc123"
    assert spec.run_body(chat_id="c1", text="x", context={"user": "42"})["context"] == {
        "user": "42"
    }


def test_configs_in_every_form() -> None:
    server_side = app_tool("draw", "infsh/flux@1", require_approval=True)
    spec = AgentSpec.build(
        AgentConfig(
            core_app={"ref": "infsh/llm@1", "input": {"temperature": 0}},
            name="a",
            tools=[get_weather],
        ),
        tools=[Toolset([server_side])],
        internal_tools=internal_tools(plan=True),
        skills=[
            Skill("style", "How to write", content="Be brief."),
            {"name": "x", "description": "y"},
        ],
        description="Helps.",
    )
    config = spec.config
    assert config is not None
    assert config["core_app"] == {"ref": "infsh/llm@1", "input": {"temperature": 0}}
    assert [t["name"] for t in config["tools"]] == ["get_weather", "draw"]
    assert config["internal_tools"] == {"plan": True}
    assert [s["name"] for s in config["skills"]] == ["style", "x"]
    assert (spec.name, config["description"]) == ("a", "Helps.")
    assert set(spec.tools) == {"get_weather", "draw"}
    wire = {"name": "raw", "type": "client", "client": {"input_schema": {"type": "object"}}}
    plain = AgentSpec.build({"core_app": "infsh/llm@1", "tools": [wire]})
    assert plain.config is not None and plain.config["tools"] == [wire] and plain.tools == {}
    assert plain.name == "agent"
    body = plain.run_body(chat_id=None, text="hi", output_schema={"type": "object"})
    assert body["agent_config"]["internal_tools"] == {"finish": True}
    assert "output_schema" not in (plain.config or {})  # the spec itself is unchanged


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((), {}, "needs core_app="),
        (("not-a-ref",), {}, "is not a template ref"),
        (("acme/x@1",), {"system_prompt": "hi"}, "drop system_prompt"),
        (
            (),
            {"core_app": "infsh/llm@1", "tools": [get_weather, get_weather]},
            "two tools are named",
        ),
        ((), {"core_app": "infsh/llm@1", "tools": [len]}, "not builtin_function_or_method"),
    ],
)
def test_bad_configs_say_what_to_do(
    args: tuple[Any, ...], kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        AgentSpec.build(*args, **kwargs)


def test_structured_output_helpers() -> None:
    class Answer(BaseModel):
        value: int

    @dataclass
    class Point:
        x: int

    assert output_schema(Answer)["properties"] == {"value": {"title": "Value", "type": "integer"}}
    assert read_output(Answer, '{"value": 3}') == Answer(value=3)  # JSON text is decoded
    assert read_output(Point, {"x": 1}) == Point(x=1)
    with pytest.raises(AgentOutputError, match="does not fit Answer"):
        read_output(Answer, "not json")
    with pytest.raises(TypeError, match="has no JSON schema"):
        output_schema(type("Opaque", (), {}))
    assert tool_path("a/b", "/invoke") == "/tools/a%2Fb/invoke"
    with pytest.raises(ValueError, match="non-empty"):
        tool_path("")


pytestmark = pytest.mark.anyio


@pytest.mark.server
async def test_misuse_is_a_usage_error(agents: AgentTwin) -> None:
    agent = agents.agent(core_app=scripted_core_app(reply("Hi.")))
    assert repr(agent).endswith("chat=None>") and agent.name == "agent"
    for method in (agent.get_chat, agent.stop, agent.resume):
        with pytest.raises(UsageError, match="no chat yet|no turn to follow"):
            await agents(method)
    with pytest.raises(UsageError, match="no turn to follow"):
        agent.stream(None)
    stream = agent.stream("Hello")
    with pytest.raises(UsageError, match="has not started"):
        stream.reply()
    assert stream.chat_id is None
    with pytest.raises(ValueError, match="max_concurrent_tools must be >= 1"):
        agents.agent(core_app=scripted_core_app(reply("Hi.")), max_concurrent_tools=0)


@pytest.mark.server
async def test_answering_a_call_by_hand_and_stopping(agents: AgentTwin, emulator: Emulator) -> None:
    emulator.agent(
        "agent-tests/manual",
        core_app=scripted_core_app(call("get_weather", city="Paris"), reply("Thanks.")),
        tools=[get_weather],
    )
    first = agents.agent("agent-tests/manual@latest")  # no handler here: it answers "not available"
    answer = await agents(first.send_message, "Weather?")
    assert answer.text == "Thanks." and "not_available" in (answer.tool_calls[0].result or "")
    # A stream left at once, detached: the call waits; answer it by hand.
    waiting = agents.agent("agent-tests/manual@latest", tools=[get_weather])
    await agents.events_until(waiting, "Weather?", lambda e: True, detach=True)
    chat_id = waiting.chat_id
    assert chat_id is not None
    emulator.wait_until(lambda: emulator.chat(chat_id)["status"] == "awaiting_input")
    invocation = next(
        i for m in emulator.chat(chat_id)["chat_messages"] for i in m.get("tool_invocations") or []
    )
    await agents(waiting.submit_tool_result, invocation["id"], {"temp": 21})
    emulator.wait_until(lambda: emulator.chat(chat_id)["status"] == "idle")
    chat = await agents(waiting.get_chat)
    assert [m.text for m in chat.chat_messages if m.role == "tool"] == ['{"temp":21}']
    await agents(waiting.stop)  # idle: nothing happens
    # Answering a call that no longer waits is refused by the server.
    from inferencesh.errors import ConflictError

    with pytest.raises(ConflictError):
        await agents(waiting.submit_tool_result, invocation["id"], "again")


@pytest.mark.server
async def test_a_tools_own_approval_timeout_wins(agents: AgentTwin) -> None:
    import threading

    release = threading.Event()

    @tool(require_approval=True, approval_timeout=1)
    def guarded(x: int) -> int:
        """Guarded."""
        return x

    def slow(request: Any) -> bool:
        release.wait(30)
        return True

    agent = agents.agent(
        core_app=scripted_core_app(call("guarded", x=1), reply("ok")),
        tools=[guarded],
        approve=slow,
        approval_timeout=60,
    )
    try:
        answer = await agents(agent.send_message, "Go.")
    finally:
        release.set()
    # Refused after a second (here or by the server, whichever says so first), never run.
    assert [(c.status, c.name) for c in answer.tool_calls] == [("failed", "guarded")]
    assert answer.text == "ok"


@pytest.mark.server
async def test_a_bad_attachment_raises_before_anything_starts(
    agents: AgentTwin, emulator: Emulator, tmp_path: Path
) -> None:
    from inferencesh.errors import MissingFileError

    before = len(emulator.chats())
    agent = agents.agent(core_app=scripted_core_app(reply("Hi.")))
    with pytest.raises(MissingFileError):
        await agents(agent.send_message, "Look.", files=[tmp_path / "missing.txt"])
    assert agent.chat_id is None and len(emulator.chats()) == before


@pytest.mark.server
async def test_a_deadline_that_passes_before_the_answer(agents: AgentTwin) -> None:
    from inferencesh.errors import AgentTimeoutError

    agent = agents.agent(core_app=scripted_core_app(reply("Hi.")), name="slowpoke")
    with pytest.raises(AgentTimeoutError, match="'slowpoke' got no answer within 0 s"):
        await agents(agent.send_message, "Hi", wait_timeout=0)


@pytest.mark.server
async def test_leaving_when_the_stop_fails_still_leaves(
    agents: AgentTwin, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    agent = agents.agent(core_app=scripted_core_app(reply("A long answer.")))
    emulator.faults.fail_next(5, status=500, retry_after=None, path="/chats/*/stop", method="POST")
    with caplog.at_level(logging.WARNING, logger="inferencesh.agent"):
        await agents.events_until(agent, "Hi", lambda e: True)
    assert any("could not stop the run" in r.getMessage() for r in caplog.records)
