"""Approvals: a tool call parked until someone allows or refuses it (agents.md §8)."""

from __future__ import annotations

import httpx2
import pytest

from inferencesh.local import Emulator
from inferencesh.testing import ModelRequest, ScriptedModel, call, reply
from tests.local.agents.conftest import Chats, client_tool, scripted, texts

PROBLEM = "https://api.inference.sh/errors/"
ECHO = {
    "name": "echo",
    "type": "app",
    "description": "Echo",
    "require_approval": True,
    "app": {"ref": "infsh/echo"},
}


def test_an_approved_server_tool_runs(chats: Chats, http: httpx2.Client) -> None:
    chat_id = chats.start(scripted(call("echo", text="hi"), reply("done"), tools=[ECHO]))
    waiting = chats.waiting(chat_id, "awaiting_approval")
    chat = chats.emu.chat(chat_id)
    assert chat["status"] == "awaiting_input" and chat["active_run"]["state"] == "input_required"
    assert chat["active_run"]["interrupt_reason"] == "tool_approval"
    [interrupt] = chat["pending_interrupts"]
    assert interrupt["reason"] == "tool_approval" and interrupt["resource_id"] == waiting["id"]
    assert interrupt["meta"] == {
        "tool_invocation_id": waiting["id"],
        "tool_name": "echo",
        "arguments": {"text": "hi"},
    }
    listed = http.get(f"/agent-runs/{chat['active_run']['id']}/interrupts").json()["data"]
    assert [i["id"] for i in listed] == [interrupt["id"]]
    assert http.post(f"/tools/{waiting['id']}/invoke").status_code == 200
    again = http.post(f"/tools/{waiting['id']}/invoke")
    assert again.status_code == 409 and again.json()["type"] == PROBLEM + "invalid_transition"
    chat = chats.idle(chat_id)
    [done] = chats.invocations(chat_id)
    assert done["status"] == "completed" and done["result"] == '{"text": "hi"}'
    assert texts(chat)[-1] == "done"
    assert chats.emu.tasks()[-1]["input"] == {"text": "hi"}  # it ran as a task


def test_a_rejection_reaches_the_model_and_the_tool_never_runs(
    chats: Chats, http: httpx2.Client, agents_emu: Emulator
) -> None:
    seen: list[str] = []

    def after(request: ModelRequest) -> dict[str, str]:
        seen.append(request.messages[-1].content)
        return reply("ok, I won't")

    model = agents_emu.models.register(
        "test/approval-model", ScriptedModel(call("echo", text="no"), after)
    )
    tasks_before = len(agents_emu.tasks())
    chat_id = chats.start({"core_app": {"ref": "test/approval-model"}, "tools": [ECHO]})
    waiting = chats.waiting(chat_id, "awaiting_approval")
    assert (
        http.post(f"/tools/{waiting['id']}/reject", json={"reason": "too expensive"}).status_code
        == 200
    )
    chats.idle(chat_id)
    model.check()
    [refused] = chats.invocations(chat_id)
    assert refused["status"] == "failed" and "too expensive" in refused["result"]
    assert seen == [refused["result"]]
    assert len(agents_emu.tasks()) == tasks_before


def test_resolving_the_interrupt_allows_or_denies(chats: Chats, http: httpx2.Client) -> None:
    script = (call("echo", text="a"), call("echo", text="b"), reply("done"))
    chat_id = chats.start(scripted(*script, tools=[ECHO]))
    chats.waiting(chat_id, "awaiting_approval")
    [first] = chats.emu.chat(chat_id)["pending_interrupts"]
    bad = http.post(f"/interrupts/{first['id']}/resolve", json={"decision": "maybe"})
    assert bad.status_code == 400
    resolved = http.post(f"/interrupts/{first['id']}/resolve", json={"decision": "allow"}).json()[
        "data"
    ]
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "allow")
    chats.wait(chat_id, lambda c: any(i["id"] != first["id"] for i in c["pending_interrupts"]))
    [second] = chats.emu.chat(chat_id)["pending_interrupts"]
    denied = http.post(f"/interrupts/{second['id']}/resolve", json={"decision": "deny"}).json()[
        "data"
    ]
    assert (denied["status"], denied["resolution"]) == ("resolved", "deny")
    again = http.post(f"/interrupts/{second['id']}/resolve", json={"decision": "allow"})
    assert again.status_code == 409
    chats.idle(chat_id)
    assert [i["status"] for i in chats.invocations(chat_id)] == ["completed", "failed"]
    assert http.post("/interrupts/int_nope/resolve", json={"decision": "allow"}).status_code == 404


