"""Server-side tools: apps as tasks, sub-agents as child chats, webhooks, HTTP, internal tools."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx2
import pytest

from inferencesh.local import Emulator
from inferencesh.local.models import ModelReply, ModelRequest
from inferencesh.testing import call, calls, reply, scripted_core_app
from tests.local.agents.conftest import Chats, scripted, texts


class Receiver:
    """A tiny HTTP server recording what it was sent (for webhook and HTTP tools)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                receiver.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": self.rfile.read(length).decode() if length else "",
                    }
                )
                status = 500 if "fail" in self.path else 200
                body = b"it broke" if status == 500 else b'{"ok": true}'
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def tool(name: str, kind: str, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "description": name, kind: config, **extra}


def test_an_app_tool_runs_the_app_as_a_task(chats: Chats) -> None:
    app = tool(
        "echo",
        "app",
        {
            "ref": "infsh/echo",
            "input": {"text": "default", "extra": 1},
            "fixed_input": {"fixed": True},
        },
    )
    chat_id = chats.start(scripted(call("echo", text="mine"), reply("done"), tools=[app]))
    chats.idle(chat_id)
    [invocation] = chats.invocations(chat_id)
    # The tool's input gives defaults the model may override; fixed_input always wins.
    assert json.loads(invocation["result"]) == {"text": "mine", "extra": 1, "fixed": True}
    assert invocation["status"] == "completed" and invocation["type"] == "app"


def test_a_failing_app_tool_reports_the_error_to_the_model(chats: Chats) -> None:
    app = tool("fail", "app", {"ref": "infsh/fail"})
    missing = tool("ghost", "app", {"ref": "nobody/ghost"})
    script = (calls(call("fail", message="kaput"), call("ghost")), reply("sorry"))
    chat_id = chats.start(scripted(*script, tools=[app, missing]))
    chat = chats.idle(chat_id)
    failed, ghost = chats.invocations(chat_id)
    assert failed["status"] == "failed" and failed["result"] == "kaput"
    assert ghost["status"] == "failed" and "nobody/ghost" in ghost["result"]
    assert chat["active_run"]["state"] == "completed" and texts(chat)[-1] == "sorry"


def test_an_agent_tool_runs_the_sub_agent_as_a_child_chat(
    chats: Chats, agents_emu: Emulator
) -> None:
    agents_emu.agent(
        "test/researcher", core_app=scripted_core_app(reply("Paris has 2.1 million people."))
    )
    sub = tool("research", "agent", {"ref": "test/researcher@latest"})
    chat_id = chats.start(
        scripted(call("research", message="How big is Paris?"), reply("Answered."), tools=[sub])
    )
    chat = chats.idle(chat_id)
    [invocation] = chats.invocations(chat_id)
    assert (
        invocation["status"] == "completed"
        and invocation["result"] == "Paris has 2.1 million people."
    )
    [child] = chat["children"]
    assert child["parent_id"] == chat_id and child["status"] == "idle"
    child_chat = agents_emu.chat(child["id"])
    assert texts(child_chat) == ["How big is Paris?", "Paris has 2.1 million people."]
    assert (
        child_chat["agent_id"] == agents_emu.agent_runtime.templates.get("test/researcher").agent_id
    )  # type: ignore[union-attr]


def test_a_sub_agent_that_fails_or_is_unknown_fails_the_call(
    chats: Chats, agents_emu: Emulator
) -> None:
    agents_emu.agent("test/broken", core_app=scripted_core_app())  # no turns: its run fails
    tools = [
        tool("broken", "agent", {"ref": "test/broken"}),
        tool("nobody", "agent", {"ref": "test/nobody"}),
    ]
    chat_id = chats.start(
        scripted(
            calls(call("broken", message="x"), call("nobody", message="y")),
            reply("ok"),
            tools=tools,
        )
    )
    chats.idle(chat_id)
    broken, nobody = chats.invocations(chat_id)
    assert broken["status"] == "failed" and "failed" in broken["result"]
    assert nobody["status"] == "failed" and "test/nobody" in nobody["result"]


