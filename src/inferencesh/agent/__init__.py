"""The agent runner's core: typed events, tool dispatch and approvals, and the turn machine.

`client.agent(...)` is the way in (see the Agents docs); this package holds what its turns are
made of. Nothing here does HTTP: the clients follow the chat (`_protocol/chats.py`), feed what
they see to a `Turn`, and carry out its jobs with the dispatch flows (`run_tool`,
`decide_approval`).
"""

from inferencesh.agent.config import AgentConfig as AgentConfig
from inferencesh.agent.dispatch import GENERIC_ERROR as GENERIC_ERROR
from inferencesh.agent.dispatch import ApprovalOutcome as ApprovalOutcome
from inferencesh.agent.dispatch import Approver as Approver
from inferencesh.agent.dispatch import ToolOutcome as ToolOutcome
from inferencesh.agent.events import AgentEvent as AgentEvent
from inferencesh.agent.events import ApprovalRequested as ApprovalRequested
from inferencesh.agent.events import ErrorEvent as ErrorEvent
from inferencesh.agent.events import MessageCompleted as MessageCompleted
from inferencesh.agent.events import MessageDelta as MessageDelta
from inferencesh.agent.events import ToolCallApproved as ToolCallApproved
from inferencesh.agent.events import ToolCallCompleted as ToolCallCompleted
from inferencesh.agent.events import ToolCallDenied as ToolCallDenied
from inferencesh.agent.events import ToolCallFailed as ToolCallFailed
from inferencesh.agent.events import ToolCallRequested as ToolCallRequested
from inferencesh.agent.events import TurnFinished as TurnFinished
from inferencesh.agent.reply import AgentReply as AgentReply
from inferencesh.agent.reply import ToolCallRecord as ToolCallRecord
from inferencesh.tools import ApprovalDecision as ApprovalDecision
from inferencesh.tools import ApprovalPolicy as ApprovalPolicy
from inferencesh.tools import ApprovalRequest as ApprovalRequest

__all__ = [
    "GENERIC_ERROR",
    "AgentConfig",
    "AgentEvent",
    "AgentReply",
    "ApprovalDecision",
    "ApprovalOutcome",
    "ApprovalPolicy",
    "ApprovalRequest",
    "ApprovalRequested",
    "Approver",
    "ErrorEvent",
    "MessageCompleted",
    "MessageDelta",
    "ToolCallApproved",
    "ToolCallCompleted",
    "ToolCallDenied",
    "ToolCallFailed",
    "ToolCallRecord",
    "ToolCallRequested",
    "ToolOutcome",
    "TurnFinished",
]


def _set_public_module() -> None:
    # Events report the public path (reprs, docs, pickling by reference).
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) and obj.__module__.startswith("inferencesh.agent."):
            obj.__module__ = __name__


_set_public_module()
