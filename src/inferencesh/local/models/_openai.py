"""`OpenAICompatibleModel`: the emulator's agents on a real LLM.

Any server that speaks OpenAI's chat-completions API works: Ollama, llama.cpp's server,
vLLM, LM Studio, OpenAI itself. Needs the `openai` extra (`pip install 'inferencesh[openai]'`).
The reply is streamed: text pieces and tool-call fragments go out as deltas while they arrive,
in the LLMDelta shape the clients merge. The agent's LLM settings (`core_app.input`:
temperature, max_tokens, ...) are passed on.
"""

from __future__ import annotations

import json
import os
import typing
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from inferencesh.local.models._base import (
    Emit,
    ModelError,
    ModelMessage,
    ModelReply,
    ModelRequest,
    ToolCall,
    json_object,
    new_call_id,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionChunk
    from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall

__all__ = ["OpenAICompatibleModel"]

ENV_BASE_URL = "INFERENCESH_LLM_BASE_URL"
ENV_API_KEY = "INFERENCESH_LLM_API_KEY"
ENV_MODEL = "INFERENCESH_LLM_MODEL"
# LLM settings (LLMSettings of the protocol) that chat-completions servers take as they are.
_PASSED_ON = (
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "tool_choice",
    "response_format",
    "reasoning_effort",
)


class OpenAICompatibleModel:
    """A model served by an OpenAI-compatible chat-completions server.

    Example:
        ```python
        from inferencesh.local import Emulator
        from inferencesh.local.models import OpenAICompatibleModel

        emu = Emulator()
        # Ollama on this machine answers every agent (any core_app ref):
        emu.models.default = OpenAICompatibleModel(
            base_url="http://localhost:11434/v1", model="llama3.2"
        )
        ```

    Args:
        model: The model name the server knows (`llama3.2`, `gpt-4o-mini`, ...); default
            `$INFERENCESH_LLM_MODEL`.
        base_url: The server's API root, e.g. `http://localhost:11434/v1`; default
            `$INFERENCESH_LLM_BASE_URL`, else `$OPENAI_BASE_URL`, else OpenAI's.
        api_key: Default `$INFERENCESH_LLM_API_KEY`, else `$OPENAI_API_KEY`, else a
            placeholder (local servers ignore it, the client library needs one).
        timeout: Seconds for one model call.
        max_retries: Retries of the client library on connection errors and 429/5xx.
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
    ) -> None:
        self.model = model or os.environ.get(ENV_MODEL) or ""
        self.base_url = (
            base_url or os.environ.get(ENV_BASE_URL) or os.environ.get("OPENAI_BASE_URL")
        )
        self.api_key = (
            api_key or os.environ.get(ENV_API_KEY) or os.environ.get("OPENAI_API_KEY") or "unused"
        )
        self.timeout = timeout
        self.max_retries = max_retries
        if not self.model:
            raise ValueError(f"name the model: OpenAICompatibleModel(model=...) or ${ENV_MODEL}")

    def _client(self) -> AsyncOpenAI:
        try:
            from openai import AsyncOpenAI
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ModelError(
                "OpenAICompatibleModel needs the openai extra: pip install 'inferencesh[openai]'"
            ) from exc
        return AsyncOpenAI(
            base_url=self.base_url,
            api_key=self.api_key,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )

    async def complete(self, request: ModelRequest, emit: Emit) -> ModelReply:
        """Stream one chat completion; its text and tool calls.

        Raises:
            ModelError: the server refused or failed, or sent tool arguments that are not JSON.
        """
        import openai

        params: dict[str, Any] = {
            key: request.settings[key] for key in _PASSED_ON if key in request.settings
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters or {"type": "object", "properties": {}},
                    },
                }
                for t in request.tools
            ]
        text: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        # A client per call: it belongs to the loop it was made on (no client outlives it).
        try:
            async with self._client() as client:
                # `Any`: the settings are passed through as given (typed overloads cannot see them).
                create: Any = client.chat.completions.create
                stream = await create(
                    model=self.model, messages=_messages(request), stream=True, **params
                )
                async for chunk in typing.cast("AsyncIterator[ChatCompletionChunk]", stream):
                    for choice in chunk.choices:
                        delta = choice.delta
                        if delta.content:
                            text.append(delta.content)
                            emit({"response": delta.content})
                        for fragment in delta.tool_calls or []:
                            _merge(calls, fragment, emit)
        except openai.APIError as exc:
            raise ModelError(f"{self.base_url or 'the OpenAI API'} ({self.model}): {exc}") from exc
        return ModelReply(
            text="".join(text), tool_calls=tuple(_tool_call(calls[i]) for i in sorted(calls))
        )


def _merge(calls: dict[int, dict[str, Any]], fragment: ChoiceDeltaToolCall, emit: Emit) -> None:
    """Add one streamed tool-call fragment (by `index`) and pass it on as a delta."""
    index = int(fragment.index or 0)
    call = calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
    out: dict[str, Any] = {"index": index}
    if fragment.id:
        call["id"] = out["id"] = fragment.id
        out["type"] = "function"
    function = fragment.function
    if function is not None:
        part: dict[str, Any] = {}
        if function.name:
            call["name"] += function.name
            part["name"] = call["name"]
        if function.arguments:
            call["arguments"] += function.arguments
            part["arguments"] = function.arguments
        if part:
            out["function"] = part
    emit({"tool_calls": [out]})


def _tool_call(call: Mapping[str, Any]) -> ToolCall:
    raw = call["arguments"].strip()
    try:
        arguments = json_object(json.loads(raw)) if raw else {}
    except ValueError as exc:
        raise ModelError(
            f"the model called {call['name']} with arguments that are not JSON: {raw!r}"
        ) from exc
    if arguments is None:
        raise ModelError(f"the model called {call['name']} with arguments that are not an object")
    return ToolCall(name=call["name"], arguments=arguments, id=call["id"] or new_call_id())


def _messages(request: ModelRequest) -> list[dict[str, Any]]:
    """The conversation in chat-completions form."""
    out: list[dict[str, Any]] = []
    if request.system_prompt:
        out.append({"role": "system", "content": request.system_prompt})
    out += [_message(m) for m in request.messages]
    return out


def _message(message: ModelMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id or "",
            "content": message.content,
        }
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                }
                for c in message.tool_calls
            ],
        }
    return {"role": message.role, "content": message.content}
