"""Chats over the wire: the turn's events, client tools exactly once, stream snapshots, stop."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from inferencesh.local import Emulator
from inferencesh.testing import ScriptedModel, reply
from tests.local.agents.conftest import Chats, Event, client_tool, scripted, texts

PROBLEM = "https://api.inference.sh/errors/"
WEATHER_SCRIPT = (
    {
        "text": "Let me check.",
        "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
    },
    {"text": "It is 18 degrees in Paris."},
)


def event_kinds(events: list[Event]) -> list[str]:
    return [e["event"] for e in events]


def test_a_client_tool_turn_streams_in_order_and_resumes_on_the_result(
    chats: Chats, http: httpx2.Client
) -> None:
    sent = chats.send("Weather?", agent_config=scripted(*WEATHER_SCRIPT, tools=[client_tool()]))
    user, assistant = sent["user_message"], sent["assistant_message"]
    assert (user["role"], user["status"], assistant["status"]) == ("user", "ready", "pending")
    chat_id = assistant["chat_id"]
    posted: list[int] = []

    def answer(event: Event) -> None:
        for invocation in event["data"].get("tool_invocations") or []:
            if event["event"] == "chat_messages" and invocation["status"] == "awaiting_input":
                posted.append(
                    http.post(
                        f"/tools/{invocation['id']}", json={"result": "18 degrees"}
                    ).status_code
                )

    events = chats.follow(
        chat_id, lambda e: e["event"] == "chats" and e["data"]["status"] == "idle", on=answer
    )
    assert posted == [200]
    # The snapshot comes first: the pending assistant message, the run, the chat, all showing
    # the run not yet started (the model waited for the stream).
    assert event_kinds(events[:3]) == ["chat_messages", "agent_runs", "chats"]
    assert events[0]["data"]["id"] == assistant["id"] and events[0]["data"]["status"] == "pending"
    assert (
        events[2]["data"]["status"] == "busy"
        and events[2]["data"]["active_run"]["state"] == "submitted"
    )
    states = [e["data"]["state"] for e in events if e["event"] == "agent_runs"]
    assert states == ["submitted", "working", "input_required", "working", "completed"]
    statuses = [e["data"]["status"] for e in events if e["event"] == "chats"]
    assert statuses == ["busy", "busy", "awaiting_input", "busy", "idle"]
    # Deltas name the message they belong to; seq only grows.
    deltas = [e["data"] for e in events if e["event"] == "delta"]
    assert deltas and {d["resource_id"] for d in deltas[:2]} == {assistant["id"]}
    assert [d["seq"] for d in deltas] == sorted({d["seq"] for d in deltas})
    parked = next(
        e["data"]
        for e in events
        if e["event"] == "chats" and e["data"]["status"] == "awaiting_input"
    )
    [interrupt] = parked["pending_interrupts"]
    assert (interrupt["reason"], interrupt["resource_type"], interrupt["status"]) == (
        "client_tool",
        "tool_invocation",
        "pending",
    )
    assert parked["active_run"]["interrupt_reason"] == "client_tool"
    chat = chats.emu.chat(chat_id)
    assert [m["role"] for m in chat["chat_messages"]] == ["user", "assistant", "tool", "assistant"]
    assert texts(chat) == ["Weather?", "Let me check.", "18 degrees", "It is 18 degrees in Paris."]
    first = chat["chat_messages"][1]
    [call] = first["content"][1]["tool_calls"]
    [invocation] = first["tool_invocations"]
    assert (
        invocation["tool_invocation_id"] == call["id"] == chat["chat_messages"][2]["tool_call_id"]
    )
    assert (invocation["type"], invocation["status"], invocation["result"]) == (
        "client",
        "completed",
        "18 degrees",
    )
    assert chat["pending_interrupts"] == []


def test_a_tool_result_counts_exactly_once(chats: Chats, http: httpx2.Client) -> None:
    chat_id = chats.start(scripted(*WEATHER_SCRIPT, tools=[client_tool()]))
    invocation = chats.waiting(chat_id)
    assert http.post(f"/tools/{invocation['id']}", json={"result": "first"}).status_code == 200
    again = http.post(f"/tools/{invocation['id']}", json={"result": "second"})
    assert again.status_code == 409
    assert again.json()["type"] == PROBLEM + "invalid_transition"
    assert again.json()["current_status"] == "completed"
    chat = chats.idle(chat_id)
    assert [
        t for m, t in zip(chat["chat_messages"], texts(chat), strict=True) if m["role"] == "tool"
    ] == ["first"]
    unknown = http.post("/tools/tinv_nope", json={"result": "x"})
    assert unknown.status_code == 404 and unknown.json()["type"] == PROBLEM + "not_found"


def test_tool_results_in_every_body_form(chats: Chats, http: httpx2.Client) -> None:
    script = [
        {
            "tool_calls": [
                {"name": "get_weather", "arguments": {"city": c}} for c in ("A", "B", "C")
            ]
        },
        {"text": "ok"},
    ]
    chat_id = chats.start(scripted(*script, tools=[client_tool()]))
    chats.waiting(chat_id)
    a, b, c = chats.invocations(chat_id)
    bad = http.post(f"/tools/{a['id']}", json={"nothing": True})
    assert bad.status_code == 400 and bad.json()["type"] == PROBLEM + "invalid_request"
    assert http.post(f"/tools/{a['id']}", json={"result": {"temp": 18}}).status_code == 200
    action = {"action": {"type": "confirm", "payload": {"x": 1}}, "form_data": {"name": "J"}}
    assert http.post(f"/tools/{b['id']}", json=action).status_code == 200
    file = {
        "uri": "https://files.example/cat.png",
        "filename": "cat.png",
        "content_type": "image/png",
    }
    assert (
        http.post(f"/tools/{c['id']}", json={"result": "see", "attachments": [file]}).status_code
        == 200
    )
    chat = chats.idle(chat_id)
    results = {i["function"]["arguments"]["city"]: i["result"] for i in chats.invocations(chat_id)}
    assert json.loads(results["A"]) == {"temp": 18}
    assert json.loads(results["B"]) == action
    assert results["C"] == "see"
    tool_messages = [m for m in chat["chat_messages"] if m["role"] == "tool"]
    assert {"type": "image", "image": file["uri"]} in tool_messages[2]["content"]
    # The next model call ran once, after the last of the three results.
    assert texts(chat)[-1] == "ok"


def test_a_late_stream_replays_what_waits_before_the_chat(
    chats: Chats, agents_emu: Emulator
) -> None:
    agents_emu.agent_stream_wait = 0  # the model runs before anyone follows the chat
    chat_id = chats.start(scripted(*WEATHER_SCRIPT, tools=[client_tool()]))
    invocation = chats.waiting(chat_id)
    chats.wait(chat_id, lambda chat: chat["status"] == "awaiting_input")
    events = chats.follow(chat_id, lambda e: e["event"] == "chats")
    assert event_kinds(events) == ["chat_messages", "agent_runs", "chats"]
    assert events[0]["data"]["tool_invocations"][0]["id"] == invocation["id"]
    assert events[1]["data"]["state"] == "input_required"
    assert events[2]["data"]["status"] == "awaiting_input"


def test_get_chat_status_and_messages(chats: Chats, http: httpx2.Client) -> None:
    chat_id = chats.start(scripted({"text": "hello"}), text="hi")
    chats.idle(chat_id)
    chat = http.get(f"/chats/{chat_id}").json()["data"]
    assert chat["status"] == "idle" and chat["active_run"]["state"] == "completed"
    assert [m["role"] for m in chat["chat_messages"]] == ["user", "assistant"]
    status = http.get(f"/chats/{chat_id}/status").json()["data"]
    assert status == {"id": chat_id, "status": "idle", "updated_at": chat["updated_at"]}
    page = http.get(f"/chats/{chat_id}/messages", params={"limit": 1}).json()["data"]
    assert [m["role"] for m in page["items"]] == ["user"] and page["has_next"]
    rest = http.get(
        f"/chats/{chat_id}/messages", params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()["data"]
    assert [m["role"] for m in rest["items"]] == ["assistant"] and not rest["has_next"]
    assert http.get("/chats/chat_nope").status_code == 404


def test_version_2_callers_get_bare_dtos(chats: Chats, http: httpx2.Client) -> None:
    chat_id = chats.start(scripted({"text": "hello"}))
    chats.idle(chat_id)
    v2 = {"x-api-version": "2"}
    assert http.get(f"/chats/{chat_id}", headers=v2).json()["id"] == chat_id
    assert http.post(f"/chats/{chat_id}/stop", headers=v2).status_code == 204
    wrapped = http.post(f"/chats/{chat_id}/stop").json()
    assert wrapped == {"success": True, "status": 200, "data": None, "messages": []}


def test_a_follow_up_continues_the_chat_and_a_busy_chat_refuses_one(
    chats: Chats, http: httpx2.Client
) -> None:
    config = scripted(*WEATHER_SCRIPT, {"text": "You're welcome."}, tools=[client_tool()])
    chat_id = chats.start(config, text="Weather?")
    invocation = chats.waiting(chat_id)
    busy = http.post(
        "/agents/run", json={"chat_id": chat_id, "agent_config": config, "input": {"text": "again"}}
    )
    assert busy.status_code == 409 and busy.json()["type"] == PROBLEM + "conflict"
    http.post(f"/tools/{invocation['id']}", json={"result": "18"})
    chats.idle(chat_id)
    chats.send("Thanks", chat_id=chat_id, agent_config=config)
    chat = chats.idle(chat_id)
    assert texts(chat)[-2:] == ["Thanks", "You're welcome."]
    assert len({m["agent_run_id"] for m in chat["chat_messages"]}) == 2


def test_stop_cancels_the_run_and_what_it_left_open(chats: Chats, http: httpx2.Client) -> None:
    chat_id = chats.start(scripted(*WEATHER_SCRIPT, tools=[client_tool()]))
    invocation = chats.waiting(chat_id)
    assert http.post(f"/chats/{chat_id}/stop").status_code == 200
    chat = chats.emu.chat(chat_id)
    assert chat["status"] == "idle" and chat["active_run"]["state"] == "canceled"
    assert chats.invocations(chat_id)[0]["status"] == "cancelled"
    assert chat["pending_interrupts"] == []
    late = http.post(f"/tools/{invocation['id']}", json={"result": "late"})
    assert late.status_code == 409
    assert http.post(f"/chats/{chat_id}/stop").status_code == 200  # idle: nothing to stop
    assert http.post("/chats/chat_nope/stop").status_code == 404


def test_stop_before_the_model_ran(chats: Chats, http: httpx2.Client, agents_emu: Emulator) -> None:
    agents_emu.agent_stream_wait = 30
    chat_id = chats.start(scripted({"text": "never"}))  # waits for a stream that never comes
    assert http.post(f"/chats/{chat_id}/stop").status_code == 200
    chat = chats.emu.chat(chat_id)
    assert chat["active_run"]["state"] == "canceled"
    assert [m["status"] for m in chat["chat_messages"]] == ["ready", "cancelled"]


def test_requests_that_cannot_work_are_refused(chats: Chats, http: httpx2.Client) -> None:
    def problem(body: dict[str, Any]) -> tuple[int, str, str]:
        response = http.post("/agents/run", json=body)
        data = response.json()
        return response.status_code, data["type"].removeprefix(PROBLEM), data["detail"]

    text = {"input": {"text": "hi"}}
    assert problem(text)[:2] == (400, "invalid_request")
    assert problem({**text, "agent_config": {"tools": []}})[:2] == (400, "invalid_request")
    status, code, detail = problem(
        {**text, "agent_config": scripted(tools=[{"name": "x", "type": "nope"}])}
    )
    assert (status, code) == (400, "invalid_request") and "tools[0].type" in detail
    status, code, detail = problem(
        {**text, "agent_config": scripted(tools=[client_tool(), client_tool()])}
    )
    assert "two tools" in detail
    assert problem({**text, "agent": "nobody/here@latest"})[:2] == (404, "not_found")
    assert problem({"chat_id": "chat_nope", **text})[:2] == (404, "not_found")
    assert problem({"agent_config": scripted(), "input": "hi"})[:2] == (400, "invalid_request")
    assert problem({"agent_config": scripted(), "input": {"text": 3}})[:2] == (
        400,
        "invalid_request",
    )
    assert len(chats.emu.chats()) == len({c["id"] for c in chats.emu.chats()})  # nothing half-made


def test_attachments_reach_the_message_and_the_model(chats: Chats, agents_emu: Emulator) -> None:
    model = agents_emu.models.register(
        "test/files-llm", ScriptedModel(reply("seen"), reply("seen again"))
    )
    config = {"core_app": {"ref": "test/files-llm"}}
    png = {
        "id": "f1",
        "uri": "https://files.example/cat.png",
        "filename": "cat.png",
        "content_type": "image/png",
        "size": 3,
    }
    txt = {
        "id": "f2",
        "uri": "https://files.example/notes.txt",
        "filename": "notes.txt",
        "content_type": "text/plain",
        "size": 5,
    }
    sent = chats.send(
        "Look", agent_config=config, input={"text": "Look", "attachments": [png, txt]}
    )
    chat_id = sent["user_message"]["chat_id"]
    assert sent["user_message"]["content"] == [
        {"type": "text", "text": "Look"},
        {"type": "image", "image": png["uri"]},
        {"type": "file", "file": txt["uri"]},
    ]
    chats.idle(chat_id)
    # The JS SDK's form: uris in images/files (read only without attachments).
    js_input = {
        "text": "More",
        "images": ["https://files.example/dog.png"],
        "files": [],
        "role": "user",
        "context": [],
        "system_prompt": "",
        "context_size": 0,
    }
    again = chats.send("More", chat_id=chat_id, agent_config=config, input=js_input)
    assert again["user_message"]["content"][1] == {
        "type": "image",
        "image": "https://files.example/dog.png",
    }
    chats.idle(chat_id)
    first, second = model.requests_of(chat_id)
    assert first.messages[0].content == f"Look\n[attached: {png['uri']}]\n[attached: {txt['uri']}]"
    assert second.messages[-1].content == "More\n[attached: https://files.example/dog.png]"


def test_a_stream_left_open_by_an_earlier_turn_does_not_start_the_next_one(
    chats: Chats, http: httpx2.Client, agents_emu: Emulator
) -> None:
    # A client that leaves a turn's stream and sends the next message at once: the server may
    # not have seen the old stream go. The model must still wait for the new stream, or its
    # first deltas go to the old one only (a live reply showed nothing until it completed).
    agents_emu.agent_stream_wait = 3600
    chat_id = chats.start(scripted({"text": "first answer"}, {"text": "second answer"}))
    idle = lambda e: e["event"] == "chats" and e["data"]["status"] == "idle"  # noqa: E731
    with http.stream(
        "GET", f"/chats/{chat_id}/stream", headers={"accept": "application/x-ndjson"}
    ) as stale:
        lines = stale.iter_lines()  # held: a generator let go of would close the stream
        while not idle(json.loads(next(lines))):  # the first turn, to its end; it stays open
            pass
        chats.send("again", chat_id=chat_id)
        # What must not happen: the model starting for the old stream. It would within
        # milliseconds; a second without it is the proof we can have that it waits.
        with pytest.raises(TimeoutError):
            chats.emu.wait_until(
                lambda: chats.emu.chat(chat_id)["active_run"]["state"] != "submitted", 1.0
            )
        events = chats.follow(chat_id, idle)
    deltas = [e["data"]["delta"] for e in events if e["event"] == "delta"]
    assert "".join(d.get("response", "") for d in deltas) == "second answer"


def test_a_stream_opened_between_turns_starts_the_next_one_at_once(
    chats: Chats, http: httpx2.Client, agents_emu: Emulator
) -> None:
    # The JS SDK opens the stream of an existing chat before it posts the message.
    chat_id = chats.start(scripted({"text": "first answer"}, {"text": "second answer"}))
    chats.idle(chat_id)
    agents_emu.agent_stream_wait = 3600  # were this stream not counted, nothing would start
    idle = lambda e: e["event"] == "chats" and e["data"]["status"] == "idle"  # noqa: E731
    events: list[Event] = []
    with http.stream(
        "GET", f"/chats/{chat_id}/stream", headers={"accept": "application/x-ndjson"}
    ) as stream:
        lines = stream.iter_lines()
        events.append(json.loads(next(lines)))  # the snapshot: the server counts this stream
        chats.send("again", chat_id=chat_id)
        chats.wait(chat_id, lambda chat: chat["active_run"]["state"] != "submitted")
        for line in lines:
            event = json.loads(line)
            events.append(event)
            if idle(event) and len([e for e in events if idle(e)]) == 2:
                break
    deltas = [e["data"]["delta"] for e in events if e["event"] == "delta"]
    assert "".join(d.get("response", "") for d in deltas) == "second answer"
