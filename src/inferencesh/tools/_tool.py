"""`Tool`: the base of every tool kind, i.e. one entry of the agent config's `tools` list."""

from __future__ import annotations

import copy
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self, TypeAlias

from ..errors import ToolDefinitionError
from ._json import JSONObject, copy_json
from ._params import Parameters
from ._validate import InvalidArguments, ValidatedArgs

__all__ = ["Tool", "ToolKind", "check_name"]

ToolKind: TypeAlias = Literal["client", "app", "agent", "hook", "http", "mcp"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_UNSET: Any = object()


def check_name(name: object, what: str = "tool name") -> str | None:
    """The problem with a tool name, or None (names must match `^[A-Za-z0-9_-]{1,64}$`)."""
    if isinstance(name, str) and _NAME.match(name):
        return None
    return (
        f"{what} {name!r} is invalid: use 1-64 letters, digits, '_' or '-'"
        " (pass name=... to choose one)"
    )


class Tool(ABC):
    """Base of every tool kind: a name, a description and the wire entry the server reads.

    Instances are immutable in practice: `with_options()` returns a changed copy (that is how
    toolsets prefix names or require approval without touching the original).
    """

    kind: ClassVar[ToolKind]
    """The wire `type`: `client` (runs in this process), `app`, `agent`, `hook`, `http`, `mcp`."""

    name: str
    """The function name the model sees."""
    require_approval: bool
    """Whether a human must approve each call before it runs."""
    approval_timeout: int | None
    """Seconds to wait for approval (0 waits forever); None leaves it to the server."""

    def __init__(
        self,
        *,
        name: str,
        description: str | None = None,
        display_name: str | None = None,
        require_approval: bool = False,
        approval_timeout: int | None = None,
        parameters: Parameters | None = None,
    ) -> None:
        self.name = name
        self.require_approval = require_approval
        self.approval_timeout = approval_timeout
        self._description = description
        self._display_name = display_name
        self._parameters = parameters

    @property
    def description(self) -> str:
        """What the model is told the tool does (explicit, else from the docstring, else "")."""
        if self._description is not None:
            return self._description
        if self._parameters is not None:
            return self._parameters.doc.description or ""
        return ""

    @property
    def display_name(self) -> str:
        """The name shown to people in the UI (defaults to `name`)."""
        return self._display_name or self.name

    @property
    def strict(self) -> bool:
        """Whether the schema follows strict mode (see the `strict=` option)."""
        return self._parameters is not None and self._parameters.strict

    @property
    def parameters_schema(self) -> JSONObject | None:
        """The JSON schema of the arguments, built on first access and cached.

        None for kinds whose schema lives on the server (`mcp`). Treat it as read-only: it is
        the tool's own cached dict (`to_wire()` returns copies).

        Raises:
            ToolDefinitionError: A parameter type has no JSON schema (found at first use only
                for the rare types the decoration-time check lets through).
        """
        if self._parameters is None:
            return None
        return self._parameters.schema(self.name)

    def validate_arguments(
        self, arguments: str | bytes | Mapping[str, Any] | None
    ) -> ValidatedArgs | InvalidArguments:
        """Validate the model's arguments (a JSON string or a decoded object).

        Returns `ValidatedArgs` (Python values, defaults filled in) or `InvalidArguments`,
        whose `to_text()` is the error result to send back; it never raises for bad input.
        """
        if self._parameters is None:
            return Parameters(None).validate(self.name, arguments)
        return self._parameters.validate(self.name, arguments)

    def to_wire(self) -> JSONObject:
        """This tool's entry in `agent_config.tools`, as a fresh JSON-ready dict."""
        out: JSONObject = {
            "name": self.name,
            "display_name": self.display_name,
            "description": self.description,
            "type": self.kind,
            "require_approval": self.require_approval,
        }
        if self.approval_timeout is not None:
            out["approval_timeout"] = self.approval_timeout
        out[self.kind] = self._config()
        return out

    @abstractmethod
    def _config(self) -> JSONObject:
        """The kind-specific config object (the value under the `type` key)."""

    def _input_schema(self) -> JSONObject:
        schema = self.parameters_schema
        return copy_json(schema) if schema is not None else {}

    def with_options(
        self,
        *,
        name: str = _UNSET,
        description: str | None = _UNSET,
        display_name: str | None = _UNSET,
        require_approval: bool = _UNSET,
        approval_timeout: int | None = _UNSET,
    ) -> Self:
        """A copy with some options changed; the original is left as it was.

        Raises:
            ToolDefinitionError: The new name is invalid.
        """
        new = copy.copy(self)
        if name is not _UNSET:
            problem = check_name(name)
            if problem:
                raise ToolDefinitionError(self.name, [problem])
            new.name = name
        if description is not _UNSET:
            new._description = description
        if display_name is not _UNSET:
            new._display_name = display_name
        if require_approval is not _UNSET:
            new.require_approval = require_approval
        if approval_timeout is not _UNSET:
            new.approval_timeout = approval_timeout
        return new

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ({self.kind})>"
