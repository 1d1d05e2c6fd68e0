"""Agent flows of the official Python SDK (PyPI `inferencesh`, pinned), used as its README shows.

    <venv>/bin/python -I agent_flows.py BASE_URL API_KEY FLOW

Prints one JSON line: {"flow", "ok": true, "result"} or {"flow", "ok": false, "error"}. The
agents use the emulator's models: the offline rule-based model for any LLM ref (so the
README's weather example runs as written) and `local/scripted` where a flow needs an exact
sequence of tool calls.

The SDK's `send_message` streams only when a callback is passed, and returns as soon as the
run waits for something (a client tool's result, an approval); `run()` waits only when a
callback is passed too. The flows follow the chat afterwards with `get_chat`, as an app would.
"""

from __future__ import annotations

import asyncio  # noqa: TID251 -- the official SDK runs on asyncio (aiohttp); no anyio here
import json
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import inferencesh
from inferencesh import (
    app_tool,
    async_inference,
    inference,
    internal_tools,
    pending_approvals,
    string,
    tool,
)

DEADLINE = 30.0
POLL = 0.02
LLM = {"ref": "infsh/claude-sonnet-4@abc123"}
WEATHER = {"temp": 72, "conditions": "sunny"}
SENTIMENT = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "sentiment": {"type": "string", "enum": ["positive", "negative", "neutral"]},
        "confidence": {"type": "number"},
    },
    "required": ["summary", "sentiment", "confidence"],
}

Flow = Callable[[Any], dict[str, Any]]
AsyncFlow = Callable[[Any], Awaitable[dict[str, Any]]]
FLOWS: dict[str, Flow] = {}
ASYNC_FLOWS: dict[str, AsyncFlow] = {}


def flow(name: str) -> Callable[[Flow], Flow]:
    def register(fn: Flow) -> Flow:
        FLOWS[name] = fn
        return fn

    return register


def async_flow(name: str) -> Callable[[AsyncFlow], AsyncFlow]:
    def register(fn: AsyncFlow) -> AsyncFlow:
        ASYNC_FLOWS[name] = fn
        return fn

    return register


def weather_tool() -> Any:
    return (
        tool("get_weather")
        .describe("Get current weather")
        .param("city", string("City name"))
        .build()
    )


def texts(message: dict[str, Any]) -> str:
    return "".join(
        c.get("text") or "" for c in message.get("content") or [] if c.get("type") == "text"
    )


def brief_chat(chat: dict[str, Any]) -> dict[str, Any]:
    """The parts of a chat the tests look at."""
    messages = chat.get("chat_messages") or []
    return {
        "id": chat.get("id"),
        "status": chat.get("status"),
        "run_state": (chat.get("active_run") or {}).get("state"),
        "output": chat.get("output"),
        "roles": [m.get("role") for m in messages],
        "statuses": [m.get("status") for m in messages],
        "texts": [texts(m) for m in messages],
        "invocations": [
            {
                "name": i["function"]["name"],
                "args": i["function"]["arguments"],
                "status": i["status"],
                "result": i.get("result"),
            }
            for m in messages
            for i in m.get("tool_invocations") or []
        ],
    }


