"""A template agent: its prompt and tools live on the server, its client tools run here.

The emulator stands in for your workspace: `emulator.agent(...)` registers the template
that `client.agent("acme/support@latest")` then talks to (on inference.sh you create it in the
workspace). The client passes the handlers of the template's client tools.
"""

from inferencesh.local import Emulator, running
from inferencesh.tools import tool

ORDERS = {"A-17": "shipped on Monday", "B-42": "waiting for stock"}


@tool
def order_status(order_id: str) -> str:
    """Look up where an order is.

    Args:
        order_id: The order's id, e.g. A-17.
    """
    return ORDERS.get(order_id, "no such order")


emulator = Emulator()
emulator.agent(  # the template, as the server keeps it
    "acme/support",
    core_app="infsh/claude-haiku-45@latest",
    system_prompt="You answer questions about orders. Use order_status.",
    tools=[order_status],
    name="support",
)

with running(emulator) as server, server.client() as client:
    support = client.agent("acme/support@latest", tools=[order_status])  # handlers only
    reply = support.send_message("Where is my order? Use order_status with order_id=A-17.")
    print(reply.text)
    chat = support.get_chat()  # the conversation as the server keeps it
    print(f"{len(chat.chat_messages)} messages in chat {chat.id}:")
    for message in chat.chat_messages:
        calls = [call.name for call in message.tool_invocations]
        print(f"  {message.role}: {message.text or f'(calls {calls})'}")
