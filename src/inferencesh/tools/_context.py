"""`ToolContext`: what a handler can ask for besides the model's arguments."""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

__all__ = ["ToolContext", "is_context_annotation", "looks_like_context_annotation"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolContext:
    """Run details injected into a handler parameter annotated with this type.

    Declare a parameter of this type (in any position, also as `ToolContext | None` or inside
    `Annotated`) and the runner passes the context; the parameter never appears in the schema.

    Example:
        ```python
        @tool
        def remember(fact: str, ctx: ToolContext) -> str:
            \"\"\"Store a fact for this chat.\"\"\"
            store[ctx.chat_id].append(fact)
            return "ok"
        ```
    """

    tool_name: str = ""
    """Name of the tool being called, as the model saw it."""
    chat_id: str | None = None
    """The chat the call belongs to (`None` outside an agent run, e.g. in tests)."""
    invocation_id: str | None = None
    """The server's id of this tool invocation (what `POST /tools/{id}` takes)."""
    client: Any = None
    """The SDK client running the agent (sync or async), for handlers that call other apps."""


def is_context_annotation(annotation: Any) -> bool:
    """True if a resolved annotation is `ToolContext` (or a subclass), bare or wrapped.

    Wrapped means `Annotated[ToolContext, ...]`, `ToolContext | None` or `Optional[...]`.
    """
    if isinstance(annotation, type):
        return issubclass(annotation, ToolContext)
    if get_origin(annotation) is Annotated:
        return is_context_annotation(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return bool(members) and all(is_context_annotation(a) for a in members)
    return isinstance(annotation, type) and issubclass(annotation, ToolContext)


# A postponed annotation that cannot be resolved but still spells the context type, e.g. when
# `ToolContext` is imported only under `if TYPE_CHECKING:` (a pattern that broke google/adk).
_CONTEXT_SPELLING = re.compile(
    r"""^\s*(?:
        (?:[\w.]+\.)?ToolContext(?:\s*\|\s*None)?
      | None\s*\|\s*(?:[\w.]+\.)?ToolContext
      | (?:typing\.|t\.)?Optional\[\s*(?:[\w.]+\.)?ToolContext\s*\]
      | (?:typing\.|t\.)?Annotated\[\s*(?:[\w.]+\.)?ToolContext\s*,.*\]
    )\s*$""",
    re.VERBOSE | re.DOTALL,
)


def looks_like_context_annotation(text: str) -> bool:
    """True if an unresolvable string annotation names the context type."""
    return _CONTEXT_SPELLING.match(text) is not None
