"""The chat models read every protocol fixture and keep what they do not know."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inferencesh.models.chat import (
    AgentRun,
    Chat,
    ChatMessage,
    ChatStatusInfo,
    Interrupt,
    ToolCallFunction,
    TurnResponse,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "protocol"


def data(name: str) -> Any:
    body = json.loads((FIXTURES / name).read_text())
    return body["data"] if "success" in body else body


def test_the_final_chat() -> None:
    chat = Chat.model_validate(data("chat-final.json"))
    assert (chat.id, chat.status, chat.is_busy) == ("chat_4b1e8d", "idle", False)
    assert chat.active_run is not None and chat.active_run.state == "completed"
    assert [m.role for m in chat.chat_messages] == ["user", "assistant", "tool", "assistant"]
    assistant = chat.chat_messages[1]
    assert assistant.text == "Let me check the weather." and assistant.is_final
    assert assistant.content[1].tool_calls[0].function.arguments == {"city": "Paris"}
    invocation = assistant.tool_invocations[0]
    assert (invocation.name, invocation.is_settled, invocation.tool_invocation_id) == (
        "get_weather",
        True,
        "toolu_01",
    )
    assert chat.model_dump()["team_id"] == "team_5k2m8q"  # unknown fields are kept
    assert chat.context == {"user_id": "42"}


def test_a_chat_waiting_for_approval() -> None:
    chat = Chat.model_validate(data("chat-approval-required.json"))
    assert chat.is_busy and chat.status == "awaiting_input"
    interrupt = chat.pending_interrupts[0]
    assert (interrupt.reason, interrupt.resource_id, interrupt.meta["tool_name"]) == (
        "tool_approval",
        "tinv_9d1b",
        "generate_image",
    )
    assert Chat(id="c", status="busy").is_busy and not Chat(id="c").is_busy


def test_the_run_response_and_status() -> None:
    response = TurnResponse.model_validate(data("agent-run-response.json"))
    assert response.assistant_message.chat_id == "chat_4b1e8d"
    assert response.assistant_message.agent_run_id == "run_5d2e90"
    assert response.user_message.text == "What's the weather in Paris?"
    assert not response.assistant_message.is_final
    status = ChatStatusInfo.model_validate(data("chat-status.json"))
    assert status.status == "idle" and status.updated_at is not None


def test_nulls_strings_and_odd_values() -> None:
    message = ChatMessage.model_validate({"id": "m", "content": None, "tool_invocations": None})
    assert message.content == [] and message.tool_invocations == [] and message.text == ""
    chat = Chat.model_validate(
        {
            "id": "c",
            "children": None,
            "chat_messages": None,
            "pending_interrupts": None,
            "context": None,
        }
    )
    assert (chat.children, chat.chat_messages, chat.pending_interrupts, chat.context) == (
        [],
        [],
        [],
        {},
    )
    assert Interrupt.model_validate({"id": "i", "meta": '{"tool_name": "x"}'}).meta == {
        "tool_name": "x"
    }
    assert Interrupt.model_validate({"id": "i", "meta": "not json"}).meta == {}
    assert Interrupt.model_validate({"id": "i", "meta": None}).meta == {}
    assert Interrupt.model_validate({"id": "i", "meta": [1]}).meta == {}
    assert ToolCallFunction(arguments='{"a": 1}').argument_object() == {"a": 1}
    assert ToolCallFunction(arguments="{oops").argument_object() == {}
    assert ToolCallFunction(arguments=[1]).argument_object() == {}
    assert ToolCallFunction(arguments=None).argument_object() == {}
    assert AgentRun(id="r", state="input_required").is_active
    assert not AgentRun(id="r", state="canceled").is_active
    content = ChatMessage.model_validate(
        {"id": "m", "content": [{"type": "tool", "tool_calls": None}]}
    )
    assert content.content[0].tool_calls == []
