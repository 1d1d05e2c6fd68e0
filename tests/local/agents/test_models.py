"""The models behind agents: scripted over the wire and in Python, the offline model, the registry."""

from __future__ import annotations

from typing import Any

import pytest

from inferencesh.local import Emulator
from inferencesh.local.models._base import ModelMessage, ModelReply, ModelRequest, ToolSpec
from inferencesh.local.models._offline import (
    OfflineModel,
    extract_arguments,
    fill_schema,
    pick_tool,
)
from inferencesh.local.models._registry import ModelRegistry
from inferencesh.testing import ScriptedModel, call, calls, reply
from tests.local.agents.conftest import Chats, client_tool, scripted, texts

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def test_a_script_that_runs_out_fails_the_run_with_a_clear_message(chats: Chats) -> None:
    chat_id = chats.start(scripted(call("get_weather", city="x"), tools=[client_tool()]))
    invocation = chats.waiting(chat_id)
    chats.http.post(f"/tools/{invocation['id']}", json={"result": "r"})
    chat = chats.idle(chat_id)
    assert chat["active_run"]["state"] == "failed"
    assert (
        "1 turn(s)" in chat["active_run"]["error"] and "model call 2" in chat["active_run"]["error"]
    )
    last = chat["chat_messages"][-1]
    assert last["status"] == "failed" and "add a turn" in last["content"][0]["error"]


@pytest.mark.parametrize(
    ("core_input", "error"),
    [
        ({}, "core_app.input.script"),
        ({"script": [{"neither": 1}]}, "needs text or tool_calls"),
        ({"script": [{"tool_calls": [{"arguments": {}}]}]}, "name"),
        ({"script": [{"tool_calls": [{"name": "x", "arguments": "{bad"}]}]}, "not JSON"),
        ({"script": ["text"]}, "must be an object"),
    ],
)
def test_malformed_scripts_fail_the_run(
    chats: Chats, core_input: dict[str, Any], error: str
) -> None:
    chat_id = chats.start({"core_app": {"ref": "local/scripted", "input": core_input}})
    chat = chats.idle(chat_id)
    assert chat["active_run"]["state"] == "failed" and error in chat["active_run"]["error"]


def test_a_scripted_model_sees_the_conversation_and_the_tools(
    chats: Chats, agents_emu: Emulator
) -> None:
    def check(request: ModelRequest) -> dict[str, Any]:
        assert request.call_index == 1
        assert [m.role for m in request.messages] == ["user", "assistant", "tool"]
        assert request.messages[1].tool_calls[0].arguments == {"city": "Paris"}
        assert request.messages[2].content == "18 degrees"
        assert request.messages[2].tool_call_id == request.messages[1].tool_calls[0].id
        return reply("It is 18 degrees.")

    model = agents_emu.models.register(
        "test/weather-llm", ScriptedModel(call("get_weather", city="Paris"), check)
    )
    config = {
        "core_app": {"ref": "test/weather-llm@v9", "input": {"temperature": 0.1}},
        "system_prompt": "Be brief.",
        "tools": [client_tool()],
    }
    chat_id = chats.start(config, text="Weather?")
    invocation = chats.waiting(chat_id)
    chats.http.post(f"/tools/{invocation['id']}", json={"result": "18 degrees"})
    chat = chats.idle(chat_id)
    model.check()
    assert texts(chat)[-1] == "It is 18 degrees."
    first = model.requests_of(chat_id)[0]
    assert first.system_prompt == "Be brief." and first.settings == {"temperature": 0.1}
    assert first.tools == (
        ToolSpec(
            name="get_weather", description="the get_weather tool", parameters=CITY, kind="client"
        ),
    )
    assert first.ref == "test/weather-llm@v9"


def test_a_failing_check_fails_the_run_and_check_reraises_it(
    chats: Chats, agents_emu: Emulator
) -> None:
    def wrong(request: ModelRequest) -> dict[str, Any]:
        assert request.system_prompt == "something else", "the prompt was not passed on"
        return reply("unreachable")

    model = agents_emu.models.register("test/strict-llm", ScriptedModel(wrong))
    chat_id = chats.start({"core_app": {"ref": "test/strict-llm"}, "system_prompt": "mine"})
    chat = chats.idle(chat_id)
    assert chat["active_run"]["state"] == "failed"
    assert "the prompt was not passed on" in chat["active_run"]["error"]
    with pytest.raises(AssertionError, match="the prompt was not passed on"):
        model.check()


def test_every_chat_follows_the_script_from_its_start(chats: Chats) -> None:
    config = scripted(reply("first"), reply("second"))
    ids = [chats.start(config, text=f"chat {i}") for i in range(3)]
    for chat_id in ids:
        assert texts(chats.idle(chat_id))[-1] == "first"
    chats.send("again", chat_id=ids[0], agent_config=config)
    assert texts(chats.idle(ids[0]))[-1] == "second"


def test_a_model_that_raises_or_returns_nonsense_fails_its_run(
    chats: Chats, agents_emu: Emulator
) -> None:
    class Broken:
        async def complete(self, request: ModelRequest, emit: Any) -> ModelReply:
            raise RuntimeError("out of tokens")

    class Nonsense:
        async def complete(self, request: ModelRequest, emit: Any) -> Any:
            return "a string"

    agents_emu.models.register("test/broken-llm", Broken())
    agents_emu.models.register("test/nonsense-llm", Nonsense())
    broken = chats.idle(chats.start({"core_app": {"ref": "test/broken-llm"}}))
    assert "RuntimeError: out of tokens" in broken["active_run"]["error"]
    nonsense = chats.idle(chats.start({"core_app": {"ref": "test/nonsense-llm"}}))
    assert "not a ModelReply" in nonsense["active_run"]["error"]


