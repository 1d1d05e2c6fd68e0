"""invoke()/ainvoke(): validate, inject the context, run, convert the result."""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from typing import Annotated, Any

import anyio
import anyio.lowlevel
import pytest
from pydantic import BaseModel

from inferencesh.errors import ToolError
from inferencesh.tools import FunctionTool, ToolContext, ToolResult, ValidatedArgs, tool


class Weather(BaseModel):
    city: str
    temp_c: float


@dataclasses.dataclass
class Point:
    x: int
    y: int


@pytest.mark.parametrize(
    ("value", "output"),
    [
        ("plain text", "plain text"),
        ("", ""),
        (Weather(city="Paris", temp_c=18.5), '{"city":"Paris","temp_c":18.5}'),
        (Point(1, 2), '{"x":1,"y":2}'),
        ({"a": [1, 2]}, '{"a":[1,2]}'),
        ([1, "two"], '[1,"two"]'),
        (3, "3"),
        (2.5, "2.5"),
        (True, "true"),
        (None, "null"),
    ],
)
def test_return_values_become_text(value: Any, output: str) -> None:
    @tool
    def f() -> Any:
        return value

    assert f.invoke({}) == ToolResult(output=output)


def test_unserializable_return_is_a_handler_bug() -> None:
    @tool
    def f() -> object:
        return object()

    with pytest.raises(TypeError, match="tool 'f' returned a object, which cannot be converted"):
        f.invoke({})


def test_tool_error_becomes_an_error_result() -> None:
    @tool
    def f(city: str) -> str:
        raise ToolError(f"no weather for {city}")

    assert f.invoke('{"city": "Atlantis"}') == ToolResult(
        output='{"error": "no weather for Atlantis"}', is_error=True
    )


def test_other_exceptions_propagate() -> None:
    @tool
    def f() -> str:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        f.invoke({})


def test_invalid_arguments_become_an_error_result_and_the_handler_never_runs() -> None:
    calls: list[int] = []

    @tool
    def f(n: int) -> str:
        calls.append(n)
        return "ran"

    result = f.invoke('{"n": "x"}')
    assert result.is_error
    assert json.loads(result.output)["fields"] == [
        {
            "field": "n",
            "message": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]
    assert calls == []


def test_context_is_injected_by_type_in_any_position() -> None:
    seen: list[Any] = []

    @tool
    def f(
        ctx: ToolContext,
        a: int,
        /,
        b: Annotated[ToolContext, "x"],
        c: ToolContext | None = None,
        *,
        d: str = "d",
    ) -> str:
        seen.extend([ctx, b, c])
        return f"{a}{d}"

    context = ToolContext(tool_name="f", chat_id="chat_1", invocation_id="inv_1", client="CLIENT")
    assert f.invoke({"a": 1}, context=context) == ToolResult(output="1d")
    assert seen == [context, context, context]
    assert f.parameters_schema == {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "d": {"type": "string", "default": "d"}},
        "required": ["a"],
        "additionalProperties": False,
    }


def test_a_bare_context_is_made_when_none_is_given() -> None:
    @tool
    def whoami(ctx: ToolContext) -> str:
        return f"{ctx.tool_name} {ctx.chat_id}"

    assert whoami.invoke(None).output == "whoami None"


def test_prevalidated_arguments_are_used_as_is() -> None:
    @tool
    def f(n: int) -> int:
        return n * 2

    assert f.invoke(ValidatedArgs(arguments={"n": 21})).output == "42"


def test_still_callable_as_the_function() -> None:
    @tool
    def add(a: int, b: int = 1) -> int:
        """Add two numbers."""
        return a + b

    assert add(1, b=2) == 3
    assert isinstance(add, FunctionTool)
    assert add.__name__ == "add"
    assert add.__doc__ == "Add two numbers."
    assert add.__wrapped__ is not None
    assert add.handler(2) == 3


def test_invoke_refuses_async_handlers() -> None:
    @tool
    async def f() -> str:
        return "x"

    assert f.is_async
    with pytest.raises(TypeError, match="is async"):
        f.invoke({})


