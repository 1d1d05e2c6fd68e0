"""Wire JSON of every tool kind against the protocol fixtures (copied from the protocol notes).

`fixtures/agent-run-request-adhoc.json` is what the official Python SDK 0.36 builders send;
`fixtures/tool-schema-example.json` is the JS/PY schema-helper output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from inferencesh.tools import (
    AgentTool,
    AppTool,
    HttpTool,
    InvalidArguments,
    McpTool,
    Skill,
    Toolset,
    ValidatedArgs,
    WebhookTool,
    agent_tool,
    app_tool,
    array,
    boolean,
    enum_of,
    http_tool,
    integer,
    internal_tools,
    mcp_tool,
    obj,
    optional,
    string,
    tool,
    webhook_tool,
)

FIXTURES = Path(__file__).parent / "fixtures"
ADHOC = json.loads((FIXTURES / "agent-run-request-adhoc.json").read_text())["agent_config"]
SCHEMAS = json.loads((FIXTURES / "tool-schema-example.json").read_text())


def fixture_tool(name: str) -> dict[str, Any]:
    return next(t for t in ADHOC["tools"] if t["name"] == name)


def build_fixture_tools() -> Toolset:
    @tool(
        params={
            "city": string("City name"),
            "units": optional(enum_of(["celsius", "fahrenheit"], "Temperature units")),
        },
        description="Get current weather for a city",
    )
    def get_weather(city: str, units: str = "celsius") -> str:
        return city

    @tool(params={"path": string("Absolute file path")}, require_approval=True)
    def delete_file(path: str) -> str:
        """Delete a file on the user's machine"""
        return path

    generate_image = app_tool(
        "generate_image",
        "infsh/flux-schnell@abc123",
        display_name="Generate Image",
        description="Generate an image from a prompt",
        require_approval=True,
        function="generate",
        session_enabled=True,
        setup={"model": "schnell"},
        input={"width": 1024},
    )

    @agent_tool("infsh/code-reviewer@xyz789")
    def code_review(code: str) -> None:
        """Reviews code for bugs"""

    send_slack = webhook_tool(
        "send_slack",
        "https://hooks.slack.com/services/T000/B000/XXX",
        secret="SLACK_WEBHOOK_SECRET",
        description="Post a Slack message",
        params={
            "channel": string("Channel name"),
            "message": string("Message text"),
            "urgent": optional(boolean("Mark as urgent")),
        },
    )
    fetch_user = http_tool(
        "fetch_user",
        "https://api.example.com/users/{{context.user_id}}",
        method="GET",
        auth={"type": "bearer", "secret": "API_TOKEN"},
        headers={"Accept": "application/json"},
        description="Fetch the user profile",
    )
    web_search = mcp_tool(
        "web_search",
        server="exa",
        tool_name="search",
        description="Search the web via the exa MCP server",
    )
    return Toolset(
        [get_weather, delete_file, generate_image, code_review, send_slack, fetch_user, web_search]
    )


def test_every_kind_matches_the_python_sdk_fixture() -> None:
    assert build_fixture_tools().to_wire() == ADHOC["tools"]


def test_internal_tools_and_skills_match_the_fixture() -> None:
    assert internal_tools(plan=True, memory=True, finish=True).to_wire() == ADHOC["internal_tools"]
    assert internal_tools().plan().memory().finish().build() == ADHOC["internal_tools"]
    skills = [
        Skill(
            "house-style",
            "How we write answers",
            content="# House style\n\nAnswer in two sentences.",
        ),
        Skill("api-docs", "API documentation", url="https://example.com/skills/api-docs.md"),
    ]
    assert [s.to_wire() for s in skills] == ADHOC["skills"]


def test_decorated_function_matches_the_fixture_with_a_closed_root() -> None:
    @tool
    def get_weather(city: str, units: Literal["celsius", "fahrenheit"] | None = None) -> str:
        """Get current weather for a city

        Args:
            city: City name
            units: Temperature units
        """
        return city

    wire = get_weather.to_wire()
    expected = fixture_tool("get_weather")
    assert {k: v for k, v in wire.items() if k != "client"} == {
        k: v for k, v in expected.items() if k != "client"
    }
    assert wire["client"] == {
        "input_schema": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "units": {
                    "anyOf": [
                        {"enum": ["celsius", "fahrenheit"], "type": "string"},
                        {"type": "null"},
                    ],
                    "description": "Temperature units",
                    "default": None,
                },
            },
            "required": ["city"],
            "additionalProperties": False,
        }
    }