def test_the_registry() -> None:
    registry = ModelRegistry()
    assert isinstance(registry.resolve("infsh/claude-haiku-45@375bg07t"), OfflineModel)
    model = registry.register("me/llm", ScriptedModel(reply("x")))
    assert registry.resolve("me/llm@latest") is model
    assert registry.resolve("app/me/llm:chat") is model
    registry.unregister("me/llm")
    assert registry.resolve("me/llm") is registry.default
    with pytest.raises(ValueError, match="local/scripted"):
        registry.register("local/scripted", model)
    with pytest.raises(ValueError, match="namespace/name"):
        registry.register("nope", model)
    with pytest.raises(TypeError, match="complete"):
        registry.register("me/llm", object())  # type: ignore[arg-type]


# -- the offline model -------------------------------------------------------------------------

WEATHER = ToolSpec(name="get_weather", description="", parameters=CITY, kind="client")
DELETE = ToolSpec(
    name="delete_file",
    description="",
    parameters={
        "type": "object",
        "properties": {"path": {"type": "string"}, "force": {"type": "boolean"}},
        "required": ["path"],
    },
    kind="client",
)
FINISH = ToolSpec(name="finish", description="", parameters={}, kind="internal")


def request(
    *messages: ModelMessage,
    tools: tuple[ToolSpec, ...] = (WEATHER, DELETE),
    schema: dict[str, Any] | None = None,
) -> ModelRequest:
    return ModelRequest(
        chat_id="c",
        call_index=0,
        system_prompt="",
        messages=messages,
        tools=tools,
        settings={},
        ref="x/y",
        output_schema=schema,
    )


def user(text: str) -> ModelMessage:
    return ModelMessage(role="user", content=text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("What's the weather in Paris? Use get_weather.", "get_weather"),
        ("What is the weather in Paris?", "get_weather"),
        ("Please DELETE_FILE /tmp/x", "delete_file"),
        ("Tell me a joke", None),
        ("the file weather", None),  # two tools' words: no single pick
    ],
)
def test_the_offline_model_picks_the_tool_the_message_names(text: str, name: str | None) -> None:
    tools = (
        WEATHER,
        DELETE,
        ToolSpec(name="file_weather", description="", parameters={}, kind="client"),
    )
    picked = pick_tool(text, tools if "the file weather" == text else (WEATHER, DELETE))
    assert (picked.name if picked else None) == name


@pytest.mark.parametrize(
    ("text", "schema", "expected"),
    [
        ("What's the weather in Paris? Use get_weather.", CITY, {"city": "Paris"}),
        ("weather for New York City please", CITY, {"city": "New York City"}),
        ('weather in "san jose"', CITY, {"city": "san jose"}),
        ("city=Lyon", CITY, {"city": "Lyon"}),
        ("Use get_weather with city=Lyon.", CITY, {"city": "Lyon"}),  # not "Lyon."
        ("city: v1.2! now", CITY, {"city": "v1.2"}),
        ("use get_weather", CITY, {"city": "use get_weather"}),
        ("delete /tmp/notes.txt", DELETE.parameters, {"path": "/tmp/notes.txt"}),
        ("delete report.pdf with force", DELETE.parameters, {"path": "report.pdf", "force": True}),
        (
            "3 items in celsius",
            {
                "type": "object",
                "properties": {
                    "n": {"type": "integer"},
                    "units": {"type": "string", "enum": ["fahrenheit", "celsius"]},
                },
                "required": ["n", "units"],
            },
            {"n": 3, "units": "celsius"},
        ),
        (
            "mail bob@example.com about https://x.io/a",
            {"type": "object", "properties": {"to": {"type": "string"}, "url": {"type": "string"}}},
            {"to": "bob@example.com", "url": "https://x.io/a"},
        ),
    ],
)
def test_the_offline_model_extracts_arguments(
    text: str, schema: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert extract_arguments(text, schema, tool="get_weather") == expected


def test_the_offline_model_calls_then_answers_from_the_result() -> None:
    model = OfflineModel()
    first = model.decide(request(user("What is the weather in Paris?")))
    [tool_call] = first.tool_calls
    assert (tool_call.name, tool_call.arguments) == ("get_weather", {"city": "Paris"})
    second = model.decide(
        request(
            user("What is the weather in Paris?"),
            ModelMessage(role="assistant", tool_calls=first.tool_calls),
            ModelMessage(
                role="tool", content="18 degrees", tool_call_id=tool_call.id, name="get_weather"
            ),
        )
    )
    assert second == ModelReply(text="Here is what get_weather returned: 18 degrees")
    assert model.decide(request(user("hi"))) == ModelReply(text="You said: hi")


def test_the_offline_model_finishes_with_the_schemas_shape() -> None:
    schema = {
        "type": "object",
        "properties": {
            "summary": {"type": "string"},
            "sentiment": {"type": "string", "enum": ["positive", "negative"]},
            "score": {"type": "number"},
            "tags": {"type": "array"},
            "ok": {"type": ["boolean", "null"]},
        },
    }
    reply_ = OfflineModel().decide(
        request(user("Rate: negative, 4.5 stars"), tools=(FINISH,), schema=schema)
    )
    [finish] = reply_.tool_calls
    assert finish.name == "finish"
    assert finish.arguments == {
        "summary": "Rate: negative, 4.5 stars",
        "sentiment": "negative",
        "score": 4.5,
        "tags": [],
        "ok": False,
    }
    assert fill_schema({"type": "integer"}, "no digits") == 0
    assert fill_schema({"const": "x"}, "") == "x"


def test_calls_merges_tool_calls_into_one_turn() -> None:
    assert calls(call("a", x=1), call("b"), text="both") == {
        "tool_calls": [{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {}}],
        "text": "both",
    }