def test_params_mode_passes_keywords_and_context() -> None:
    class Args(BaseModel):
        city: str
        days: int = 2

    @tool(params=Args)
    def forecast(ctx: ToolContext, **kwargs: Any) -> str:
        return f"{ctx.tool_name}:{kwargs['city']}:{kwargs['days']}"

    assert forecast.invoke({"city": "Oslo"}).output == "forecast:Oslo:2"


def test_callable_object_as_tool() -> None:
    class Greeter:
        """Greet someone."""

        def __call__(self, name: str) -> str:
            return f"hi {name}"

    t = tool(name="greet")(Greeter())
    assert t.description == "Greet someone."
    assert t.invoke({"name": "Ann"}).output == "hi Ann"


def test_methods_defined_in_a_class_body_bind() -> None:
    class Repo:
        def __init__(self) -> None:
            self.data = {"a": 1}

        @tool
        def get(self, key: str) -> int:
            """Get a key."""
            return self.data[key]

        @tool
        @classmethod
        def kind(cls, n: int) -> str:
            return f"{cls.__name__}{n}"

        @tool
        @staticmethod
        def double(n: int) -> int:
            return 2 * n

    repo = Repo()
    assert isinstance(Repo.get, FunctionTool)
    assert Repo.get.parameters_schema == {
        "type": "object",
        "properties": {"key": {"type": "string"}},
        "required": ["key"],
        "additionalProperties": False,
    }
    assert repo.get.invoke({"key": "a"}).output == "1"
    assert repo.get("a") == 1
    assert Repo.kind.invoke({"n": 3}).output == "Repo3"
    assert repo.kind(4) == "Repo4"
    assert Repo.double.invoke({"n": 4}).output == "8"


def test_partial_of_a_bound_method() -> None:
    class Api:
        def call(self, token: str, path: str) -> str:
            return f"{token}:{path}"

    t = tool(functools.partial(Api().call, "tok"))
    assert t.parameters_schema == {
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
        "additionalProperties": False,
    }
    assert t.invoke({"path": "/x"}).output == "tok:/x"


@pytest.mark.anyio
async def test_ainvoke_awaits_async_handlers() -> None:
    @tool
    async def slow(n: int, ctx: ToolContext) -> dict[str, Any]:
        await anyio.lowlevel.checkpoint()
        return {"n": n, "chat": ctx.chat_id}

    result = await slow.ainvoke('{"n": 2}', context=ToolContext(tool_name="slow", chat_id="c"))
    assert result == ToolResult(output='{"n":2,"chat":"c"}')


@pytest.mark.anyio
async def test_ainvoke_runs_sync_handlers_in_a_worker_thread() -> None:
    main = threading.get_ident()

    @tool
    def where() -> bool:
        return threading.get_ident() != main

    assert (await where.ainvoke({})).output == "true"


@pytest.mark.anyio
async def test_ainvoke_errors() -> None:
    @tool
    async def boom(x: int) -> str:
        raise ToolError("nope")

    assert await boom.ainvoke({"x": 1}) == ToolResult(output='{"error": "nope"}', is_error=True)
    bad = await boom.ainvoke({"x": "y"})
    assert bad.is_error and "invalid_arguments" in bad.output


def test_bind_gives_the_handler_with_validated_arguments_and_context() -> None:
    from inferencesh.tools import ToolContext, ValidatedArgs

    @tool(threaded=False, mask_error_details=True)
    def greet(name: str, ctx: ToolContext, *, punct: str = "!") -> str:
        """Greet someone."""
        return f"hi {name}{punct} ({ctx.chat_id})"

    validated = greet.validate_arguments({"name": "Ada"})
    assert isinstance(validated, ValidatedArgs)
    call = greet.bind(validated, context=ToolContext(tool_name="greet", chat_id="c1"))
    assert call() == "hi Ada! (c1)"
    assert (greet.threaded, greet.mask_error_details) == (False, True)
    assert (get_plain().threaded, get_plain().mask_error_details) == (True, False)


def get_plain() -> Any:
    @tool
    def plain() -> str:
        """Plain."""
        return "x"

    return plain
