"""The OpenAI-compatible model against a fake chat-completions server (no network)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from inferencesh.local import Emulator
from inferencesh.local.models import OpenAICompatibleModel
from tests.local.agents.conftest import Chats, client_tool, texts


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake-1",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


TOOL_TURN = [
    chunk({"role": "assistant", "content": "Checking"}),
    chunk(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_a1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ]
        }
    ),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
    chunk({}, "tool_calls"),
]
TEXT_TURN = [chunk({"content": "It is "}), chunk({"content": "sunny."}), chunk({}, "stop")]


class FakeLLM:
    """Answers `POST /v1/chat/completions` with the next scripted stream (or a status)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies: list[list[dict[str, Any]] | int] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                fake.requests.append(
                    {"path": self.path, "auth": self.headers.get("authorization"), "body": body}
                )
                reply = fake.replies.pop(0)
                if isinstance(reply, int):
                    payload = json.dumps(
                        {"error": {"message": "the fake is down", "type": "server_error"}}
                    ).encode()
                    self.send_response(reply)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                for event in reply:
                    self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_a_tool_turn_and_an_answer_through_the_server(
    chats: Chats, agents_emu: Emulator, fake_llm: FakeLLM
) -> None:
    fake_llm.replies += [TOOL_TURN, TEXT_TURN]
    agents_emu.models.register(
        "test/openai-llm",
        OpenAICompatibleModel(
            base_url=fake_llm.base_url, model="fake-1", api_key="sk-fake", max_retries=0
        ),
    )
    config = {
        "core_app": {
            "ref": "test/openai-llm",
            "input": {"temperature": 0.2, "max_tokens": 50, "not_an_llm_setting": 1},
        },
        "system_prompt": "Be brief.",
        "tools": [client_tool()],
    }
    agents_emu.agent_stream_wait = 30
    sent = chats.send("Weather in Paris?", agent_config=config)
    chat_id = sent["assistant_message"]["chat_id"]

    def answer(event: dict[str, Any]) -> None:
        for invocation in event["data"].get("tool_invocations") or []:
            if invocation["status"] == "awaiting_input":
                chats.http.post(f"/tools/{invocation['id']}", json={"result": "18 degrees"})

    events = chats.follow(
        chat_id, lambda e: e["event"] == "chats" and e["data"]["status"] == "idle", on=answer
    )
    chat = agents_emu.chat(chat_id)
    assert texts(chat) == ["Weather in Paris?", "Checking", "18 degrees", "It is sunny."]
    [invocation] = chat["chat_messages"][1]["tool_invocations"]
    assert invocation["tool_invocation_id"] == "call_a1" and invocation["function"][
        "arguments"
    ] == {"city": "Paris"}
    deltas = [e["data"]["delta"] for e in events if e["event"] == "delta"]
    assert {"response": "Checking"} in deltas and {"response": "sunny."} in deltas
    fragments = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert (
        "".join(f.get("function", {}).get("arguments", "") for f in fragments)
        == '{"city": "Paris"}'
    )
    first, second = (r["body"] for r in fake_llm.requests)
    assert (
        fake_llm.requests[0]["path"] == "/v1/chat/completions"
        and fake_llm.requests[0]["auth"] == "Bearer sk-fake"
    )
    assert (first["model"], first["stream"], first["temperature"], first["max_tokens"]) == (
        "fake-1",
        True,
        0.2,
        50,
    )
    assert "not_an_llm_setting" not in first
    assert first["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    assert first["tools"][0]["function"]["name"] == "get_weather"
    assert first["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assistant, tool = second["messages"][2:]
    assert assistant["tool_calls"][0]["id"] == "call_a1"
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    assert tool == {"role": "tool", "tool_call_id": "call_a1", "content": "18 degrees"}


def test_a_failing_server_fails_the_run(
    chats: Chats, agents_emu: Emulator, fake_llm: FakeLLM
) -> None:
    fake_llm.replies.append(503)
    agents_emu.models.register(
        "test/down-llm",
        OpenAICompatibleModel(base_url=fake_llm.base_url, model="fake-1", max_retries=0),
    )
    chat = chats.idle(chats.start({"core_app": {"ref": "test/down-llm"}}))
    assert chat["active_run"]["state"] == "failed"
    assert (
        "the fake is down" in chat["active_run"]["error"]
        and fake_llm.base_url in chat["active_run"]["error"]
    )


def test_arguments_that_are_not_json_fail_the_run(
    chats: Chats, agents_emu: Emulator, fake_llm: FakeLLM
) -> None:
    bad = [
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "c",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{oops"},
                    }
                ]
            }
        ),
        chunk({}, "tool_calls"),
    ]
    fake_llm.replies.append(bad)
    agents_emu.models.register(
        "test/sloppy-llm",
        OpenAICompatibleModel(base_url=fake_llm.base_url, model="fake-1", max_retries=0),
    )
    chat = chats.idle(
        chats.start({"core_app": {"ref": "test/sloppy-llm"}, "tools": [client_tool()]})
    )
    assert "not JSON" in chat["active_run"]["error"]


def test_options_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERENCESH_LLM_MODEL", "env-model")
    monkeypatch.setenv("INFERENCESH_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("INFERENCESH_LLM_API_KEY", "env-key")
    model = OpenAICompatibleModel()
    assert (model.model, model.base_url, model.api_key) == (
        "env-model",
        "http://127.0.0.1:9/v1",
        "env-key",
    )
    monkeypatch.delenv("INFERENCESH_LLM_MODEL")
    with pytest.raises(ValueError, match="name the model"):
        OpenAICompatibleModel()
