"""The agent side of `Emulator`'s public API (templates, models, chats)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from inferencesh.local.agents._runtime import AgentRuntime
from inferencesh.local.agents._templates import AgentTemplate
from inferencesh.local.models._registry import ModelRegistry

__all__ = ["AgentsMixin"]


class AgentsMixin:
    """Agent templates, models and chats of an emulator (`Emulator` inherits these)."""

    agent_runtime: AgentRuntime
    """Chats, models, templates and the turn engine."""

    @property
    def models(self) -> ModelRegistry:
        """Models by core app ref.

        `emu.models.register("me/llm", model)` answers agents using `me/llm`;
        `emu.models.default` answers every other ref (the offline rule-based model unless
        replaced).
        """
        return self.agent_runtime.models

    @property
    def allow_api_key_approvals(self) -> bool:
        """Whether approve/reject/resolve calls made with an API key are accepted (default).

        False answers them 403 `requires_sign_in`, as the real API does for API keys.
        """
        return self.agent_runtime.allow_api_key_approvals

    @allow_api_key_approvals.setter
    def allow_api_key_approvals(self, value: bool) -> None:
        self.agent_runtime.allow_api_key_approvals = value

    @property
    def agent_stream_wait(self) -> float:
        """Seconds a new run waits for a client to follow its chat before the model starts."""
        return self.agent_runtime.engine.stream_wait

    @agent_stream_wait.setter
    def agent_stream_wait(self, value: float) -> None:
        if value < 0:
            raise ValueError(f"agent_stream_wait must be >= 0, got {value}")
        self.agent_runtime.engine.stream_wait = value

    def agent(
        self,
        ref: str,
        *,
        core_app: str | Mapping[str, Any],
        system_prompt: str = "",
        tools: Iterable[Any] = (),
        version: str = "v1",
        **config: Any,
    ) -> AgentTemplate:
        """Register an agent template, served to `client.agent("ns/name@version")`.

        Example:
            ```python
            emu.agent("acme/support", core_app="infsh/claude-haiku-45", tools=[get_weather])
            ```

        Args:
            ref: `namespace/name`; clients may ask for any `@version`.
            core_app: The LLM app's ref, or `{"ref": ..., "input": {...}}`.
            system_prompt: The agent's instructions.
            tools: Tools as `@tool` objects or `AgentTool` dicts.
            version: The version reported as the chat's agent version.
            config: Any other `AgentConfigInput` field (`internal_tools`, `output_schema`,
                `skills`, `name`, `description`, ...).

        Raises:
            ValueError: a bad ref or config.
        """
        fields = {
            "core_app": core_app,
            "system_prompt": system_prompt,
            "tools": list(tools),
            **config,
        }
        return self.agent_runtime.add_template(ref, fields, version)

    def register_agent(
        self, ref: str, config: Mapping[str, Any] | Any, *, version: str = "v1"
    ) -> AgentTemplate:
        """Register an agent template from a whole `AgentConfigInput` (dict or model).

        Raises:
            ValueError: a bad ref or config.
        """
        return self.agent_runtime.add_template(ref, config, version)

    def chats(self) -> list[dict[str, Any]]:
        """Copies of every chat (ChatDTOs with their messages), oldest first."""
        return self.agent_runtime.store.chats()

    def chat(self, chat_id: str) -> dict[str, Any]:
        """A copy of one chat, as `GET /chats/{id}` shows it.

        Raises:
            KeyError: no such chat.
        """
        if not self.agent_runtime.store.has_chat(chat_id):
            raise KeyError(chat_id)
        return self.agent_runtime.store.chat(chat_id)