def wait_chat(agent: Any, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    until = time.monotonic() + DEADLINE
    while True:
        chat = agent.get_chat()
        if chat and done(chat):
            return chat
        if time.monotonic() > until:
            raise TimeoutError(f"the chat never got there: {brief_chat(chat or {})}")
        time.sleep(POLL)


def idle(chat: dict[str, Any]) -> bool:
    return chat.get("status") == "idle"


@flow("agent-client-tool")
def agent_client_tool(client: Any) -> dict[str, Any]:
    """The README's ad-hoc agent: a client tool answered from `on_tool_call`, then a follow-up."""
    agent = client.agent(
        {
            "core_app": LLM,
            "system_prompt": "You are a helpful assistant.",
            "tools": [weather_tool()],
        }
    )
    calls: list[dict[str, Any]] = []
    streamed: list[dict[str, Any]] = []

    def on_tool_call(call: Any) -> None:
        calls.append({"id": call.id, "name": call.name, "args": call.args})
        agent.submit_tool_result(call.id, json.dumps(WEATHER))

    reply = agent.send_message(
        "What's the weather in Paris?", on_message=streamed.append, on_tool_call=on_tool_call
    )
    first = wait_chat(agent, idle)
    second_reply = agent.send_message("Thanks!", on_message=streamed.append)
    second = wait_chat(agent, idle)
    return {
        "reply": {
            "role": reply.get("role"),
            "chat_id": reply.get("chat_id"),
            "status": reply.get("status"),
        },
        "chat_id": agent.chat_id,
        "calls": calls,
        "streamed_roles": [m.get("role") for m in streamed],
        "first": brief_chat(first),
        "second": brief_chat(second),
        "second_reply_chat": second_reply.get("chat_id"),
    }


@flow("agent-approval")
def agent_approval(client: Any) -> dict[str, Any]:
    """A server-side tool that needs approval: approved once, rejected once (invoke/reject)."""
    echo = (
        app_tool("echo", "infsh/echo")
        .describe("Echo the input")
        .param("text", string("Text"))
        .require_approval()
        .build()
    )
    script = [
        {"tool_calls": [{"name": "echo", "arguments": {"text": "approved call"}}]},
        {"tool_calls": [{"name": "echo", "arguments": {"text": "rejected call"}}]},
        {"text": "All done."},
    ]
    agent = client.agent(
        {"core_app": {"ref": "local/scripted", "input": {"script": script}}, "tools": [echo]}
    )
    agent.send_message("Echo twice", on_message=lambda message: None)
    waiting = wait_chat(agent, lambda chat: bool(pending_approvals(chat)))
    first = pending_approvals(waiting)[0]
    agent.approve_tool(first.tool_invocation_id)
    waiting = wait_chat(
        agent,
        lambda chat: any(
            p.tool_invocation_id != first.tool_invocation_id for p in pending_approvals(chat)
        ),
    )
    second = pending_approvals(waiting)[0]
    agent.reject_tool(second.tool_invocation_id, "Not this one")
    chat = wait_chat(agent, idle)
    return {
        "first": {"tool": first.tool_name, "args": first.arguments, "chat_id": first.chat_id},
        "second": {"tool": second.tool_name, "args": second.arguments},
        "parked_status": waiting.get("status"),
        "parked_run": (waiting.get("active_run") or {}).get("state"),
        "chat": brief_chat(chat),
    }


@flow("agent-run-structured")
def agent_run_structured(client: Any) -> dict[str, Any]:
    """`run()` with an output schema and the finish tool (a callback makes it wait)."""
    agent = client.agent(
        {
            "core_app": LLM,
            "output_schema": SENTIMENT,
            "internal_tools": internal_tools().finish().build(),
        }
    )
    output = agent.run("Analyze: Great product!", on_message=lambda message: None)
    return {"output": output, "chat": brief_chat(agent.get_chat())}


@flow("agent-template")
def agent_template(client: Any) -> dict[str, Any]:
    """A template registered on the emulator, by `namespace/name@version`."""
    agent = client.agent("conformance/weather@latest")
    agent.send_message(
        "What's the weather in Paris?",
        on_tool_call=lambda call: agent.submit_tool_result(call.id, json.dumps(WEATHER)),
    )
    return {"chat": brief_chat(wait_chat(agent, idle))}


@async_flow("async-agent-client-tool")
async def async_agent_client_tool(client: Any) -> dict[str, Any]:
    """The async agent: an async `on_tool_call` submits the result."""
    agent = client.agent({"core_app": LLM, "tools": [weather_tool()]})
    calls: list[str] = []

    async def on_tool_call(call: Any) -> None:
        calls.append(call.name)
        await agent.submit_tool_result(call.id, json.dumps(WEATHER))

    await agent.send_message("What's the weather in Paris?", on_tool_call=on_tool_call)
    until = time.monotonic() + DEADLINE
    while True:
        chat = await agent.get_chat()
        if chat and chat.get("status") == "idle":
            break
        if time.monotonic() > until:
            raise TimeoutError("the chat never became idle")
        await asyncio.sleep(POLL)
    return {"calls": calls, "chat": brief_chat(chat)}


def describe_error(exc: BaseException) -> dict[str, Any]:
    return {"type": type(exc).__name__, "message": str(exc)}


def run_flow(name: str, base_url: str, api_key: str) -> dict[str, Any]:
    if name in ASYNC_FLOWS:
        return asyncio.run(ASYNC_FLOWS[name](async_inference(api_key=api_key, base_url=base_url)))
    if name in FLOWS:
        return FLOWS[name](inference(api_key=api_key, base_url=base_url))
    raise LookupError(f"no flow named {name!r}")


def main(argv: list[str]) -> int:
    base_url, api_key, name = argv
    report: dict[str, Any] = {"flow": name, "sdk": {"version": inferencesh.__version__}}
    try:
        report.update(ok=True, result=run_flow(name, base_url, api_key))
    except Exception as exc:
        report.update(ok=False, error={**describe_error(exc), "traceback": traceback.format_exc()})
    sys.stdout.write(json.dumps(report, default=repr) + "\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
