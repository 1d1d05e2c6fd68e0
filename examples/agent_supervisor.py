"""A supervisor with sub-agents: the workers are its tools, it decides whom to ask.

Runs on the local emulator, whose offline model calls the tool a message names. Against the
real API, use `inference()`.
"""

from inferencesh.local import Emulator, running
from inferencesh.tools import tool

LLM = "infsh/claude-haiku-45@latest"


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: City name.
    """
    return f"sunny in {city}"


with running(Emulator()) as server, server.client() as client:
    forecaster = client.agent(core_app=LLM, name="forecaster", tools=[get_weather])
    writer = client.agent(core_app=LLM, name="writer", system_prompt="Write nicely.")
    supervisor = client.agent(
        core_app=LLM,
        name="supervisor",
        tools=[
            forecaster.as_tool(name="forecast", description="Ask about the weather."),
            writer.as_tool(name="write", description="Have text written."),
        ],
    )
    with supervisor.stream("Use forecast for the weather in Paris. Use get_weather.") as events:
        for event in events:
            if event.type == "tool_call.completed":
                print(f"{event.agent} called {event.name}: {event.result}")
    print("answer:", events.reply().text)
