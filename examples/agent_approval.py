"""Human in the loop: calls that need approval wait for a decision before they run.

The approval callback is where a person decides: in a terminal `input("Allow? [y/N] ")`, in
a web app a button (see the docs: Agents, Approvals). This one plays the reviewer with a rule
(refunds up to 50 are fine), so the example runs unattended. A tool's approval policy decides
without asking anyone. Only an explicit True approves: no callback, an exception or a time-out
refuses, and the model reads why.
"""

from inferencesh.local import Emulator, running
from inferencesh.tools import ApprovalDecision, ApprovalRequest, tool

LLM = "infsh/claude-haiku-45@latest"


@tool(require_approval=True)
def refund(order_id: str, amount: int) -> str:
    """Refund an order.

    Args:
        order_id: The order's id.
        amount: How much to refund.
    """
    return f"refunded {amount} on {order_id}"


def lookups_are_fine(request: ApprovalRequest) -> ApprovalDecision:
    return "allow"  # a policy: decides every call of its tool here, nobody is asked


@tool(require_approval=lookups_are_fine)
def order_total(order_id: str) -> str:
    """Look up an order's total.

    Args:
        order_id: The order's id.
    """
    return f"{order_id} came to 80"


def reviewer(request: ApprovalRequest) -> bool:
    allowed = request.arguments.get("amount", 0) <= 50
    print(f"  review {request.tool_name}({request.arguments}): {'yes' if allowed else 'no'}")
    return allowed


with running(Emulator()) as server, server.client() as client:
    agent = client.agent(core_app=LLM, tools=[refund, order_total], approve=reviewer)
    for message in [
        "Use refund with order_id=A-17 and amount=30.",
        "Use refund with order_id=B-42 and amount=500.",
        "Use order_total with order_id=A-17.",
    ]:
        print(f"> {message}")
        with agent.stream(message) as events:
            for event in events:
                if event.type == "tool_call.approved":
                    print(f"  approved by the {event.decided_by}")
                elif event.type == "tool_call.denied":
                    print(f"  denied by the {event.decided_by}: {event.reason}")
                elif event.type == "tool_call.completed":
                    print(f"  ran: {event.result}")
        print(f"  {events.reply().text}")
