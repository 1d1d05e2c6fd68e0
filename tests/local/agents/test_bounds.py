"""Bounds hold for chats: retained chats, body sizes, the steps of one run."""

from __future__ import annotations

import httpx2

from inferencesh.local import Emulator, running
from inferencesh.testing import call, reply, scripted_core_app
from tests.local.agents.conftest import API_KEY, Chats, scripted


def test_past_max_chats_the_oldest_idle_chats_are_forgotten() -> None:
    emu = Emulator(api_key=API_KEY, max_chats=2, agent_stream_wait=0)
    tool = {"name": "wait", "type": "client", "client": {"input_schema": {"type": "object"}}}
    with (
        running(emu) as server,
        httpx2.Client(
            base_url=server.base_url, headers={"authorization": f"Bearer {API_KEY}"}
        ) as http,
    ):
        chats = Chats(http, emu)
        busy = chats.start(scripted(call("wait"), tools=[tool]))
        chats.waiting(busy)
        old = chats.start(scripted(reply("old")))
        chats.idle(old)
        new = chats.start(scripted(reply("new")))
        chats.idle(new)
        # The busy chat is kept though it is the oldest; the oldest idle one is gone.
        assert http.get(f"/chats/{old}").status_code == 404
        assert (
            http.get(f"/chats/{busy}").status_code == 200
            and http.get(f"/chats/{new}").status_code == 200
        )
        assert len(emu.chats()) == 2
    emu.close()


def test_a_run_that_loops_on_tools_ends_after_max_steps(chats: Chats, agents_emu: Emulator) -> None:
    steps = agents_emu.agent_runtime.engine.max_steps
    agents_emu.agent_runtime.engine.max_steps = 3
    try:
        loop = [call("memory_get_all")] * 5
        chat = chats.idle(chats.start(scripted(*loop, internal_tools={"memory": True})))
    finally:
        agents_emu.agent_runtime.engine.max_steps = steps
    assert (
        chat["active_run"]["state"] == "failed" and "3 model calls" in chat["active_run"]["error"]
    )


def test_a_body_over_the_limit_is_refused_before_anything_is_made(
    chats: Chats, agents_emu: Emulator
) -> None:
    before = len(agents_emu.chats())
    limit = agents_emu.max_body_size
    agents_emu.max_body_size = 1000
    try:
        body = {
            "chat_id": None,
            "agent_config": {"core_app": scripted_core_app(reply("x"))},
            "input": {"text": "x" * 1001},
        }
        response = chats.http.post("/agents/run", json=body)
    finally:
        agents_emu.max_body_size = limit
    assert response.status_code == 413
    assert len(agents_emu.chats()) == before
