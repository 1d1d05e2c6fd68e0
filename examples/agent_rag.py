"""Retrieval-augmented generation with an app tool: the agent searches, then answers.

The retriever is an app (here registered on the emulator; on inference.sh, one of your apps):
the server runs it as a task whenever the model calls the `search_docs` tool, and the model
answers from the passages it returns. The emulator's offline model only reports what the tool
returned; a real LLM writes the answer from it.
"""

from pydantic import BaseModel

from inferencesh.local import AppContext, Emulator, running
from inferencesh.tools import app_tool

PASSAGES = [
    "Refunds are paid within 14 days of receiving the returned item.",
    "Orders ship within 2 working days; express orders ship the same day.",
    "Every device has a two-year warranty covering manufacturing faults.",
]


class Search(BaseModel):
    query: str
    limit: int = 2


emulator = Emulator()


@emulator.app("me/search-docs")
def search(ctx: AppContext, input: Search) -> dict[str, list[str]]:
    """A tiny keyword retriever: passages ranked by the words they share with the query."""
    words = set(input.query.lower().split())
    ranked = sorted(PASSAGES, key=lambda p: -len(words & set(p.lower().split())))
    return {"passages": [p for p in ranked[: input.limit] if words & set(p.lower().split())]}


@app_tool("me/search-docs@latest")
def search_docs(query: str) -> None:
    """Search the help centre; returns the passages that match.

    Args:
        query: What to look for, in a few words.
    """  # a stub: the app runs on the server, the stub gives the model its schema


with running(emulator) as server, server.client() as client:
    agent = client.agent(
        core_app="infsh/claude-haiku-45@latest",
        system_prompt="Answer from the help centre only. Search it first.",
        tools=[search_docs],
    )
    with agent.stream(
        'How long do refunds take? Use search_docs for "refunds returned".'
    ) as events:
        for event in events:
            if event.type == "tool_call.requested":
                print(f"{event.kind} tool {event.name}({event.arguments})")
            elif event.type == "tool_call.completed":
                print(f"retrieved: {event.result}")
    print("answer:", events.reply().text)
    task = client.tasks.list(limit=1).items[0]  # the search ran as a task of the app
    print(f"task {task.id}: {task.status.label}, input {task.input}")
