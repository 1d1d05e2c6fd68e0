"""The official JS and Python SDKs run their agent flows against the emulator, unchanged.

Flows: `py_official/agent_flows.py` and `js/agent_flows.mjs` (client tool round trip and a
follow-up message, approvals via invoke/reject and via interrupts, get chat, `run()` with
structured output, JS polling mode, a template agent). When an SDK and the emulator disagree,
the emulator is what gets fixed.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from tests.conformance._clients import JS_DIR, PY_DIR, FlowRunner

pytestmark = pytest.mark.conformance

WEATHER = {"temp": 72, "conditions": "sunny"}
WEATHER_TOOL = {
    "name": "get_weather",
    "type": "client",
    "description": "Get current weather",
    "client": {
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        }
    },
}


@pytest.fixture(scope="module", autouse=True)
def _weather_template(conformance_server: Any) -> None:
    conformance_server.emulator.agent(
        "conformance/weather", core_app="infsh/claude-haiku-45", tools=[WEATHER_TOOL]
    )


@pytest.fixture(scope="module")
def py_agents(official_py: FlowRunner) -> FlowRunner:
    return dataclasses.replace(
        official_py, argv=[*official_py.argv[:-1], str(PY_DIR / "agent_flows.py")]
    )


@pytest.fixture(scope="module")
def js_agents(official_js: FlowRunner) -> FlowRunner:
    return dataclasses.replace(official_js, argv=["node", str(JS_DIR / "agent_flows.mjs")])


def assert_weather_turn(chat: dict[str, Any], run_state: str = "run_state") -> None:
    """The README's weather turn: the tool called with the city, its result, an answer from it."""
    assert chat["status"] == "idle"
    assert chat[run_state] == "completed"
    assert chat["roles"][:4] == ["user", "assistant", "tool", "assistant"]
    assert set(chat["statuses"]) == {"ready"}
    [call] = chat["invocations"][:1]
    assert (call["name"], call["args"], call["status"]) == (
        "get_weather",
        {"city": "Paris"},
        "completed",
    )
    assert json.loads(call["result"]) == WEATHER
    assert json.loads(chat["texts"][2]) == WEATHER
    assert "72" in chat["texts"][3] and "sunny" in chat["texts"][3]


# -- the official Python SDK -------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["agent-client-tool"])
def test_py_client_tool_round_trip_and_follow_up(py_agents: FlowRunner, flow: str) -> None:
    result = py_agents(flow)
    assert [c["name"] for c in result["calls"]] == ["get_weather"]
    assert result["calls"][0]["args"] == {"city": "Paris"}
    assert (
        result["reply"]["status"] == "pending" and result["reply"]["chat_id"] == result["chat_id"]
    )
    assert_weather_turn(result["first"])
    second = result["second"]
    assert second["id"] == result["chat_id"] == result["second_reply_chat"]
    assert second["roles"] == ["user", "assistant", "tool", "assistant", "user", "assistant"]
    assert second["texts"][-1] == "You said: Thanks!"


def test_py_async_client_tool(py_agents: FlowRunner) -> None:
    result = py_agents("async-agent-client-tool")
    assert result["calls"] == ["get_weather"]
    assert_weather_turn(result["chat"])


def test_py_approval_via_invoke_and_reject(py_agents: FlowRunner) -> None:
    result = py_agents("agent-approval")
    assert result["first"]["tool"] == "echo" and result["first"]["args"] == {
        "text": "approved call"
    }
    assert result["second"]["args"] == {"text": "rejected call"}
    assert (result["parked_status"], result["parked_run"]) == ("awaiting_input", "input_required")
    chat = result["chat"]
    assert chat["status"] == "idle" and chat["run_state"] == "completed"
    approved, rejected = chat["invocations"]
    assert approved["status"] == "completed" and json.loads(approved["result"]) == {
        "text": "approved call"
    }
    assert rejected["status"] == "failed" and "Not this one" in rejected["result"]
    assert chat["texts"][-1] == "All done."


def test_py_run_structured_output(py_agents: FlowRunner) -> None:
    result = py_agents("agent-run-structured")
    assert result["output"] == {
        "summary": "Analyze: Great product!",
        "sentiment": "positive",
        "confidence": 0,
    }
    assert result["chat"]["output"] == result["output"]


def test_py_template_agent(py_agents: FlowRunner) -> None:
    assert_weather_turn(py_agents("agent-template")["chat"])


# -- the official JS SDK -----------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["agent-client-tool", "agent-polling"])
def test_js_client_tool_round_trip_and_follow_up(js_agents: FlowRunner, flow: str) -> None:
    result = js_agents(flow)
    assert result["calls"][0]["name"] == "get_weather" and len(result["calls"]) == 1
    assert result["calls"][0]["args"] == {"city": "Paris"}
    assert result["firstAssistant"]["status"] == "pending"
    # sendMessage resolved only once the turn was over (streaming and polling alike).
    assert_weather_turn(result["first"], "runState")
    second = result["second"]
    assert second["id"] == result["chatId"]
    assert second["roles"][4:] == ["user", "assistant"] and second["status"] == "idle"
    assert second["texts"][-1] == "You said: Thanks!"
    assert {"user", "assistant", "tool"} <= set(result["seenRoles"])


def test_js_approval_via_interrupts(js_agents: FlowRunner) -> None:
    result = js_agents("agent-approval")
    assert [d["decision"] for d in result["decisions"]] == ["allow", "deny"]
    assert result["decisions"][0]["args"] == {"text": "approved call"}
    assert result["resolved"] == [
        {"status": "resolved", "resolution": "allow"},
        {"status": "resolved", "resolution": "deny"},
    ]
    assert result["parked"] == {"status": "awaiting_input", "runState": "input_required"}
    chat = result["chat"]
    assert chat["status"] == "idle" and chat["runState"] == "completed"
    approved, denied = chat["invocations"]
    assert approved["status"] == "completed" and json.loads(approved["result"]) == {
        "text": "approved call"
    }
    assert denied["status"] == "failed" and "not approve" in denied["result"]
    assert chat["texts"][-1] == "All done."


def test_js_run_structured_output(js_agents: FlowRunner) -> None:
    result = js_agents("agent-run-structured")
    assert result["output"] == {
        "summary": "Analyze: Great product!",
        "sentiment": "positive",
        "confidence": 0,
    }
    assert result["chat"]["output"] == result["output"]


def test_js_template_agent(js_agents: FlowRunner) -> None:
    assert_weather_turn(js_agents("agent-template")["chat"], "runState")
