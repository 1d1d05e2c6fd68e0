"""Define a few tools, print their wire JSON, then call one with good and bad arguments.

Runs offline: `python examples/tools_basics.py`.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from inferencesh.errors import ToolError
from inferencesh.tools import (
    Skill,
    ToolContext,
    Toolset,
    app_tool,
    http_tool,
    internal_tools,
    tool,
)


class Address(BaseModel):
    street: str
    city: str = Field(description="City name")


@tool
def get_weather(city: str, units: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Get the current weather for a city.

    Args:
        city: City name, e.g. "Paris".
        units: Temperature units.
    """
    if city.lower() == "atlantis":
        raise ToolError(f"no weather station in {city}")
    return f"18 degrees {units} in {city}"


@tool(require_approval=True)
def ship(
    address: Address,
    quantity: Annotated[int, Field(ge=1, le=10, description="How many boxes")] = 1,
    ctx: ToolContext | None = None,
) -> dict[str, object]:
    """Ship boxes to an address.

    Args:
        address: Where to deliver.
    """
    chat = ctx.chat_id if ctx else None
    return {"shipped": quantity, "to": address.city, "chat": chat}


@app_tool("infsh/flux-schnell@latest", setup={"model": "schnell"})
def generate_image(prompt: str, width: int = 1024) -> None:
    """Generate an image from a prompt (runs on inference.sh; this stub never runs)."""


fetch_user = http_tool(
    "fetch_user",
    "https://api.example.com/users/{{context.user_id}}",
    method="GET",
    auth={"type": "bearer", "secret": "API_TOKEN"},
    description="Fetch the user profile",
)

tools = Toolset([get_weather, ship, generate_image, fetch_user])

agent_config = {
    "name": "assistant",
    "tools": tools.to_wire(),
    "internal_tools": internal_tools(plan=True, memory=True).to_wire(),
    "skills": [Skill("house-style", "How we answer", content="Answer in two sentences.").to_wire()],
}
print(json.dumps(agent_config, indent=2))

context = ToolContext(tool_name="ship", chat_id="chat_123", invocation_id="inv_1")
print(
    "\nvalid call:",
    ship.invoke('{"address": {"street": "1 Main St", "city": "Oslo"}}', context=context),
)
print("tool error:", get_weather.invoke({"city": "Atlantis"}))
bad = ship.invoke('{"address": {"street": "1 Main St"}, "quantity": 50, "express": true}')
print("validation error (sent back to the model):")
print(json.dumps(json.loads(bad.output), indent=2))