def test_stopping_the_parent_stops_the_child(
    chats: Chats, agents_emu: Emulator, http: httpx2.Client
) -> None:
    child_tool = {"name": "ask", "type": "client", "client": {"input_schema": {"type": "object"}}}
    agents_emu.agent("test/waiter", core_app=scripted_core_app(call("ask")), tools=[child_tool])
    sub = tool("wait", "agent", {"ref": "test/waiter"})
    chat_id = chats.start(scripted(call("wait", message="go"), tools=[sub]))
    chats.wait(
        chat_id, lambda c: bool(c["children"]) and c["children"][0]["status"] == "awaiting_input"
    )
    http.post(f"/chats/{chat_id}/stop")
    child_id = chats.emu.chat(chat_id)["children"][0]["id"]
    child = chats.wait(child_id, lambda c: c["status"] == "idle")
    assert child["active_run"]["state"] == "canceled"
    assert chats.emu.chat(chat_id)["active_run"]["state"] == "canceled"


def test_a_webhook_tool_posts_the_arguments_with_the_secret(
    chats: Chats, receiver: Receiver, agents_emu: Emulator
) -> None:
    agents_emu.secrets["HOOK_SECRET"] = "s3cret"
    hook = tool(
        "notify",
        "hook",
        {
            "url": receiver.url + "/hook",
            "secret": "HOOK_SECRET",
            "input_schema": {"type": "object"},
        },
    )
    literal = tool("notify2", "hook", {"url": receiver.url + "/hook2", "secret": "literal-value"})
    broken = tool("notify3", "hook", {"url": receiver.url + "/fail"})
    script = (calls(call("notify", channel="#x"), call("notify2"), call("notify3")), reply("sent"))
    chat_id = chats.start(scripted(*script, tools=[hook, literal, broken]))
    chats.idle(chat_id)
    by_path = {r["path"]: r for r in receiver.requests}
    assert by_path["/hook"]["method"] == "POST"
    assert json.loads(by_path["/hook"]["body"]) == {"channel": "#x"}
    assert by_path["/hook"]["headers"]["x-hook-secret"] == "s3cret"
    assert by_path["/hook2"]["headers"]["x-hook-secret"] == "literal-value"
    assert "x-hook-secret" not in by_path["/fail"]["headers"]
    ok, ok2, failed = chats.invocations(chat_id)
    assert ok["status"] == ok2["status"] == "completed" and json.loads(ok["result"]) == {"ok": True}
    assert (
        failed["status"] == "failed"
        and "500" in failed["result"]
        and "it broke" in failed["result"]
    )


def test_an_http_tool_fills_context_and_secrets(
    chats: Chats, http: httpx2.Client, receiver: Receiver, agents_emu: Emulator
) -> None:
    agents_emu.secrets["API_TOKEN"] = "tok"
    fetch = tool(
        "fetch_user",
        "http",
        {
            "url": receiver.url + "/users/{{context.user_id}}",
            "method": "GET",
            "auth": {"type": "bearer", "secret": "API_TOKEN"},
            "headers": {"X-Tenant": "{{context.tenant}}"},
        },
    )
    config = scripted(call("fetch_user", verbose=True), reply("got it"), tools=[fetch])
    response = http.post(
        "/agents/run",
        json={
            "chat_id": None,
            "agent_config": config,
            "context": {"user_id": "42", "tenant": "acme"},
            "input": {"text": "who"},
        },
    )
    chat_id = response.json()["data"]["assistant_message"]["chat_id"]
    chat = chats.idle(chat_id)
    [request] = receiver.requests
    assert request["method"] == "GET" and request["path"] == "/users/42?verbose=true"
    assert (
        request["headers"]["authorization"] == "Bearer tok"
        and request["headers"]["x-tenant"] == "acme"
    )
    assert chat["context"] == {"user_id": "42", "tenant": "acme"}


