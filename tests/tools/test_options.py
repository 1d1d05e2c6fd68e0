"""One typed options object for every tool kind: `ToolOptions` (and its keyword form)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, get_type_hints

import pytest

from inferencesh.errors import ToolDefinitionError
from inferencesh.tools import (
    ApprovalDecision,
    ApprovalRequest,
    Tool,
    ToolOptionArgs,
    ToolOptions,
    Toolset,
    agent_tool,
    app_tool,
    http_tool,
    mcp_tool,
    string,
    tool,
    webhook_tool,
)


def small_amounts(call: ApprovalRequest) -> ApprovalDecision:
    return "allow" if call.arguments.get("amount", 0) < 100 else "ask"


def build_tool(name: str, **options: Any) -> Tool:
    def transfer(amount: int) -> str:
        """Move money."""
        return str(amount)

    return tool(name=name, **options)(transfer)


def build_app_stub(name: str, **options: Any) -> Tool:
    def stub(prompt: str) -> None:
        """Make an image."""

    return app_tool("infsh/flux@1", name=name, **options)(stub)


def build_agent_stub(name: str, **options: Any) -> Tool:
    def stub(message: str) -> None:
        """Ask the reviewer."""

    return agent_tool("infsh/reviewer@1", name=name, **options)(stub)


BUILDERS: dict[str, Callable[..., Tool]] = {
    "tool": build_tool,
    "tool_with_helpers": lambda name, **o: tool(name=name, params={"q": string("Query")}, **o)(
        lambda q: q
    ),
    "app_tool_stub": build_app_stub,
    "app_tool_call": lambda name, **o: app_tool(name, "infsh/flux@1", **o),
    "agent_tool_stub": build_agent_stub,
    "agent_tool_call": lambda name, **o: agent_tool(name, "infsh/reviewer@1", **o),
    "webhook_tool": lambda name, **o: webhook_tool(name, "https://example.com/hook", **o),
    "http_tool": lambda name, **o: http_tool(name, "https://example.com/api", **o),
    "mcp_tool": lambda name, **o: mcp_tool(name, server="exa", **o),
}


@pytest.mark.parametrize("kind", BUILDERS)
def test_every_kind_keeps_the_same_options(kind: str) -> None:
    made = BUILDERS[kind]("pay", description="Pay someone", display_name="Pay", approval_timeout=30)
    assert made.options == ToolOptions(
        name="pay", description="Pay someone", display_name="Pay", approval_timeout=30
    )
    wire = made.to_wire()
    assert (wire["name"], wire["description"], wire["display_name"]) == (
        "pay",
        "Pay someone",
        "Pay",
    )
    assert (wire["require_approval"], wire["approval_timeout"]) == (False, 30)
    assert (made.require_approval, made.approval_policy, made.approval_timeout) == (
        False,
        None,
        30,
    )


@pytest.mark.parametrize("kind", BUILDERS)
def test_a_policy_parks_every_call_and_is_kept_for_the_runner(kind: str) -> None:
    made = BUILDERS[kind]("pay", require_approval=small_amounts)
    assert made.to_wire()["require_approval"] is True
    assert made.require_approval is True
    assert made.approval_policy is small_amounts
    assert made.options.policy is small_amounts and made.options.needs_approval
    assert "approval_timeout" not in made.to_wire()


@pytest.mark.parametrize("kind", BUILDERS)
def test_bad_options_are_listed_together(kind: str) -> None:
    with pytest.raises(ToolDefinitionError) as info:
        BUILDERS[kind](
            "bad name",
            description=3,
            display_name=b"x",
            require_approval="yes",
            approval_timeout=-1,
        )
    problems = info.value.problems
    assert problems[0].startswith("tool name 'bad name' is invalid")
    assert "description must be a string, not int" in problems
    assert "display_name must be a string, not bytes" in problems
    assert any(p.startswith("require_approval must be True, False or a policy") for p in problems)
    assert any(p.startswith("approval_timeout must be a whole number") for p in problems)


@pytest.mark.parametrize("timeout", [True, 1.5, "30", -1])
def test_approval_timeout_is_whole_seconds(timeout: object) -> None:
    assert ToolOptions(name="t", approval_timeout=timeout).problems() == [  # type: ignore[arg-type]
        f"approval_timeout must be a whole number of seconds >= 0 (0 waits forever), not {timeout!r}"
    ]
    assert ToolOptions(name="t", approval_timeout=0).problems() == []


@pytest.mark.parametrize("kind", BUILDERS)
def test_an_unknown_option_names_the_close_one(kind: str) -> None:
    with pytest.raises(
        TypeError,
        match=r"'requires_approval' is not a tool option \(did you mean 'require_approval'\?\)",
    ):
        BUILDERS[kind]("pay", requires_approval=True)
    with pytest.raises(TypeError, match=r"^'zzz' is not a tool option; the options are: name,"):
        BUILDERS[kind]("pay", zzz=True)


def test_the_keyword_form_lists_exactly_the_options_besides_name() -> None:
    fields = {f.name for f in dataclasses.fields(ToolOptions)}
    assert set(get_type_hints(ToolOptionArgs)) == fields - {"name"}


def test_with_options_changes_only_what_it_is_given() -> None:
    original = build_tool("pay", description="Pay", approval_timeout=10)
    guarded = original.with_options(require_approval=small_amounts)
    assert guarded.options == ToolOptions(
        name="pay", description="Pay", approval_timeout=10, require_approval=small_amounts
    )
    assert original.options.require_approval is False
    assert guarded.with_options(description=None).description == "Move money."
    with pytest.raises(ToolDefinitionError) as info:
        original.with_options(approval_timeout=-5)
    assert info.value.problems[0].startswith("approval_timeout must be")
    with pytest.raises(TypeError, match="did you mean 'display_name'"):
        original.with_options(displayname="x")  # type: ignore[call-arg]


def test_toolset_requiring_approval_with_a_policy() -> None:
    pay, refund = build_tool("pay"), build_tool("refund")
    guarded = Toolset([pay, refund]).requiring_approval(
        lambda t: t.name == "pay", policy=small_amounts
    )
    assert guarded["pay"].approval_policy is small_amounts
    assert guarded["refund"].options.require_approval is False
    assert pay.options.require_approval is False


def test_the_policy_reads_the_request() -> None:
    made = build_tool("pay", require_approval=small_amounts)
    policy = made.approval_policy
    assert policy is not None
    assert policy(ApprovalRequest(tool_name="pay", arguments={"amount": 5})) == "allow"
    assert policy(ApprovalRequest(tool_name="pay", arguments={"amount": 500}, tool=made)) == "ask"
