"""`Tool`: the base of every tool kind, i.e. one entry of the agent config's `tools` list."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self, TypeAlias

from typing_extensions import Unpack

from ..errors import ToolDefinitionError
from ._json import JSONObject, copy_json
from ._options import ApprovalPolicy, ToolOptionArgs, ToolOptions, check_name
from ._params import Parameters
from ._validate import InvalidArguments, ValidatedArgs

__all__ = ["Tool", "ToolKind", "check_name"]

ToolKind: TypeAlias = Literal["client", "app", "agent", "hook", "http", "mcp"]


class Tool(ABC):
    """Base of every tool kind: its `ToolOptions` and the wire entry the server reads.

    Instances are immutable in practice: `with_options()` returns a changed copy (that is how
    toolsets prefix names or require approval without touching the original).
    """

    kind: ClassVar[ToolKind]
    """The wire `type`: `client` (runs in this process), `app`, `agent`, `hook`, `http`, `mcp`."""

    options: ToolOptions
    """Name, description, display name and approval settings, shared by every kind."""

    def __init__(self, options: ToolOptions, *, parameters: Parameters | None = None) -> None:
        self.options = options
        self._parameters = parameters

    @property
    def name(self) -> str:
        """The function name the model sees."""
        return self.options.name

    @property
    def description(self) -> str:
        """What the model is told the tool does (explicit, else from the docstring, else "")."""
        if self.options.description is not None:
            return self.options.description
        if self._parameters is not None:
            return self._parameters.doc.description or ""
        return ""

    @property
    def display_name(self) -> str:
        """The name shown to people in the UI (defaults to `name`)."""
        return self.options.display_name or self.name

    @property
    def require_approval(self) -> bool:
        """Whether calls wait for an approval decision (a policy counts: it decides each one)."""
        return self.options.needs_approval

    @property
    def approval_policy(self) -> ApprovalPolicy | None:
        """The per-tool policy that decides calls before anyone is asked, if there is one."""
        return self.options.policy

    @property
    def approval_timeout(self) -> int | None:
        """Seconds to wait for approval (0 waits forever); None leaves it to the server."""
        return self.options.approval_timeout

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
            "require_approval": self.options.needs_approval,
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

    def with_options(self, *, name: str | None = None, **changes: Unpack[ToolOptionArgs]) -> Self:
        """A copy with some options changed; the original is left as it was.

        Args:
            name: A new name.
            **changes: Any other `ToolOptions` field (`description`, `display_name`,
                `require_approval`, `approval_timeout`).

        Raises:
            ToolDefinitionError: A changed option is invalid (all problems listed).
        """
        options = (
            self.options.replace(**changes)
            if name is None
            else self.options.replace(name=name, **changes)
        )
        problems = options.problems()
        if problems:
            raise ToolDefinitionError(self.name, problems)
        new = copy.copy(self)
        new.options = options
        return new

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ({self.kind})>"
