"""Fixtures of the agent runtime's tests: an emulator on a real socket, and a chat driver."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from inferencesh.local import Emulator, RunningServer, running

API_KEY = "sk-agents-suite-0123"
STREAM_WAIT = 0.02
Event = dict[str, Any]


@pytest.fixture(scope="session")
def agents_emu() -> Iterator[Emulator]:
    # Runs start 20 ms after their POST unless a stream attaches; tests that follow the stream
    # from the start set a long wait, so the model never starts before they are there.
    emu = Emulator(
        api_key=API_KEY,
        heartbeat_interval=0.05,
        snapshot_interval=None,
        agent_stream_wait=STREAM_WAIT,
    )
    yield emu
    emu.close()


@pytest.fixture(scope="session")
def agents_server(agents_emu: Emulator) -> Iterator[RunningServer]:
    with running(agents_emu) as server:
        yield server


@pytest.fixture(autouse=True)
def _restore(agents_emu: Emulator) -> Iterator[None]:
    yield
    agents_emu.allow_api_key_approvals = True
    agents_emu.agent_stream_wait = STREAM_WAIT
    agents_emu.secrets.clear()
    agents_emu.faults.reset()


@pytest.fixture
def http(agents_server: RunningServer) -> Iterator[httpx2.Client]:
    headers = {"authorization": f"Bearer {API_KEY}"}
    with httpx2.Client(base_url=agents_server.base_url, headers=headers, timeout=10) as client:
        yield client


class Chats:
    """Drives chats over HTTP: post messages, follow streams, wait for states."""

    def __init__(self, http: httpx2.Client, emu: Emulator) -> None:
        self.http = http
        self.emu = emu

    def send(self, text: str, *, chat_id: str | None = None, **body: Any) -> dict[str, Any]:
        """`POST /agents/run`; the response's data (user and assistant messages)."""
        response = self.http.post(
            "/agents/run", json={"chat_id": chat_id, "input": {"text": text}, **body}
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def start(self, config: dict[str, Any], text: str = "go") -> str:
        """A new ad-hoc chat; its id."""
        return str(self.send(text, agent_config=config)["assistant_message"]["chat_id"])

    def follow(
        self,
        chat_id: str,
        until: Callable[[Event], bool],
        *,
        on: Callable[[Event], None] | None = None,
    ) -> list[Event]:
        """Read the chat's stream until `until(event)`; every event read (heartbeats skipped)."""
        events: list[Event] = []
        with self.http.stream(
            "GET", f"/chats/{chat_id}/stream", headers={"accept": "application/x-ndjson"}
        ) as stream:
            for line in stream.iter_lines():
                event = json.loads(line)
                if event.get("type") == "heartbeat":
                    continue
                events.append(event)
                if on is not None:
                    on(event)
                if until(event):
                    return events
        raise AssertionError(f"the stream ended first: {events}")

    def wait(self, chat_id: str, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Block until the chat (as `GET /chats/{id}` shows it) satisfies `predicate`."""
        self.emu.wait_until(lambda: predicate(self.emu.chat(chat_id)))
        return self.emu.chat(chat_id)

    def idle(self, chat_id: str) -> dict[str, Any]:
        return self.wait(chat_id, lambda chat: chat["status"] == "idle")

    def invocations(self, chat_id: str) -> list[dict[str, Any]]:
        chat = self.emu.chat(chat_id)
        return [i for m in chat["chat_messages"] for i in m.get("tool_invocations") or []]

    def waiting(self, chat_id: str, status: str = "awaiting_input") -> dict[str, Any]:
        """Block until an invocation of the chat has `status`; that invocation."""
        self.emu.wait_until(lambda: any(i["status"] == status for i in self.invocations(chat_id)))
        return next(i for i in self.invocations(chat_id) if i["status"] == status)


@pytest.fixture
def chats(http: httpx2.Client, agents_emu: Emulator) -> Chats:
    return Chats(http, agents_emu)


def scripted(
    *turns: dict[str, Any], tools: list[dict[str, Any]] | None = None, **config: Any
) -> dict[str, Any]:
    """An ad-hoc agent config on the `local/scripted` core app."""
    return {
        "core_app": {"ref": "local/scripted", "input": {"script": list(turns)}},
        "tools": tools or [],
        **config,
    }


def client_tool(name: str = "get_weather", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "client",
        "description": f"the {name} tool",
        "client": {
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            }
        },
        **extra,
    }


def texts(chat: dict[str, Any]) -> list[str]:
    return [
        "".join(c.get("text") or "" for c in m["content"] if c["type"] == "text")
        for m in chat["chat_messages"]
    ]
