"""`inferencesh serve --agent NS/NAME=FILE` serves templates; `--llm` picks a real model."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest

from inferencesh.cli._agents import configure_agents
from inferencesh.local import Emulator
from inferencesh.local.models import OpenAICompatibleModel
from inferencesh.testing import reply, scripted_core_app
from tests.cli.conftest import start_serve


def test_serve_serves_an_agent_template_from_a_file(tmp_path: Path) -> None:
    config = tmp_path / "greeter.json"
    config.write_text(
        json.dumps(
            {"core_app": scripted_core_app(reply("Hello from the template.")), "name": "greeter"}
        )
    )
    proc, url = start_serve("--api-key", "sk-cli", "--agent", f"acme/greeter={config}")
    try:
        with httpx2.Client(
            base_url=url, headers={"authorization": "Bearer sk-cli"}, timeout=10
        ) as http:
            body = {"chat_id": None, "agent": "acme/greeter@latest", "input": {"text": "hi"}}
            chat_id = http.post("/agents/run", json=body).json()["data"]["assistant_message"][
                "chat_id"
            ]
            with http.stream("GET", f"/chats/{chat_id}/stream") as stream:
                for line in stream.iter_lines():
                    event = json.loads(line)
                    if event.get("event") == "chats" and event["data"]["status"] == "idle":
                        break
            chat = http.get(f"/chats/{chat_id}").json()["data"]
        assert chat["name"] == "greeter" and chat["agent"]["name"] == "greeter"
        assert chat["chat_messages"][-1]["content"] == [
            {"type": "text", "text": "Hello from the template."}
        ]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_bad_agent_options_say_what_is_wrong(tmp_path: Path) -> None:
    emu = Emulator()
    with pytest.raises(SystemExit, match="NS/NAME=FILE"):
        configure_agents(emu, agents=["no-equals-sign"])
    with pytest.raises(SystemExit, match="missing.json"):
        configure_agents(emu, agents=[f"a/b={tmp_path / 'missing.json'}"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tools": []}))
    with pytest.raises(SystemExit, match="core_app"):
        configure_agents(emu, agents=[f"a/b={bad}"])
    configure_agents(emu, llm="llama3.2", llm_base_url="http://127.0.0.1:9/v1")
    model = emu.models.default
    assert isinstance(model, OpenAICompatibleModel)
    assert (model.model, model.base_url) == ("llama3.2", "http://127.0.0.1:9/v1")
    emu.close()
