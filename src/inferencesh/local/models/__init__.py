"""Models of the emulator's agents: one small interface, and the models that implement it.

- `Model`: `async complete(request, emit) -> ModelReply`; a `ModelRequest` holds the system
  prompt, the conversation (`ModelMessage`s), the tools (`ToolSpec`s) and the LLM settings.
- `ScriptedModel`: turns from a script, for tests (also `local/scripted` over the wire).
- `OfflineModel`: the default, deterministic and rule-based (see its module for its rules).
- `OpenAICompatibleModel`: any OpenAI-compatible chat-completions server (the `openai` extra).

Register one for a core app ref with `emu.models.register(ref, model)`, or make it the model of
every other ref with `emu.models.default = model`.
"""

from __future__ import annotations

from inferencesh.local.models._base import Emit as Emit
from inferencesh.local.models._base import Model as Model
from inferencesh.local.models._base import ModelError as ModelError
from inferencesh.local.models._base import ModelMessage as ModelMessage
from inferencesh.local.models._base import ModelReply as ModelReply
from inferencesh.local.models._base import ModelRequest as ModelRequest
from inferencesh.local.models._base import ToolCall as ToolCall
from inferencesh.local.models._base import ToolSpec as ToolSpec
from inferencesh.local.models._offline import OfflineModel as OfflineModel
from inferencesh.local.models._openai import OpenAICompatibleModel as OpenAICompatibleModel
from inferencesh.local.models._registry import ModelRegistry as ModelRegistry
from inferencesh.local.models._scripted import ScriptedModel as ScriptedModel

__all__ = [
    "Emit",
    "Model",
    "ModelError",
    "ModelMessage",
    "ModelRegistry",
    "ModelReply",
    "ModelRequest",
    "OfflineModel",
    "OpenAICompatibleModel",
    "ScriptedModel",
    "ToolCall",
    "ToolSpec",
]
