"""Test your own agent offline with the pytest plugin and a scripted model.

`pip install "inferencesh[local]"` brings the plugin: fixtures for an emulator, clients of it,
and `inferencesh_model`, a `ScriptedModel` answering every agent of the test. Script the
model's turns (`call(...)` a tool, `reply(...)` with text); a step may be a function that
checks what the model was sent. Your code, your tools and the SDK's runner all run for real.

    pytest examples/agent_testing.py     (or: python examples/agent_testing.py)
"""

import pytest

from inferencesh import Agent, Inference
from inferencesh.testing import ModelRequest, ScriptedModel, call, reply, scripted_core_app
from inferencesh.tools import tool

REFUNDS: list[str] = []  # what the tool did, for the tests to check


@tool(require_approval=True)
def refund(order_id: str) -> str:
    """Refund an order.

    Args:
        order_id: The order's id.
    """
    REFUNDS.append(order_id)
    return f"refunded {order_id}"


def support_agent(client: Inference) -> Agent:  # the code under test: how your app builds its agent
    return client.agent(
        core_app="infsh/claude-haiku-45@latest",
        system_prompt="You help customers. Refunds need a supervisor's approval.",
        tools=[refund],
        approve=lambda request: request.arguments["order_id"].startswith("A-"),
    )


@pytest.fixture(autouse=True)
def _no_refunds_yet() -> None:
    REFUNDS.clear()


def test_an_approved_refund_runs_and_the_model_sees_its_result(
    inferencesh_client: Inference, inferencesh_model: ScriptedModel
) -> None:
    def answer(request: ModelRequest) -> dict[str, object]:
        assert request.messages[-1].content == "refunded A-17"  # the tool's result came back
        return reply("Done: A-17 is refunded.")

    inferencesh_model.extend([call("refund", order_id="A-17"), answer])
    answer_ = support_agent(inferencesh_client).send_message("Please refund A-17.")

    assert answer_.text == "Done: A-17 is refunded."
    assert REFUNDS == ["A-17"]
    assert [c.status for c in answer_.tool_calls] == ["completed"]
    first = inferencesh_model.requests[0]
    assert [t.name for t in first.tools] == ["refund"]
    assert first.system_prompt.startswith("You help customers.")
    inferencesh_model.check()  # re-raises what a step raised (a failed assert above)


def test_a_refused_refund_never_runs(
    inferencesh_client: Inference, inferencesh_model: ScriptedModel
) -> None:
    inferencesh_model.extend([call("refund", order_id="B-42"), reply("I cannot refund that.")])
    answer_ = support_agent(inferencesh_client).send_message("Please refund B-42.")

    assert REFUNDS == []
    assert answer_.tool_calls[0].status == "failed"
    assert "refused" in (answer_.tool_calls[0].result or "")
    inferencesh_model.check()


def test_a_script_sent_over_the_wire(inferencesh_client: Inference) -> None:
    # The `local/scripted` core app: the script travels with the agent's config, so the same
    # test runs against any emulator, e.g. `inferencesh serve` in another process.
    agent = inferencesh_client.agent(
        core_app=scripted_core_app(call("refund", order_id="A-1"), reply("Refunded.")),
        tools=[refund],
        approve=lambda request: True,
    )
    assert agent.send_message("Refund A-1.").text == "Refunded."
    assert REFUNDS == ["A-1"]


if __name__ == "__main__":  # pytest in a fresh interpreter, as `pytest examples/...` runs it
    import subprocess
    import sys

    pytest_ = [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider"]
    raise SystemExit(subprocess.call(pytest_))
