"""What the chat and tool endpoints do apart from HTTP (agents.md).

Each operation reads the request, asks the store for the change, and starts what the store
says should happen next.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from inferencesh.local.chats._config import AgentConfig, parse_agent_config
from inferencesh.local.chats._engine import AgentResolver, TurnEngine
from inferencesh.local.chats._store import ChatStore
from inferencesh.local.core._envelope import ApiError
from inferencesh.local.models._base import json_list, json_object

__all__ = ["ChatService"]

MAX_ATTACHMENTS = 20


class ChatService:
    """The chat operations of one emulator."""

    def __init__(
        self,
        *,
        store: ChatStore,
        engine: TurnEngine,
        resolve_agent: AgentResolver,
        app_schema: Callable[[str], dict[str, Any]],
        approvals_allowed: Callable[[], bool],
    ) -> None:
        self.store = store
        self.engine = engine
        self._resolve_agent = resolve_agent
        self._app_schema = app_schema
        self._approvals_allowed = approvals_allowed

    # -- POST /agents/run ------------------------------------------------------------------

    def run(self, body: Mapping[str, Any], *, base_url: str = "") -> dict[str, Any]:
        """Post a message (creating the chat if needed) and start a run.

        Raises:
            ApiError: 400 malformed, 404 unknown chat or agent template, 409 chat busy.
        """
        chat_id = _optional_str(body, "chat_id")
        config, agent = self._agent_of(body)
        if chat_id is None and config is None:
            raise ApiError(
                400,
                "invalid_request",
                "name the agent: agent (a template ref), agent_config (ad-hoc) or chat_id",
            )
        context = json_object(body.get("context") or {})
        if context is None:
            raise ApiError(400, "invalid_request", "context must be an object of strings")
        values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in context.items()}
        user, assistant, run_id = self.store.open_turn(
            chat_id=chat_id,
            config=config,
            agent=agent,
            context=values,
            content=_content(body.get("input")),
            base_url=base_url,
        )
        self.engine.start(run_id)
        return {"user_message": user, "assistant_message": assistant}

    def _agent_of(self, body: Mapping[str, Any]) -> tuple[AgentConfig | None, dict[str, Any]]:
        raw = body.get("agent_config")
        if raw is not None:
            config = parse_agent_config(raw, app_schema=self._app_schema)
            name = _optional_str(body, "agent_name") or config.name or config.core_ref
            return config, {"agent_id": "agt_adhoc_" + _digest(name)}
        ref = _optional_str(body, "agent") or _optional_str(body, "agent_id")
        if ref is None:
            return None, {}
        return self._resolve_agent(ref)

    # -- tools -----------------------------------------------------------------------------

    def submit_result(self, invocation_id: str, body: Mapping[str, Any]) -> None:
        """`POST /tools/{id}`: a client tool's result.

        The body is `{"result": ...}` (a string, or JSON made into one) or a widget action
        as the raw body `{"action": ..., "form_data": ...}`.

        Raises:
            ApiError: 400 malformed, 404 unknown, 409 not awaiting a result.
        """
        if "result" in body:
            value = body["result"]
            result = value if isinstance(value, str) else json.dumps(value)
        elif "action" in body:
            result = json.dumps({k: body[k] for k in ("action", "form_data") if k in body})
        else:
            raise ApiError(400, "invalid_request", 'send the tool\'s result as {"result": "..."}')
        attachments = json_list(body.get("attachments") or [])
        if attachments is None or len(attachments) > MAX_ATTACHMENTS:
            raise ApiError(
                400,
                "invalid_request",
                f"attachments must be a list of at most {MAX_ATTACHMENTS} files",
            )
        files = [_file(f, f"attachments[{i}]") for i, f in enumerate(attachments)]
        self.engine.carry_out(self.store.submit_result(invocation_id, result, files))

    def approve(self, invocation_id: str) -> None:
        """`POST /tools/{id}/invoke`: run a tool call waiting for approval."""
        self._check_approvals()
        self.engine.carry_out(self.store.approve(invocation_id))

    def reject(self, invocation_id: str, body: Mapping[str, Any]) -> None:
        """`POST /tools/{id}/reject`: refuse it; the model sees the reason."""
        self._check_approvals()
        reason = body.get("reason") or ""
        if not isinstance(reason, str):
            raise ApiError(400, "invalid_request", "reason must be a string")
        self.engine.carry_out(self.store.reject(invocation_id, reason))

    def resolve_interrupt(self, interrupt_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /interrupts/{id}/resolve` with `{"decision": "allow" | "deny"}`."""
        self._check_approvals()
        interrupt, outcome = self.store.resolve_interrupt(
            interrupt_id, str(body.get("decision", ""))
        )
        self.engine.carry_out(outcome)
        return interrupt

    def always_allow(self, chat_id: str, invocation_id: str, body: Mapping[str, Any]) -> None:
        """`POST /chats/{cid}/tools/{id}/always-allow` with `{"tool_name": ...}`."""
        self._check_approvals()
        name = body.get("tool_name")
        self.engine.carry_out(
            self.store.always_allow(chat_id, invocation_id, name if isinstance(name, str) else None)
        )

    def stop(self, chat_id: str) -> None:
        """`POST /chats/{id}/stop`: end the run (a no-op on an idle chat)."""
        run_id = self.store.stop(chat_id)
        if run_id is not None:
            self.engine.stopped(run_id)

    def _check_approvals(self) -> None:
        if not self._approvals_allowed():
            raise ApiError(
                403,
                "requires_sign_in",
                "approving tool calls needs the account holder's own sign-in (approvals:write); "
                "an API key cannot approve or reject",
            )

    # -- reads -----------------------------------------------------------------------------

    def messages(self, chat_id: str, *, limit: str | None, cursor: str | None) -> dict[str, Any]:
        """`GET /chats/{id}/messages?limit=&cursor=`: oldest first.

        Answers `{items, next_cursor, has_next, total_items}`.
        """
        items = self.store.messages(chat_id)
        try:
            size = min(100, max(1, int(limit))) if limit else 50
            start = int(cursor) if cursor else 0
        except ValueError as exc:
            raise ApiError(400, "invalid_request", "limit and cursor must be integers") from exc
        page = items[start : start + size]
        more = start + size < len(items)
        return {
            "items": page,
            "next_cursor": str(start + size) if more else "",
            "has_next": more,
            "total_items": len(items),
        }


