"""`ToolOptions`: what every tool kind shares, and the per-tool approval policy.

Every builder (`@tool`, `@app_tool`, `@agent_tool`, `webhook_tool`, `http_tool`, `mcp_tool`)
takes the same keyword options, typed once here as `ToolOptionArgs`, and every tool keeps them
as one frozen `ToolOptions`. The agent runner reads the approval settings from there.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from typing_extensions import TypedDict

if TYPE_CHECKING:
    from inferencesh.models.chat import ToolInvocation

    from ._tool import Tool

__all__ = [
    "ApprovalDecision",
    "ApprovalPolicy",
    "ApprovalRequest",
    "ToolOptionArgs",
    "ToolOptions",
    "check_name",
]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_name(name: object, what: str = "tool name") -> str | None:
    """The problem with a tool name, or None (names must match `^[A-Za-z0-9_-]{1,64}$`)."""
    if isinstance(name, str) and _NAME.match(name):
        return None
    return (
        f"{what} {name!r} is invalid: use 1-64 letters, digits, '_' or '-'"
        " (pass name=... to choose one)"
    )


ApprovalDecision: TypeAlias = Literal["allow", "deny", "ask"]
"""What an approval policy says: run the call, refuse it, or ask the approval callback."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ApprovalRequest:
    """One tool call waiting for a decision; what policies and approval callbacks receive."""

    tool_name: str
    """The name the model called."""
    arguments: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """The model's arguments, as it sent them (not validated yet)."""
    invocation_id: str = ""
    """The server's id of this call (what `/tools/{id}/invoke` and `/reject` take)."""
    kind: str = "client"
    """The tool's wire type: `client` runs here; `app`, `agent`, `hook`, ... on the server."""
    tool: Tool | None = None
    """The local tool object, when this process defined it (None for a template's tools)."""
    chat_id: str | None = None
    """The chat the call belongs to."""
    agent: str | None = None
    """The agent that made the call (a sub-agent's name for nested agents)."""
    invocation: ToolInvocation | None = None
    """The server's record of the invocation, as received."""


ApprovalPolicy: TypeAlias = Callable[
    [ApprovalRequest], ApprovalDecision | Awaitable[ApprovalDecision]
]
"""A per-tool rule, sync or async, deciding a call before anyone is asked.

`"allow"` runs it, `"deny"` refuses it, `"ask"` hands it to the approval callback. Any other
value, or an exception, refuses the call (approvals fail closed).
"""


class ToolOptionArgs(TypedDict, total=False):
    """The keyword options every tool builder takes; see `ToolOptions` for their meaning."""

    description: str | None
    display_name: str | None
    require_approval: bool | ApprovalPolicy
    approval_timeout: int | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolOptions:
    """The options every tool kind shares. Tools keep one of these as `tool.options`.

    Example:
        ```python
        def small_amounts(call: ApprovalRequest) -> ApprovalDecision:
            return "allow" if call.arguments.get("amount", 0) < 100 else "ask"


        @tool(require_approval=small_amounts, approval_timeout=300)
        def transfer(amount: int, to: str) -> str: ...
        ```
    """

    name: str
    """The function name the model sees: 1-64 letters, digits, `_` or `-`."""
    description: str | None = None
    """What the model is told the tool does; None takes it from the docstring (else "")."""
    display_name: str | None = None
    """The name shown to people; None means `name`."""
    require_approval: bool | ApprovalPolicy = False
    """`True`: every call waits for a human decision. A policy (`ApprovalPolicy`): the server
    parks every call and the policy decides each one, asking only when it returns `"ask"`."""
    approval_timeout: int | None = None
    """Seconds to wait for a decision (0 waits forever); None leaves it to the server."""

    @property
    def needs_approval(self) -> bool:
        """Whether calls wait for a decision (the wire's `require_approval`)."""
        return self.require_approval is not False

    @property
    def policy(self) -> ApprovalPolicy | None:
        """The approval policy, if `require_approval` is one."""
        rule = self.require_approval
        return None if isinstance(rule, bool) else rule

    def problems(self) -> list[str]:
        """Everything wrong with these options (empty when they are valid)."""
        found = [p for p in (check_name(self.name),) if p]
        # Callers without a type checker pass anything: read the fields untyped.
        values: dict[str, object] = {key: getattr(self, key) for key in _FIELDS}
        for key in ("description", "display_name"):
            value = values[key]
            if value is not None and not isinstance(value, str):
                found.append(f"{key} must be a string, not {type(value).__name__}")
        rule = values["require_approval"]
        if not isinstance(rule, bool) and not callable(rule):
            found.append(f"require_approval must be True, False or a policy function, not {rule!r}")
        timeout = values["approval_timeout"]
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0
        ):
            found.append(
                f"approval_timeout must be a whole number of seconds >= 0 (0 waits forever),"
                f" not {timeout!r}"
            )
        return found

    def replace(self, **changes: Any) -> ToolOptions:
        """A copy with `changes` applied (same keys as the constructor).

        Raises:
            TypeError: A key is not an option (the message suggests the closest one).
        """
        _check_keys(changes)
        return replace(self, **changes)

    @classmethod
    def of(cls, name: str, args: Mapping[str, Any]) -> ToolOptions:
        """Options named `name` from a builder's keyword options.

        Raises:
            TypeError: A key is not an option (the message suggests the closest one).
        """
        _check_keys(args)
        return cls(name=name, **args)


_FIELDS = ("name", "description", "display_name", "require_approval", "approval_timeout")


def _check_keys(args: Mapping[str, Any]) -> None:
    for key in args:
        if key not in _FIELDS:
            close = difflib.get_close_matches(key, _FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(
                f"{key!r} is not a tool option{hint}; the options are: {', '.join(_FIELDS)}"
            )
