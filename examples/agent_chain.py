"""A sequential chain: one agent's answer is the next agent's message.

Runs on the local emulator (offline model). Against the real API, use `inference()`.
"""

from inferencesh.local import Emulator, running

LLM = "infsh/claude-haiku-45@latest"

with running(Emulator()) as server, server.client() as client:
    steps = [
        client.agent(core_app=LLM, name="outliner", system_prompt="Outline the topic."),
        client.agent(core_app=LLM, name="writer", system_prompt="Write from the outline."),
        client.agent(core_app=LLM, name="editor", system_prompt="Tighten the text."),
    ]
    text = "A short note on tide pools."
    for agent in steps:
        text = agent.send_message(text).text
        print(f"{agent.name}: {text}")
