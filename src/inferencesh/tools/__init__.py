"""Agent tools: typed, documented Python functions and server-side tools for agents.

```python
from inferencesh.tools import tool


@tool
def get_weather(city: str, units: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    '''Get the current weather for a city.

Args:
        city: City name, e.g. "Paris".
        units: Temperature units.
    '''
    return f"18 degrees in {city}"


get_weather.to_wire()  # the agent_config.tools entry (kind "client")
```

This package never does I/O: the agent runner calls `Tool.to_wire()`,
`Tool.validate_arguments()` and `FunctionTool.invoke()`/`ainvoke()`.
"""

import inspect

from ._builders import Param as Param
from ._builders import array as array
from ._builders import boolean as boolean
from ._builders import enum_of as enum_of
from ._builders import integer as integer
from ._builders import number as number
from ._builders import obj as obj
from ._builders import optional as optional
from ._builders import string as string
from ._config import InternalTools as InternalTools
from ._config import Skill as Skill
from ._config import internal_tools as internal_tools
from ._context import ToolContext as ToolContext
from ._decorator import tool as tool
from ._function import FunctionTool as FunctionTool
from ._kinds import HttpAuth as HttpAuth
from ._kinds import HttpTool as HttpTool
from ._kinds import McpTool as McpTool
from ._kinds import WebhookTool as WebhookTool
from ._kinds import http_tool as http_tool
from ._kinds import mcp_tool as mcp_tool
from ._kinds import webhook_tool as webhook_tool
from ._options import ApprovalDecision as ApprovalDecision
from ._options import ApprovalPolicy as ApprovalPolicy
from ._options import ApprovalRequest as ApprovalRequest
from ._options import ToolOptionArgs as ToolOptionArgs
from ._options import ToolOptions as ToolOptions
from ._result import ToolResult as ToolResult
from ._server import AgentTool as AgentTool
from ._server import AppTool as AppTool
from ._server import agent_tool as agent_tool
from ._server import app_tool as app_tool
from ._tool import Tool as Tool
from ._toolset import Toolset as Toolset
from ._validate import FieldError as FieldError
from ._validate import InvalidArguments as InvalidArguments
from ._validate import ValidatedArgs as ValidatedArgs

__all__ = [
    "AgentTool",
    "AppTool",
    "ApprovalDecision",
    "ApprovalPolicy",
    "ApprovalRequest",
    "FieldError",
    "FunctionTool",
    "HttpAuth",
    "HttpTool",
    "InternalTools",
    "InvalidArguments",
    "McpTool",
    "Param",
    "Skill",
    "Tool",
    "ToolContext",
    "ToolOptionArgs",
    "ToolOptions",
    "ToolResult",
    "Toolset",
    "ValidatedArgs",
    "WebhookTool",
    "agent_tool",
    "app_tool",
    "array",
    "boolean",
    "enum_of",
    "http_tool",
    "integer",
    "internal_tools",
    "mcp_tool",
    "number",
    "obj",
    "optional",
    "string",
    "tool",
    "webhook_tool",
]


def _set_public_module() -> None:
    # Public objects report the public path (reprs, docs, pickling by reference).
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) or inspect.isfunction(obj):
            obj.__module__ = __name__


_set_public_module()
