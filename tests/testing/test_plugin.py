"""The pytest plugin users get: fixtures that serve a fresh emulator per test."""

from __future__ import annotations

import subprocess
import sys

import httpx2
import pytest

from inferencesh import AsyncInference, Inference, NotFoundError
from inferencesh.local import AppContext, Emulator, RunningServer
from inferencesh.testing import ScriptedModel, call, reply


def test_register_an_app_and_run_it(
    inferencesh_emulator: Emulator, inferencesh_client: Inference
) -> None:
    @inferencesh_emulator.app("me/upper")
    def upper(ctx: AppContext, input: dict[str, str]) -> dict[str, str]:  # pyright: ignore[reportUnusedFunction]
        ctx.progress(0.5, "shouting")
        return {"text": input["text"].upper()}

    task = inferencesh_client.run("me/upper", {"text": "hi"})
    assert task.output == {"text": "HI"}


def test_each_test_gets_a_fresh_emulator(inferencesh_client: Inference) -> None:
    with pytest.raises(NotFoundError):
        inferencesh_client.run("me/upper", {"text": "hi"})
    assert inferencesh_client.tasks.list().items == []


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_async_client_fixture(
    anyio_backend: str, inferencesh_async_client: AsyncInference
) -> None:
    task = await inferencesh_async_client.run("infsh/echo", {"text": anyio_backend})
    assert task.output == {"text": anyio_backend}


def test_the_model_fixture_answers_every_agent(
    inferencesh_emulator: Emulator,
    inferencesh_server: RunningServer,
    inferencesh_model: ScriptedModel,
) -> None:
    inferencesh_model.extend([call("get_weather", city="Paris"), reply("Sunny.")])
    tool = {"name": "get_weather", "type": "client", "client": {"input_schema": {"type": "object"}}}
    headers = {"authorization": f"Bearer {inferencesh_server.api_key}"}
    with httpx2.Client(base_url=inferencesh_server.base_url, headers=headers) as http:
        body = {
            "chat_id": None,
            "agent_config": {"core_app": "any/llm", "tools": [tool]},
            "input": {"text": "hi"},
        }
        chat_id = http.post("/agents/run", json=body).json()["data"]["assistant_message"]["chat_id"]
        inferencesh_emulator.wait_until(
            lambda: inferencesh_emulator.chat(chat_id)["status"] == "awaiting_input"
        )
        [message] = [
            m
            for m in inferencesh_emulator.chat(chat_id)["chat_messages"]
            if m.get("tool_invocations")
        ]
        invocation = message["tool_invocations"][0]
        assert invocation["function"] == {"name": "get_weather", "arguments": {"city": "Paris"}}
        http.post(f"/tools/{invocation['id']}", json={"result": "18"})
        inferencesh_emulator.wait_until(
            lambda: inferencesh_emulator.chat(chat_id)["status"] == "idle"
        )
    inferencesh_model.check()
    assert inferencesh_model.requests[-1].messages[-1].content == "18"


def test_the_model_script_helpers_work_in_a_script_without_pytest() -> None:
    # A demo or a script writes model turns with these; pytest is not there to import.
    code = """
import sys

class NoPytest:
    def find_spec(self, name, path=None, target=None):
        if name == "pytest" or name.startswith("_pytest"):
            raise ImportError("pytest is not installed here")

sys.meta_path.insert(0, NoPytest())
from inferencesh.testing import ScriptedModel, call, reply, scripted_core_app

print(scripted_core_app(call("lookup", key="k1"), reply("done"))["input"]["script"])
print(type(ScriptedModel(reply("hi"))).__name__)
try:
    from inferencesh.testing import inferencesh_client
except ImportError as exc:
    print("fixture:", exc)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    script, model, fixture = done.stdout.splitlines()
    assert script == (
        "[{'tool_calls': [{'name': 'lookup', 'arguments': {'key': 'k1'}}]}, {'text': 'done'}]"
    )
    assert model == "ScriptedModel"
    assert fixture == "fixture: pytest is not installed here"
