"""Structured output: ask for a typed result and get a validated pydantic model back.

`agent.run(text, output_type=M)` sends M's JSON Schema as the agent's output schema, with the
`finish` tool the model calls to hand in its result; the result comes back as an M, or
`AgentOutputError` says why it does not fit. The emulator's offline model fills the schema
from the message (enum values it mentions, its first number); a real LLM reads it.
"""

from typing import Literal

from pydantic import BaseModel, Field

from inferencesh.errors import AgentOutputError
from inferencesh.local import Emulator, running
from inferencesh.testing import call, scripted_core_app


class Ticket(BaseModel):
    summary: str = Field(description="The customer's problem in one sentence")
    priority: Literal["low", "normal", "urgent"]
    order_number: int


with running(Emulator()) as server, server.client() as client:
    triage = client.agent(
        core_app="infsh/claude-haiku-45@latest",
        system_prompt="Turn customer e-mails into support tickets.",
        name="triage",
    )
    ticket = triage.run("This is urgent: order 1042 arrived broken.", output_type=Ticket)
    print(repr(ticket))
    print(f"priority {ticket.priority}, order {ticket.order_number}")

    # A model that hands in something else: here a scripted one, as a test would use.
    sloppy = client.agent(core_app=scripted_core_app(call("finish", priority="soon")))
    try:
        sloppy.run("Order 7 is late.", output_type=Ticket)
    except AgentOutputError as exc:
        print(f"AgentOutputError: {str(exc).splitlines()[0]} (it gave {exc.output})")
