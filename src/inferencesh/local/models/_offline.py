"""The default offline model: deterministic, rule-based, no network.

It is no language model. It does the few things the SDKs' own examples need, the same way
every time:

1. If the latest user message names one of the agent's tools (`get_weather`), or all the
   distinctive words of exactly one tool's name ("weather"), it calls that tool once, with
   the arguments it can pick out of the message (see `extract_arguments`).
2. With tool results since that message, it answers from them: `Here is what get_weather
   returned: <result>`.
3. If the agent has an `output_schema` and the `finish` tool, it then calls `finish` with a
   value of the schema's shape built from the message (strings: the message, enums: a value
   the message mentions or the first, numbers: the first number in the message or 0).
4. Otherwise it answers `You said: <message>`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from inferencesh.local.models._base import (
    Emit,
    ModelMessage,
    ModelReply,
    ModelRequest,
    ToolCall,
    ToolSpec,
    json_list,
    new_call_id,
    stream_reply,
)

__all__ = ["OfflineModel", "extract_arguments"]

FINISH = "finish"
# Verbs too common in tool names to pick a tool by ("get_weather" is picked by "weather").
_GENERIC = {
    "get", "set", "list", "fetch", "create", "update", "delete", "run", "do", "make", "find",
    "search", "send", "read", "write", "call", "tool", "the", "a", "an", "to", "of", "by",
}  # fmt: skip
_PREPOSITION = re.compile(
    r"\b(?:in|for|at|from|to|about|of|near|on|called|named)\s+"
    r"((?:[A-Z][\w'’-]*)(?:\s+[A-Z][\w'’-]*)*)"
)
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|`([^`]+)`|'([^']{2,})'")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_URL = re.compile(r"https?://\S+[^\s.,;:!?)\]]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PATH = re.compile(r"(?:~|\.{0,2})/[\w./-]+|\b[\w-]+\.[A-Za-z0-9]{1,5}\b")
_USE_SENTENCE = re.compile(r"\s*\b(?:please\s+)?use\s+(?:the\s+)?`?\w+`?(?:\s+tool)?\s*[.!]?", re.I)


class OfflineModel:
    """The rule-based model answering every LLM ref that has no registered model."""

    async def complete(self, request: ModelRequest, emit: Emit) -> ModelReply:
        """One deterministic turn (see the module docstring)."""
        reply = self.decide(request)
        stream_reply(reply, emit)
        return reply

    def decide(self, request: ModelRequest) -> ModelReply:
        """The turn for `request`, without streaming."""
        text = request.last_user_text
        since = _since_last_user(request.messages)
        called = {c.name for m in since for c in m.tool_calls}
        results = [m for m in since if m.role == "tool"]
        if not called:
            tool = pick_tool(text, request.tools)
            if tool is not None and tool.name != FINISH:
                arguments = extract_arguments(text, tool.parameters, tool=tool.name)
                return ModelReply(
                    tool_calls=(ToolCall(name=tool.name, arguments=arguments, id=new_call_id()),)
                )
        finish = request.tool(FINISH)
        if request.output_schema is not None and finish is not None and FINISH not in called:
            value = fill_schema(request.output_schema, text)
            answer = _answer(results, text) if results else ""
            return ModelReply(
                text=answer,
                tool_calls=(ToolCall(name=FINISH, arguments=_as_object(value), id=new_call_id()),),
            )
        return ModelReply(text=_answer(results, text))


def _as_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"result": value}  # pyright: ignore[reportUnknownVariableType]


def _since_last_user(messages: Sequence[ModelMessage]) -> list[ModelMessage]:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            return list(messages[index + 1 :])
    return list(messages)


def _answer(results: Sequence[ModelMessage], text: str) -> str:
    if not results:
        return f"You said: {text}" if text else "Hello! How can I help?"
    lines = [f"Here is what {m.name or 'the tool'} returned: {m.content}" for m in results]
    return "\n".join(lines)


def pick_tool(text: str, tools: Sequence[ToolSpec]) -> ToolSpec | None:
    """The tool the message names: by its exact name, else by its distinctive words."""
    lowered = text.lower()
    for tool in tools:
        if re.search(rf"(?<![\w]){re.escape(tool.name.lower())}(?![\w])", lowered):
            return tool
    words = set(re.findall(r"[a-z0-9]+", lowered))
    matches: list[ToolSpec] = []
    for tool in tools:
        if tool.kind == "internal":
            continue
        tokens = {t for t in re.split(r"[^a-z0-9]+", tool.name.lower()) if t} - _GENERIC
        if tokens and all(t in words or t + "s" in words for t in tokens):
            matches.append(tool)
    return matches[0] if len(matches) == 1 else None


def extract_arguments(text: str, schema: Mapping[str, Any], *, tool: str = "") -> dict[str, Any]:
    """Arguments for a tool with parameter schema `schema`, picked out of `text`.

    Per property: `name=value` / `name: value` in the text; an enum value the text mentions;
    for numbers the next number; for strings a quoted phrase, a URL, an e-mail or a path when
    the name suggests one, or a capitalised phrase after a preposition ("in Paris"). Required
    properties nobody found get a fallback (strings: the message without its "Use <tool>"
    sentence; numbers: 0; booleans: false; enums: the first value; lists: []; objects: {}).
    """
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    required = set(schema.get("required") or [])
    quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)]
    numbers = _NUMBER.findall(text)
    places = [m.group(1) for m in _PREPOSITION.finditer(text) if m.group(1).lower() != tool]
    out: dict[str, Any] = {}
    for name, raw_prop in properties.items():  # pyright: ignore[reportUnknownVariableType]
        prop: Mapping[str, Any] = raw_prop if isinstance(raw_prop, Mapping) else {}  # pyright: ignore[reportUnknownVariableType]
        value = _find(str(name), prop, text, quoted, numbers, places)  # pyright: ignore[reportUnknownArgumentType]
        if value is None and name in required:
            value = _fallback(prop, text, tool)
        if value is not None:
            out[str(name)] = value  # pyright: ignore[reportUnknownArgumentType]
    return out


def _find(
    name: str,
    prop: Mapping[str, Any],
    text: str,
    quoted: list[str],
    numbers: list[str],
    places: list[str],
) -> Any:
    kind = prop.get("type", "string")
    spoken = name.replace("_", " ")
    # A bare value ends before a sentence's closing punctuation ("order_id=A-17." is A-17).
    explicit = re.search(
        rf"\b(?:{re.escape(name)}|{re.escape(spoken)})\s*(?:=|:|\bis\b)\s*(\"[^\"]*\"|'[^']*'|[^\s,;]*[^\s,;.!?])",
        text,
        re.I,
    )
    enum = prop.get("enum")
    if isinstance(enum, list):
        for option in enum:  # pyright: ignore[reportUnknownVariableType]
            if re.search(rf"(?<![\w]){re.escape(str(option))}(?![\w])", text, re.I):  # pyright: ignore[reportUnknownArgumentType]
                return option  # pyright: ignore[reportUnknownVariableType]
        return None
    if explicit:
        return _coerce(explicit.group(1).strip("\"'"), kind)
    if kind in ("number", "integer"):
        return _coerce(numbers.pop(0), kind) if numbers else None
    if kind == "boolean":
        return True if re.search(rf"\b{re.escape(spoken)}\b", text, re.I) else None
    if kind != "string":
        return None
    lowered = name.lower()
    if "url" in lowered or "link" in lowered:
        found = _URL.search(text)
        return found.group(0) if found else None
    if "email" in lowered or lowered in ("to", "recipient"):
        found = _EMAIL.search(text)
        return found.group(0) if found else None
    if "path" in lowered or "file" in lowered:
        found = _PATH.search(_URL.sub("", text))
        if found:
            return found.group(0)
    if quoted:
        return quoted.pop(0)
    if places:
        return places.pop(0)
    return None


def _coerce(value: str, kind: Any) -> Any:
    if kind == "integer":
        try:
            return int(float(value))
        except ValueError:
            return None
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return None
    if kind == "boolean":
        return value.lower() in ("true", "yes", "1", "on")
    return value


def _fallback(prop: Mapping[str, Any], text: str, tool: str) -> Any:
    enum = prop.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]  # pyright: ignore[reportUnknownVariableType]
    kind = prop.get("type", "string")
    defaults: dict[str, Any] = {
        "number": 0,
        "integer": 0,
        "boolean": False,
        "array": [],
        "object": {},
    }
    if kind in defaults:
        return defaults[kind]
    stripped = _USE_SENTENCE.sub(" ", text).strip()
    return stripped or text


def fill_schema(schema: Mapping[str, Any], text: str) -> Any:
    """A value of `schema`'s shape, made from `text` (see the module docstring)."""
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        for option in enum:  # pyright: ignore[reportUnknownVariableType]
            if re.search(rf"(?<![\w]){re.escape(str(option))}(?![\w])", text, re.I):  # pyright: ignore[reportUnknownArgumentType]
                return option  # pyright: ignore[reportUnknownVariableType]
        return enum[0]  # pyright: ignore[reportUnknownVariableType]
    kind: Any = schema.get("type", "object")
    kinds = json_list(kind)
    if kinds is not None:
        kind = next((k for k in kinds if k != "null"), "string")
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return {}
        return {
            str(k): fill_schema(v if isinstance(v, Mapping) else {}, text)  # pyright: ignore[reportUnknownArgumentType]
            for k, v in properties.items()  # pyright: ignore[reportUnknownVariableType]
        }
    if kind == "array":
        return []
    if kind in ("number", "integer"):
        found = _NUMBER.search(text)
        number = float(found.group(0)) if found else 0
        return int(number) if kind == "integer" else number
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return text


def dumps_result(value: Any) -> str:
    """A tool result as the text a model reads."""
    return value if isinstance(value, str) else json.dumps(value)
