"""An ad-hoc agent with tools: the model calls them, they run here, the reply streams.

Runs on the local emulator, whose offline model calls the tool a message names and reports
what it returned. Against the real API, use `inference()` (INFERENCE_API_KEY set) and any LLM
app as `core_app`: the code stays the same.
"""

from typing import Literal

from inferencesh.errors import ToolError
from inferencesh.local import Emulator, running
from inferencesh.tools import tool


@tool
def get_weather(city: str, units: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Get the current weather for a city.

    Args:
        city: City name, e.g. "Paris".
        units: Temperature units.
    """
    if city == "Atlantis":
        raise ToolError(f"no weather station in {city}")  # the model reads this message
    return f"18 degrees {units} and sunny in {city}"


with running(Emulator()) as server, server.client() as client:
    agent = client.agent(
        core_app="infsh/claude-haiku-45@latest",  # the LLM app
        system_prompt="You are a helpful assistant. Use your tools.",
        tools=[get_weather],
        name="assistant",
    )
    for question in [
        "What's the weather in Paris? Use get_weather.",
        "And in Atlantis? Use get_weather.",
    ]:
        print(f"> {question}")
        with agent.stream(question) as events:
            for event in events:
                if event.type == "tool_call.requested":
                    print(f"  calls {event.name}({event.arguments})")
                elif event.type == "tool_call.completed":
                    print(f"  result: {event.result}")
                elif event.type == "tool_call.failed":
                    print(f"  failed ({event.reason}): {event.error}")
                elif event.type == "message.delta":
                    print(event.text, end="", flush=True)
        print()
    print(f"one conversation: {agent.chat_id}")