def handler(**kwargs: Any) -> str:
    return ""


def arguments(result: ValidatedArgs | InvalidArguments) -> dict[str, Any]:
    assert isinstance(result, ValidatedArgs), result
    return result.arguments


def test_helpers_render_like_the_js_builders_key_order_included() -> None:
    params = {
        "title": string("Task title"),
        "priority": enum_of(["low", "medium", "high"], "Priority level"),
        "tags": array(string("Tag name"), "List of tags"),
        "metadata": optional(
            obj(
                {"assignee": optional(string("Assignee email")), "estimate": integer("Hours")},
                "Additional metadata",
            )
        ),
    }
    create_task = tool(name="create_task", params=params, description="Create a task")(handler)
    expected = SCHEMAS["js_0_6_54"]["create_task"]
    wire = create_task.to_wire()
    del wire["require_approval"]  # JS omits it when false; the PY SDK always sends it
    assert json.dumps(wire) == json.dumps(expected)  # same keys in the same order


def test_array_of_objects_recurses_like_js() -> None:
    bulk = tool(
        name="bulk",
        params={
            "items": array(obj({"id": integer("Id"), "note": optional(string("Note"))}), "Items")
        },
        description="",
    )(handler)
    wire = bulk.to_wire()
    del wire["require_approval"]
    assert wire == SCHEMAS["js_0_6_54"]["bulk_array_of_objects"]
    assert arguments(bulk.validate_arguments({"items": [{"id": "3"}]})) == {"items": [{"id": 3}]}


def test_app_and_agent_tools_from_stubs() -> None:
    @app_tool("infsh/flux-schnell@latest", require_approval=True, approval_timeout=30)
    def generate_image(prompt: str, width: int = 1024) -> None:
        """Generate an image from a prompt.

        Args:
            prompt: What to draw.
        """

    assert isinstance(generate_image, AppTool)
    assert generate_image.to_wire() == {
        "name": "generate_image",
        "display_name": "generate_image",
        "description": "Generate an image from a prompt.",
        "type": "app",
        "require_approval": True,
        "approval_timeout": 30,
        "app": {"ref": "infsh/flux-schnell@latest"},
    }
    # The protocol carries no schema for app tools; the stub's schema stays local.
    assert generate_image.parameters_schema == {
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "description": "What to draw."},
            "width": {"type": "integer", "default": 1024},
        },
        "required": ["prompt"],
        "additionalProperties": False,
    }
    assert arguments(generate_image.validate_arguments({"prompt": "cat"})) == {
        "prompt": "cat",
        "width": 1024,
    }

    @agent_tool("infsh/code-reviewer", name="review", display_name="Code review")
    def reviewer(code: str) -> None:
        """Review code."""

    assert isinstance(reviewer, AgentTool)
    assert reviewer.to_wire() == {
        "name": "review",
        "display_name": "Code review",
        "description": "Review code.",
        "type": "agent",
        "require_approval": False,
        "agent": {"ref": "infsh/code-reviewer"},
    }


def test_app_tool_call_form_with_a_model_and_fixed_input() -> None:
    class Prompt(BaseModel):
        prompt: str = Field(description="What to draw")
        steps: int = Field(4, alias="num_steps")

    t = app_tool(
        "generate_image",
        "infsh/flux-schnell@latest",
        params=Prompt,
        description="Draw",
        fixed_input={"seed": 1},
    )
    assert t.to_wire()["app"] == {"ref": "infsh/flux-schnell@latest", "fixed_input": {"seed": 1}}
    assert t.parameters_schema == {
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "description": "What to draw"},
            "num_steps": {"type": "integer", "default": 4},
        },
        "required": ["prompt"],
        "additionalProperties": False,
    }


