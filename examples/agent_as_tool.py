"""An agent used as a tool of another; the sub-agent's events show on the outer stream.

Runs on the local emulator, whose offline model calls the tool a message names. Against the
real API, use `inference()` and set INFERENCE_API_KEY.
"""

from inferencesh.local import Emulator, running

LLM = "infsh/claude-haiku-45@latest"

with running(Emulator()) as server, server.client() as client:
    researcher = client.agent(core_app=LLM, name="researcher", system_prompt="Find facts.")
    lead = client.agent(
        core_app=LLM,
        name="lead",
        tools=[researcher.as_tool(name="research", description="Ask the researcher.")],
    )
    with lead.stream("Use research to learn about Paris.") as events:
        for event in events:
            if event.type in ("tool_call.completed", "turn.finished"):
                print(f"{event.agent}: {event.type}")
    print("answer:", events.reply().text)
