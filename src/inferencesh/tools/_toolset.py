"""`Toolset`: an ordered collection of tools with unique names."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, overload

from ..errors import ToolDefinitionError
from ._json import JSONObject
from ._options import ApprovalPolicy
from ._tool import Tool, check_name

__all__ = ["Toolset"]


class Toolset:
    """Tools grouped under unique names: filter, prefix, look up, send.

    The transforming methods return new toolsets and leave this one (and its tools) as they
    are, so one toolset can feed several agents.

    Example:
        ```python
        files = Toolset([read_file, write_file, delete_file])
        agent_tools = files.prefixed("fs_").requiring_approval(lambda t: t.name == "fs_delete_file")
        ```
    """

    __slots__ = ("_tools",)

    def __init__(self, tools: Iterable[Tool | Toolset] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self.add(*tools)

    def add(self, *tools: Tool | Toolset) -> None:
        """Add tools (or every tool of other toolsets).

        Raises:
            ToolDefinitionError: A name is already taken (nothing is added then).
            TypeError: Something that is not a tool was passed (e.g. an undecorated function).
        """
        incoming: list[Tool] = []
        for item in tools:
            thing: Any = item  # callers without a type checker pass anything
            if isinstance(thing, Toolset):
                incoming.extend(thing)
            elif isinstance(thing, Tool):
                incoming.append(thing)
            else:
                raise TypeError(
                    f"Toolset takes tools, not {type(thing).__name__}: decorate it with @tool"
                )
        seen = set(self._tools)
        problems: list[str] = []
        for t in incoming:
            if t.name in seen:
                problems.append(f"duplicate tool name {t.name!r}: rename one (name=...)")
            seen.add(t.name)
        if problems:
            raise ToolDefinitionError("Toolset", problems)
        for t in incoming:
            self._tools[t.name] = t

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __getitem__(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._tools), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"no tool named {name!r}{hint}") from None

    @overload
    def get(self, name: str) -> Tool | None: ...
    @overload
    def get(self, name: str, default: Tool) -> Tool: ...
    def get(self, name: str, default: Tool | None = None) -> Tool | None:
        """The tool called `name`, or `default`."""
        return self._tools.get(name, default)

    @property
    def names(self) -> tuple[str, ...]:
        """Tool names, in insertion order."""
        return tuple(self._tools)

    def filtered(self, predicate: Callable[[Tool], bool]) -> Toolset:
        """The tools for which `predicate` is true."""
        return Toolset(t for t in self if predicate(t))

    def prefixed(self, prefix: str) -> Toolset:
        """Every tool renamed `prefix + name` (display names are kept).

        Raises:
            ToolDefinitionError: A prefixed name is invalid (e.g. longer than 64 characters).
        """
        problems = [p for t in self if (p := check_name(prefix + t.name))]
        if problems:
            raise ToolDefinitionError("Toolset", problems)
        return Toolset(
            t.with_options(name=prefix + t.name, display_name=t.display_name) for t in self
        )

    def requiring_approval(
        self,
        predicate: Callable[[Tool], bool] | None = None,
        *,
        policy: ApprovalPolicy | None = None,
    ) -> Toolset:
        """Copies that need approval: all tools, or those matching `predicate`.

        Args:
            predicate: Which tools (all when None).
            policy: Decides each of their calls (see `ApprovalPolicy`); without one, every
                call waits for the approval callback.
        """
        rule: bool | ApprovalPolicy = True if policy is None else policy
        return Toolset(
            t.with_options(require_approval=rule) if predicate is None or predicate(t) else t
            for t in self
        )

    def to_wire(self) -> list[JSONObject]:
        """The `agent_config.tools` list."""
        return [t.to_wire() for t in self]

    def __add__(self, other: Toolset | Iterable[Tool]) -> Toolset:
        out = Toolset(self)
        out.add(*other)
        return out

    def __repr__(self) -> str:
        return f"Toolset({list(self._tools)})"
