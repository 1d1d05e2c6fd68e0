"""The reading side of `ChatStore`: DTOs, streams, and what the engine looks up."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from inferencesh.local.chats._config import AgentConfig
from inferencesh.local.chats._conversation import copy_message
from inferencesh.local.chats._records import INVOCATION_TERMINAL, Invocation
from inferencesh.local.chats._store_base import line
from inferencesh.local.chats._store_moves import StoreMoves
from inferencesh.local.core._envelope import ApiError
from inferencesh.local.core._streams import StreamItem, Subscription

__all__ = ["StoreReads"]


class StoreReads(StoreMoves):
    """Reads of chats, runs and invocations, and the chats' streams."""

    # -- reading ---------------------------------------------------------------------------

    def chat(self, chat_id: str, *, messages: bool = True) -> dict[str, Any]:
        """The ChatDTO (with `chat_messages` unless asked not to).

        Raises:
            ApiError: 404 for an unknown chat.
        """
        with self._lock:
            return self._chat_dto(self._chat(chat_id), messages=messages)

    def chats(self) -> list[dict[str, Any]]:
        """Every chat, oldest first, with its messages."""
        with self._lock:
            return [self._chat_dto(c, messages=True) for c in self._chats.values()]

    def status(self, chat_id: str) -> dict[str, Any]:
        """`{id, status, updated_at}` (`GET /chats/{id}/status`)."""
        with self._lock:
            chat = self._chat(chat_id)
            return {"id": chat.id, "status": chat.status(), "updated_at": chat.dto["updated_at"]}

    def messages(self, chat_id: str) -> list[dict[str, Any]]:
        """Copies of the chat's messages, in order."""
        with self._lock:
            return [copy_message(m) for m in self._chat(chat_id).messages]

    def run_dto(self, run_id: str) -> dict[str, Any] | None:
        """A copy of a run, or None."""
        with self._lock:
            run = self._runs.get(run_id)
            return None if run is None else dict(run.dto)

    def run_interrupts(self, run_id: str) -> list[dict[str, Any]]:
        """The pending interrupts of a run.

        Raises:
            ApiError: 404 for an unknown run.
        """
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                raise ApiError(404, "not_found", f"agent run {run_id} not found")
            chat = self._chats[run.chat_id]
            return [
                dict(i)
                for i in chat.interrupts
                if i["run_id"] == run_id and i["status"] == "pending"
            ]

    def invocation(self, invocation_id: str) -> dict[str, Any]:
        """A copy of a tool invocation.

        Raises:
            ApiError: 404 for an unknown invocation.
        """
        with self._lock:
            return dict(self._invocation(invocation_id).dto)

    def has_chat(self, chat_id: str) -> bool:
        """Whether the chat exists (and was not evicted)."""
        with self._lock:
            return chat_id in self._chats

    def stream_seen(self, run_id: str) -> bool:
        """Whether a stream opened for this run follows the chat.

        One opened since the run began, or one open now that was opened after the chat's
        previous run ended (a client that connects before it posts its message). A stream left
        open by an earlier turn does not count: its client is likely gone, and a model that
        started for it would send its first deltas before this turn's client could listen.
        """
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return True
            chat = self._chats[run.chat_id]
            if chat.stream_opens > run.stream_opens_at_start:
                return True
            opened_between_turns = run.stream_opens_at_start > chat.stream_opens_at_last_end
            return opened_between_turns and chat.topic.subscriber_count > 0

    # -- streams ---------------------------------------------------------------------------

    def open_stream(self, chat_id: str) -> tuple[list[StreamItem], Subscription]:
        """The lines a new stream starts with, and a subscription to what follows them.

        First the messages of the active run that are not settled (pending, or with a tool
        call still open), then the run, then the chat: a client connecting late still sees
        what it must act on before the chat tells it the run is waiting.

        Raises:
            ApiError: 404 for an unknown chat.
        """
        with self._lock:
            chat = self._chat(chat_id)
            items: list[StreamItem] = []
            run = chat.last_run
            if run is not None and run.active:
                for message in chat.messages:
                    if message.get("agent_run_id") == run.id and _unsettled(message):
                        items.append(line("chat_messages", message))
                items.append(line("agent_runs", run.dto))
            items.append(line("chats", self._chat_dto(chat, messages=False)))
            subscription = chat.topic.subscribe()
            chat.stream_opens += 1
        self.on_stream_open(chat_id)
        return items, subscription

    def snapshot_item(self, chat_id: str) -> StreamItem | None:
        """The chat as one stream line (re-sent after long silences); None once it is gone."""
        with self._lock:
            chat = self._chats.get(chat_id)
            return None if chat is None else line("chats", self._chat_dto(chat, messages=False))

    def close_streams(self) -> None:
        """End every open chat stream (the server is shutting down)."""
        with self._lock:
            chats = list(self._chats.values())
        for chat in chats:
            chat.topic.end_streams()

    def run_info(self, run_id: str) -> tuple[str, str, AgentConfig] | None:
        """`(chat_id, base_url, config)` of a run, or None."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return None
            return run.chat_id, run.base_url, self._chats[run.chat_id].config

    def invocation_info(self, invocation_id: str) -> tuple[Invocation, dict[str, str], str] | None:
        """The invocation, its chat's context and the run's base URL (for server tools)."""
        with self._lock:
            invocation = self._invocations.get(invocation_id)
            if invocation is None or invocation.chat_id not in self._chats:
                return None
            chat = self._chats[invocation.chat_id]
            return invocation, dict(chat.dto["context"]), self._runs[invocation.run_id].base_url

    def last_answer(self, run_id: str) -> tuple[str, Any, str | None]:
        """`(state, result, error)` of a run: its output, else its last assistant text."""
        with self._lock:
            run = self._runs[run_id]
            if "output" in run.dto:
                return run.state, run.dto["output"], run.dto.get("error")
            chat = self._chats[run.chat_id]
            for message in reversed(chat.messages):
                if message.get("agent_run_id") == run_id and message["role"] == "assistant":
                    texts = [
                        c.get("text", "") for c in message["content"] if c.get("type") == "text"
                    ]
                    if any(texts):
                        return run.state, "".join(texts), run.dto.get("error")
            return run.state, "", run.dto.get("error")


def _unsettled(message: Mapping[str, Any]) -> bool:
    if message.get("status") == "pending":
        return True
    invocations: Iterable[Mapping[str, Any]] = message.get("tool_invocations") or []
    return any(i.get("status") not in INVOCATION_TERMINAL for i in invocations)
