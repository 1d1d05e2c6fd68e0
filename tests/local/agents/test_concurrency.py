"""Many chats at once, and a stop reaching the work a run started."""

from __future__ import annotations

import json
import threading
from contextlib import aclosing
from typing import Any

import anyio
import httpx2
import pytest

from inferencesh.local import AppContext, Emulator, RunningServer
from inferencesh.testing import call, reply
from tests.local.agents.conftest import API_KEY, Chats, client_tool, scripted


# asyncio only: under trio, leaving an httpx2 stream early leaves its inner generator to the
# garbage collector (a ResourceWarning); what is tested here is the emulator, not the client.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_a_hundred_chats_with_a_client_tool_each(
    agents_server: RunningServer, agents_emu: Emulator
) -> None:
    config = scripted(call("get_weather", city="Paris"), reply("done"), tools=[client_tool()])
    headers = {"authorization": f"Bearer {API_KEY}"}
    limits = httpx2.Limits(max_connections=300, max_keepalive_connections=300)
    results: list[tuple[str, int]] = []

    async def one(http: httpx2.AsyncClient, n: int) -> None:
        body = {"chat_id": None, "agent_config": config, "input": {"text": f"chat {n}"}}
        chat_id = (await http.post("/agents/run", json=body)).json()["data"]["assistant_message"][
            "chat_id"
        ]
        posted = 0
        async with (
            http.stream("GET", f"/chats/{chat_id}/stream") as stream,
            aclosing(stream.aiter_lines()) as lines,
        ):
            async for line in lines:
                event = json.loads(line)
                data: dict[str, Any] = event.get("data") or {}
                for invocation in data.get("tool_invocations") or []:
                    if (
                        event["event"] == "chat_messages"
                        and invocation["status"] == "awaiting_input"
                    ):
                        response = await http.post(
                            f"/tools/{invocation['id']}", json={"result": str(n)}
                        )
                        posted += response.status_code == 200
                if event.get("event") == "chats" and data["status"] == "idle":
                    break
        results.append((chat_id, posted))

    async with httpx2.AsyncClient(
        base_url=agents_server.base_url, headers=headers, timeout=30, limits=limits
    ) as http:
        async with anyio.create_task_group() as group:
            for n in range(100):
                group.start_soon(one, http, n)
    assert len(results) == 100 and all(posted == 1 for _, posted in results)
    for chat_id, _ in results:
        chat = agents_emu.chat(chat_id)
        assert chat["active_run"]["state"] == "completed"
        assert [m["role"] for m in chat["chat_messages"]] == [
            "user",
            "assistant",
            "tool",
            "assistant",
        ]


def test_stop_cancels_a_running_app_tool_task(
    chats: Chats, agents_emu: Emulator, http: httpx2.Client
) -> None:
    entered, release = threading.Event(), threading.Event()

    @agents_emu.app("test/blocker")
    def blocker(ctx: AppContext, input: dict[str, Any]) -> dict[str, Any]:  # pyright: ignore[reportUnusedFunction]
        entered.set()
        while not release.wait(0.01):
            ctx.raise_if_cancelled()
        return {}

    tool = {"name": "block", "type": "app", "app": {"ref": "test/blocker"}}
    try:
        chat_id = chats.start(scripted(call("block"), reply("never"), tools=[tool]))
        assert entered.wait(10)
        task_id = next(
            t["id"]
            for t in agents_emu.tasks()
            if t["app_id"] == agents_emu.apps.get("test/blocker").app_id
        )  # type: ignore[union-attr]
        http.post(f"/chats/{chat_id}/stop")
        assert agents_emu.wait_for_task(task_id)["status"] == 12  # cancelled with the run
        assert chats.invocations(chat_id)[0]["status"] == "cancelled"
    finally:
        release.set()
