"""Bad definitions fail at decoration with one error listing every problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from inferencesh.errors import ToolDefinitionError
from inferencesh.tools import agent_tool, app_tool, http_tool, mcp_tool, tool, webhook_tool


class Opaque:
    """Not something pydantic knows how to validate."""


def problems_of(make: Callable[[], Any]) -> list[str]:
    with pytest.raises(ToolDefinitionError) as info:
        make()
    assert isinstance(info.value, TypeError)  # also catchable as TypeError
    return info.value.problems


def test_every_problem_is_listed_at_once() -> None:
    def bad(a: Opaque, b: Callable[[int], int], *args: int, **kwargs: str) -> None: ...

    problems = problems_of(lambda: tool(bad))
    assert len(problems) == 4
    assert problems[0].startswith("parameter 'a': Opaque is not supported by pydantic")
    assert problems[1] == (
        "parameter 'b': Callable[[int], int] has no JSON schema (a model cannot send a function)"
    )
    assert problems[2].startswith("*args is not supported")
    assert problems[3].startswith("**kwargs is not supported")


def test_message_names_the_tool_and_each_problem() -> None:
    def bad(*items: str) -> None: ...

    with pytest.raises(ToolDefinitionError) as info:
        tool(bad)
    assert str(info.value).startswith("cannot make a tool of 'bad':\n  - *items is not supported")


@pytest.mark.parametrize("name", ["has space", "", "x" * 65, "dots.are.bad", "ünïcode"])
def test_invalid_names(name: str) -> None:
    def f() -> None: ...

    problems = problems_of(lambda: tool(name=name)(f))
    assert problems == [
        f"tool name {name!r} is invalid: use 1-64 letters, digits, '_' or '-' (pass name=... to choose one)"
    ]


def test_lambda_needs_a_name() -> None:
    identity = lambda x: x  # noqa: E731  # pyright: ignore[reportUnknownLambdaType, reportUnknownVariableType]
    problems = problems_of(lambda: tool(identity))  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    assert problems[0].startswith("tool name '<lambda>' is invalid")
    assert tool(name="identity")(identity).parameters_schema == {  # pyright: ignore[reportUnknownArgumentType]
        "type": "object",
        "properties": {"x": {}},
        "required": ["x"],
        "additionalProperties": False,
    }


def test_unresolvable_forward_reference() -> None:
    def f(a: Missing, b: list[AlsoMissing]) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    problems = problems_of(lambda: tool(f))  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    assert len(problems) == 2
    assert problems[0].startswith("parameter 'a': cannot resolve the annotation 'Missing'")
    assert "define or import the type before the tool is decorated" in problems[0]
    assert problems[1].startswith(
        "parameter 'b': cannot resolve the annotation 'list[AlsoMissing]'"
    )


def test_model_with_unresolved_field() -> None:
    class Incomplete(BaseModel):
        child: Later  # type: ignore[name-defined]  # noqa: F821

    def f(x: Incomplete) -> None: ...

    with pytest.raises(ToolDefinitionError) as info:
        tool(f)  # called here, not in a lambda: local names resolve from this frame
    (problem,) = info.value.problems
    assert problem.startswith("parameter 'x': model Incomplete is not fully defined")


def test_type_and_literal_problems() -> None:
    def f(a: type[int], b: Literal[1.5]) -> None: ...  # type: ignore[valid-type]

    problems = problems_of(lambda: tool(f))  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    assert problems == [
        "parameter 'a': type[int] has no JSON schema; accept a str or Literal name instead",
        "parameter 'b': Literal values must be JSON scalars, not 1.5",
    ]


def test_nested_bad_type_is_found() -> None:
    def f(a: dict[str, list[Opaque | None]]) -> None: ...

    (problem,) = problems_of(lambda: tool(f))
    assert problem.startswith("parameter 'a': Opaque is not supported by pydantic")


def test_type_without_json_schema_found_at_first_use_is_still_a_definition_error() -> None:
    class Holder(BaseModel):
        fn: Callable[[], None]  # pydantic validates it but cannot render it

    def f(h: Holder) -> None: ...

    t = tool(f)  # the cheap check trusts complete models
    with pytest.raises(ToolDefinitionError) as info:
        _ = t.parameters_schema
    assert info.value.problems[0].startswith("parameter 'h': has no JSON schema")


def test_params_handler_must_accept_the_arguments() -> None:
    class Args(BaseModel):
        city: str
        days: int = 1

    def handler(city: str) -> str:
        return city

    problems = problems_of(lambda: tool(params=Args)(handler))
    assert problems == [
        "the handler does not accept the argument 'days' from params= (add it or **kwargs)"
    ]


def test_unsupported_params_sources() -> None:
    def handler(**kwargs: Any) -> str:
        return ""

    assert problems_of(lambda: tool(name="h", params=Opaque)(handler)) == [
        "params=Opaque is not supported: pass a pydantic model, a TypedDict, a dataclass,"
        " a function, a mapping of string()/obj()... helpers or a JSON schema"
    ]
    problems = problems_of(lambda: webhook_tool("h", "https://x", params={"a": 1}))
    assert problems == [
        'params mapping must be either {name: string()/obj()/... helper} or a JSON schema with "type": "object"'
    ]
    problems = problems_of(lambda: webhook_tool("h", "https://x", params=42))  # type: ignore[arg-type]
    assert problems == ["params=42 is not supported"]


def test_server_tool_problems() -> None:
    assert problems_of(lambda: app_tool("bad name", "not a ref")) == [
        "tool name 'bad name' is invalid: use 1-64 letters, digits, '_' or '-' (pass name=... to choose one)",
        "app ref 'not a ref' is invalid: use 'namespace/name' or 'namespace/name@version'",
    ]
    assert problems_of(lambda: agent_tool("ok", "nope")) == [
        "agent ref 'nope' is invalid: use 'namespace/name' or 'namespace/name@version'"
    ]

    def stub(*prompts: str) -> None: ...

    (problem,) = problems_of(lambda: app_tool("infsh/flux@1")(stub))
    assert problem.startswith("*prompts is not supported")


def test_http_tool_problems() -> None:
    problems = problems_of(
        lambda: http_tool(
            "f",
            "ftp://x",
            method="FETCH",  # type: ignore[arg-type]
            auth={"type": "api_key", "token": "x"},  # type: ignore[typeddict-item]
        )
    )
    assert problems == [
        "url 'ftp://x' is invalid: it must start with https:// (or http://)",
        "method 'FETCH' is invalid: use one of GET, POST, PUT, PATCH, DELETE",
        "auth 'api_key' needs 'secret'",
        "auth 'api_key' does not take 'token'",
    ]
    assert problems_of(lambda: http_tool("f", "https://x", auth={"type": "magic"})) == [  # type: ignore[typeddict-item]
        "auth type 'magic' is unknown: use one of 'bearer', 'api_key', 'credential', 'integration'"
    ]


def test_mcp_tool_problems() -> None:
    assert problems_of(lambda: mcp_tool("a b", server="")) == [
        "tool name 'a b' is invalid: use 1-64 letters, digits, '_' or '-' (pass name=... to choose one)",
        "server is empty: pass the MCP server's slug, e.g. server='exa'",
    ]


def test_strict_mode_problems_surface_at_decoration() -> None:
    def f(free: dict[str, int], anything: Any, bag: dict = {}) -> None: ...  # type: ignore[type-arg]  # noqa: B006

    problems = problems_of(lambda: tool(strict=True)(f))  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    assert problems == [
        "strict mode: free: free-form keys are not allowed in strict mode; use a model or TypedDict with named fields",
        "strict mode: anything: any JSON value ({}) cannot be expressed in strict mode",
        "strict mode: bag: an object without named properties is not allowed in strict mode; use a model or TypedDict with named fields",
    ]