def test_mcp_and_unknown_tools_fail_with_a_message_for_the_model(chats: Chats) -> None:
    mcp = tool("search", "mcp", {"server": "exa", "tool_name": "search"})
    chat_id = chats.start(scripted(calls(call("search"), call("nope")), reply("ok"), tools=[mcp]))
    chats.idle(chat_id)
    search, nope = chats.invocations(chat_id)
    assert search["status"] == "failed" and "MCP" in search["result"]
    assert (
        nope["status"] == "failed"
        and "not available" in nope["result"]
        and "search" in nope["result"]
    )


def test_plan_and_memory_tools_keep_the_chats_data(chats: Chats) -> None:
    script = (
        call("plan_create", steps=[{"title": "look"}, {"title": "answer"}]),
        calls(
            call("plan_update", index=0, status="completed"),
            call("memory_set", key="city", value="Paris"),
        ),
        calls(call("memory_get", key="city"), call("memory_get", key="nope"), call("plan_load")),
        reply("done"),
    )
    chat_id = chats.start(scripted(*script, internal_tools={"plan": True, "memory": True}))
    chat = chats.idle(chat_id)
    assert [s["status"] for s in chat["agent_data"]["plan_steps"]] == ["completed", "pending"]
    assert chat["agent_data"]["memory"] == {"city": "Paris"}
    results = [
        (i["function"]["name"], i["status"], i["result"]) for i in chats.invocations(chat_id)
    ]
    assert results[3] == ("memory_get", "completed", "Paris")
    assert results[4][1] == "failed"
    assert json.loads(results[5][2])["steps"][0]["title"] == "look"


def test_finish_sets_the_chats_output_and_ends_the_run(chats: Chats, http: httpx2.Client) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer"}},
        "required": ["answer"],
    }
    config = scripted(
        call("finish", answer=42),
        reply("never reached"),
        output_schema=schema,
        internal_tools={"finish": True},
    )
    chat_id = chats.start(config)
    chat = chats.idle(chat_id)
    assert chat["output"] == {"answer": 42}
    assert (
        chat["active_run"]["output"] == {"answer": 42}
        and chat["active_run"]["state"] == "completed"
    )
    assert [m["role"] for m in chat["chat_messages"]] == ["user", "assistant", "tool"]
    assert http.get(f"/chats/{chat_id}").json()["data"]["output"] == {"answer": 42}


def test_a_tool_the_emulator_fails_to_run_fails_the_call_not_the_run(
    chats: Chats, agents_emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(invocation_id: str) -> None:
        raise RuntimeError("emulator bug")

    monkeypatch.setattr(agents_emu.agent_runtime.engine.tools, "run", broken)
    app = tool("echo", "app", {"ref": "infsh/echo"})
    chat = chats.idle(
        chats.start(scripted(call("echo", text="x"), reply("recovered"), tools=[app]))
    )
    [invocation] = chats.invocations(chat["id"])
    assert invocation["status"] == "failed" and "RuntimeError: emulator bug" in invocation["result"]
    assert texts(chat)[-1] == "recovered"


def test_stopping_the_parent_while_the_childs_model_works_stops_the_child(
    chats: Chats, agents_emu: Emulator, http: httpx2.Client
) -> None:
    entered = threading.Event()

    class Slow:
        async def complete(self, request: ModelRequest, emit: Any) -> ModelReply:
            entered.set()
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

    agents_emu.models.register("test/slow-llm", Slow())
    agents_emu.agent("test/slow-agent", core_app="test/slow-llm")
    sub = tool("slow", "agent", {"ref": "test/slow-agent"})
    chat_id = chats.start(scripted(call("slow", message="think"), tools=[sub]))
    assert entered.wait(10)
    http.post(f"/chats/{chat_id}/stop")
    child_id = chats.wait(chat_id, lambda c: bool(c["children"]))["children"][0]["id"]
    child = chats.wait(child_id, lambda c: c["status"] == "idle")
    assert child["active_run"]["state"] == "canceled"
    assert [m["status"] for m in child["chat_messages"]] == ["ready", "cancelled"]
