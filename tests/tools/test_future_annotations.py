"""PEP 563 (`from __future__ import annotations`): every annotation is a string here.

Context parameters must still be found by type (google/adk-python#4754,
modelcontextprotocol/python-sdk#1129), including a context type imported only for type
checking (google/adk-python#6488), and types local to a function must resolve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Optional

from pydantic import BaseModel

from inferencesh import tools
from inferencesh.errors import ToolDefinitionError
from inferencesh.tools import ToolContext, tool

if TYPE_CHECKING:
    import inferencesh.tools as typing_only


class Query(BaseModel):
    text: str
    top_k: int = 3


def test_strings_are_resolved() -> None:
    @tool
    def search(q: Query, mode: Literal["a", "b"] = "a", ctx: ToolContext | None = None) -> str:
        """Search.

        Args:
            q: The query.
        """
        return q.text

    assert search.parameters_schema == {
        "type": "object",
        "properties": {
            "q": {
                "description": "The query.",
                "properties": {
                    "text": {"title": "Text", "type": "string"},
                    "top_k": {"default": 3, "title": "Top K", "type": "integer"},
                },
                "required": ["text"],
                "title": "Query",
                "type": "object",
            },
            "mode": {"enum": ["a", "b"], "type": "string", "default": "a"},
        },
        "required": ["q"],
        "additionalProperties": False,
    }
    assert search.invoke({"q": {"text": "hi"}}).output == "hi"


def test_context_found_in_every_spelling() -> None:
    @tool
    def f(
        a: int,
        c1: ToolContext,
        c2: Optional[ToolContext],  # noqa: UP045
        c3: Annotated[ToolContext, "x"],
        c4: tools.ToolContext,
        c5: typing_only.ToolContext,  # unresolvable at runtime, but names the context type
    ) -> int:
        assert c1 is c2 is c3 is c4 is c5
        return a

    assert f.parameters_schema == {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    assert f.invoke({"a": 5}).output == "5"


def test_local_types_resolve_from_the_decorating_frame() -> None:
    class Local(BaseModel):
        n: int

    @tool
    def f(x: Local) -> int:
        return x.n

    assert f.invoke({"x": {"n": 2}}).output == "2"


def test_undefined_names_are_definition_errors() -> None:
    try:

        @tool  # pyright: ignore[reportUnknownArgumentType]
        def f(x: Nowhere, y: int) -> None: ...  # type: ignore[name-defined]  # noqa: F821
    except ToolDefinitionError as exc:
        assert len(exc.problems) == 1
        assert exc.problems[0].startswith("parameter 'x': cannot resolve the annotation 'Nowhere'")
    else:
        raise AssertionError("expected ToolDefinitionError")


def test_postponed_varargs_still_rejected() -> None:
    try:

        @tool  # pyright: ignore[reportUnknownArgumentType]
        def f(*rest: Missing) -> None: ...  # type: ignore[name-defined]  # noqa: F821
    except ToolDefinitionError as exc:
        assert exc.problems[0].startswith("*rest is not supported")
    else:
        raise AssertionError("expected ToolDefinitionError")