def _optional_str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_request", f"{key} must be a string")
    return value


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _file(raw: Any, where: str) -> dict[str, Any]:
    file = json_object(raw)
    if file is None or not isinstance(file.get("uri"), str):
        raise ApiError(400, "invalid_request", f"{where} needs a uri")
    return file


def _content(raw: Any) -> list[dict[str, Any]]:
    """The user message's content from `input` (PY `attachments`, JS `images`/`files`)."""
    message = json_object(raw)
    if message is None:
        raise ApiError(400, "invalid_request", 'input must be an object: {"text": "..."}')
    text = message.get("text")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ApiError(400, "invalid_request", "input.text must be a string")
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    attachments = json_list(message.get("attachments") or [])
    if attachments is None:
        raise ApiError(400, "invalid_request", "input.attachments must be a list")
    for index, raw_file in enumerate(attachments):
        file = _file(raw_file, f"input.attachments[{index}]")
        kind = "image" if str(file.get("content_type", "")).startswith("image/") else "file"
        content.append({"type": kind, kind: file["uri"]})
    if not attachments:  # JS sends uris; the server reads them only without attachments
        for kind, key in (("image", "images"), ("file", "files")):
            uris = json_list(message.get(key) or [])
            if uris is None or not all(isinstance(u, str) for u in uris):
                raise ApiError(400, "invalid_request", f"input.{key} must be a list of uris")
            content += [{"type": kind, kind: uri} for uri in uris]
    if not text and len(content) == 1:
        raise ApiError(400, "invalid_request", "input needs text or attachments")
    return content