def test_an_approved_client_tool_then_waits_for_its_result(
    chats: Chats, http: httpx2.Client
) -> None:
    tool = client_tool("delete_file", require_approval=True)
    chat_id = chats.start(scripted(call("delete_file", city="x"), reply("deleted"), tools=[tool]))
    waiting = chats.waiting(chat_id, "awaiting_approval")
    early = http.post(f"/tools/{waiting['id']}", json={"result": "too early"})
    assert early.status_code == 409
    http.post(f"/tools/{waiting['id']}/invoke")
    chats.waiting(chat_id, "awaiting_input")
    [interrupt] = chats.emu.chat(chat_id)["pending_interrupts"]
    assert interrupt["reason"] == "client_tool"
    # A client tool's interrupt ends with its result, not a decision.
    assert (
        http.post(f"/interrupts/{interrupt['id']}/resolve", json={"decision": "allow"}).status_code
        == 409
    )
    http.post(f"/tools/{waiting['id']}", json={"result": "gone"})
    chat = chats.idle(chat_id)
    assert texts(chat)[-1] == "deleted"


def test_an_approval_nobody_answers_is_denied_after_its_timeout(chats: Chats) -> None:
    tool = {**ECHO, "approval_timeout": 0.2}
    chat_id = chats.start(scripted(call("echo", text="x"), reply("gave up"), tools=[tool]))
    waiting = chats.waiting(chat_id, "awaiting_approval")
    interrupt = chats.emu.chat(chat_id)["pending_interrupts"][0]
    assert interrupt["expires_at"] > interrupt["created_at"]
    chat = chats.idle(chat_id)
    [expired] = chats.invocations(chat_id)
    assert expired["id"] == waiting["id"] and expired["status"] == "failed"
    assert "not approved in time" in expired["result"]
    assert texts(chat)[-1] == "gave up"


def test_always_allow_skips_later_approvals_in_the_chat(chats: Chats, http: httpx2.Client) -> None:
    script = (call("echo", text="a"), call("echo", text="b"), reply("done"))
    chat_id = chats.start(scripted(*script, tools=[ECHO]))
    waiting = chats.waiting(chat_id, "awaiting_approval")
    response = http.post(
        f"/chats/{chat_id}/tools/{waiting['id']}/always-allow", json={"tool_name": "echo"}
    )
    assert response.status_code == 200
    chat = chats.idle(chat_id)
    assert [i["status"] for i in chats.invocations(chat_id)] == ["completed", "completed"]
    assert chat["agent_data"]["always_allowed_tools"] == ["echo"]


def test_allow_all_tools_needs_no_approval(chats: Chats) -> None:
    config = scripted(
        call("echo", text="a"), reply("done"), tools=[ECHO], permissions={"allow_all_tools": True}
    )
    chat_id = chats.start(config)
    chats.idle(chat_id)
    assert [i["status"] for i in chats.invocations(chat_id)] == ["completed"]


@pytest.mark.parametrize("path", ["invoke", "reject"])
def test_approvals_with_an_api_key_can_be_refused(
    chats: Chats, http: httpx2.Client, agents_emu: Emulator, path: str
) -> None:
    chat_id = chats.start(scripted(call("echo", text="a"), reply("done"), tools=[ECHO]))
    waiting = chats.waiting(chat_id, "awaiting_approval")
    agents_emu.allow_api_key_approvals = False
    refused = http.post(f"/tools/{waiting['id']}/{path}", json={"reason": ""})
    assert refused.status_code == 403 and refused.json()["type"] == PROBLEM + "requires_sign_in"
    assert chats.invocations(chat_id)[0]["status"] == "awaiting_approval"
    agents_emu.allow_api_key_approvals = True
    http.post(f"/chats/{chat_id}/stop")