def test_webhook_and_http_tools_with_typed_params() -> None:
    def notify(channel: str, urgent: bool = False) -> None:
        """Notify a channel.

        Args:
            channel: Where to post.
        """

    hook = webhook_tool("notify", "https://example.com/hook", params=notify)
    assert isinstance(hook, WebhookTool)
    assert hook.to_wire() == {
        "name": "notify",
        "display_name": "notify",
        "description": "Notify a channel.",
        "type": "hook",
        "require_approval": False,
        "hook": {
            "url": "https://example.com/hook",
            "input_schema": {
                "type": "object",
                "properties": {
                    "channel": {"type": "string", "description": "Where to post."},
                    "urgent": {"type": "boolean", "default": False},
                },
                "required": ["channel"],
                "additionalProperties": False,
            },
        },
    }
    raw_schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    call = http_tool(
        "lookup",
        "https://api.example.com/lookup",
        params=raw_schema,
        auth={"type": "api_key", "secret": "KEY", "header": "X-Key"},
    )
    assert isinstance(call, HttpTool)
    assert call.to_wire()["http"] == {
        "url": "https://api.example.com/lookup",
        "auth": {"type": "api_key", "secret": "KEY", "header": "X-Key"},
        "input_schema": raw_schema,
    }
    # A raw schema is sent as is; arguments are only checked to be an object.
    assert arguments(call.validate_arguments('{"q": 1}')) == {"q": 1}


def test_mcp_tool_has_no_local_schema() -> None:
    t = mcp_tool("notion_search", server="notion")
    assert isinstance(t, McpTool)
    assert t.parameters_schema is None
    assert t.to_wire()["mcp"] == {"server": "notion", "tool_name": "notion_search"}
    assert arguments(t.validate_arguments('{"anything": [1]}')) == {"anything": [1]}


def test_server_tools_without_params_have_no_local_schema() -> None:
    t = app_tool("upscale", "infsh/upscaler@1")
    assert t.parameters_schema is None
    assert arguments(t.validate_arguments({"image": "x"})) == {"image": "x"}
    assert agent_tool("helper", "infsh/helper").parameters_schema is None


def test_every_input_schema_is_valid_json_schema() -> None:
    for entry in build_fixture_tools().to_wire():
        schema = entry.get(entry["type"], {}).get("input_schema")
        if schema is not None:
            jsonschema.Draft202012Validator.check_schema(schema)


def test_wire_is_json_serializable_and_a_fresh_copy() -> None:
    tools = build_fixture_tools()
    first = tools.to_wire()
    json.dumps(first)
    first[0]["client"]["input_schema"]["properties"].clear()
    assert tools.to_wire()[0]["client"]["input_schema"]["properties"] != {}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Skill("s", "d"), "needs exactly one of content=, url= or skill_id= (got none)"),
        (lambda: Skill("s", "d", content="x", url="https://x"), "(got content and url)"),
        (lambda: Skill("", "d", content="x"), "Skill name is empty"),
    ],
)
def test_skill_needs_exactly_one_source(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_stored_skill() -> None:
    assert Skill("s", "d", skill_id="sk_1", version_id="v2", preload=True).to_wire() == {
        "name": "s",
        "description": "d",
        "skill_id": "sk_1",
        "version_id": "v2",
        "preload": True,
    }


def test_internal_tools_every_flag() -> None:
    every = (
        internal_tools()
        .plan()
        .memory()
        .widget()
        .finish()
        .skills(False)
        .meta()
        .artifact()
        .spawn()
        .agent()
        .remote()
        .knowledge()
        .wait()
    )
    assert every.to_wire() == {
        "plan": True,
        "memory": True,
        "widget": True,
        "finish": True,
        "skills": False,
        "meta": True,
        "artifact": True,
        "spawn": True,
        "agent": True,
        "remote": True,
        "knowledge": True,
        "wait": True,
    }
    keyword = internal_tools(
        plan=True,
        memory=True,
        widget=True,
        finish=True,
        skills=False,
        meta=True,
        artifact=True,
        spawn=True,
        agent=True,
        remote=True,
        knowledge=True,
        wait=True,
        host_context=None,
    )
    assert keyword == every and hash(keyword) == hash(every)
    assert internal_tools().all().to_wire() == dict.fromkeys(
        ("plan", "memory", "widget", "finish"), True
    )
    assert internal_tools(meta=True).none().to_wire() == {
        "meta": True,
        "plan": False,
        "memory": False,
        "widget": False,
        "finish": False,
    }
    assert repr(internal_tools(plan=True)) == "internal_tools(plan=True)"
    assert internal_tools() != {}
