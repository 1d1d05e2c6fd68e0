"""Server-side tools: what the emulator runs itself when the model calls them.

- `app`: the emulator's app, as a task (the model's arguments as input, with the tool's
  `input` and `fixed_input` on top); the result is the task's output as JSON.
- `agent`: the sub-agent's chat, as a child chat of this one (`parent_id`), named by the
  call as its `execution_id`; the result is its answer (`chat.output` as JSON if it
  finished with one, else its last text).
- `hook`: a `POST` of the arguments to the tool's URL with `X-Hook-Secret`; the result is the
  response body.
- `http`: a request per the tool's config (`{{context.KEY}}` in the URL and headers,
  `${{secrets.NAME}}` in header values, `bearer` / `api_key` auth from the emulator's
  secrets); arguments go in the query for GET, else as the JSON body.
- `internal`: plan, memory, skills, finish (see `_internal.py`).
- `mcp`: fails with a message saying the emulator has no MCP servers.

Every failure becomes a failed invocation whose message the model sees; none fails the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import httpx2

from inferencesh.local.chats._records import Invocation
from inferencesh.local.chats._store import ChatStore, Followup
from inferencesh.local.core._envelope import ApiError
from inferencesh.local.models._base import json_object
from inferencesh.local.tasks._service import TaskService
from inferencesh.local.tasks._state import TaskStore

__all__ = ["ChildRunner", "ServerTools"]

ChildRunner = Callable[[str, str, str, str, str], Awaitable[tuple[bool, str]]]
"""`(agent_ref, message, parent_chat_id, base_url, invocation_id) -> (ok, result)`."""

_TERMINAL_TASK = (10, 11, 12, 13)
_CONTEXT = re.compile(r"\{\{\s*context\.([\w.-]+)\s*\}\}")
_SECRET = re.compile(r"\$\{\{\s*secrets\.([\w.-]+)\s*\}\}")


class ToolFailed(Exception):
    """A tool could not run; the message goes to the model."""


class ServerTools:
    """Runs the server-side tools of chats."""

    def __init__(
        self,
        *,
        store: ChatStore,
        tasks: TaskService,
        task_store: TaskStore,
        secrets: Mapping[str, str],
        run_child: ChildRunner,
        http_timeout: float = 30.0,
    ) -> None:
        self._store = store
        self._tasks = tasks
        self._task_store = task_store
        self._secrets = secrets
        self._run_child = run_child
        self._http_timeout = http_timeout

    async def run(self, invocation_id: str) -> Followup | None:
        """Run the tool of an `in_progress` invocation and record how it ended."""
        info = self._store.invocation_info(invocation_id)
        if info is None:
            return None
        invocation, context, base_url = info
        if invocation.dto["type"] == "internal":
            return self._store.run_internal(invocation_id)
        try:
            result = await self._dispatch(invocation, context, base_url)
        except ToolFailed as exc:
            return self._store.finish_server_tool(invocation_id, False, str(exc))
        return self._store.finish_server_tool(invocation_id, True, result)

    async def _dispatch(
        self, invocation: Invocation, context: dict[str, str], base_url: str
    ) -> str:
        tool = invocation.tool
        assert tool is not None  # calls of unknown tools fail before they get here
        arguments: dict[str, Any] = dict(invocation.dto["function"]["arguments"])
        config = tool.config
        if tool.kind == "app":
            return await self._app(config, arguments, base_url)
        if tool.kind == "agent":
            message = arguments.get("message")
            text = message if isinstance(message, str) else json.dumps(arguments)
            ok, result = await self._run_child(
                str(config["ref"]), text, invocation.chat_id, base_url, invocation.id
            )
            if not ok:
                raise ToolFailed(result)
            return result
        if tool.kind == "hook":
            return await self._hook(config, arguments)
        if tool.kind == "http":
            return await self._http(config, arguments, context)
        if tool.kind == "mcp":
            server = config.get("server") or config.get("integration_id") or "?"
            raise ToolFailed(f"MCP tools are not available in the emulator (server {server!r}).")
        raise ToolFailed(f"the emulator cannot run {tool.kind} tools")

    async def _app(
        self, config: Mapping[str, Any], arguments: dict[str, Any], base_url: str
    ) -> str:
        given = config.get("input")
        fixed = config.get("fixed_input")
        body: dict[str, Any] = {
            "app": config["ref"],
            # The tool's `input` holds defaults the model may override; `fixed_input` wins.
            "input": {
                **(given if isinstance(given, dict) else {}),
                **arguments,
                **(fixed if isinstance(fixed, dict) else {}),
            },
        }
        for key in ("function", "setup"):
            if config.get(key) is not None:
                body[key] = config[key]
        try:
            created = self._tasks.run(body, base_url=base_url)
        except ApiError as exc:
            raise ToolFailed(f"the app {config['ref']} refused the call: {exc.detail}") from exc
        task_id: str = created["id"]
        try:
            task = await self._task_store.until(task_id, lambda t: t["status"] in _TERMINAL_TASK)
        except anyio.get_cancelled_exc_class():
            try:
                self._tasks.cancel(task_id)
            except ApiError:
                pass  # it ended meanwhile
            raise
        if task is None:
            raise ToolFailed(f"task {task_id} of {config['ref']} was deleted")
        if task["status"] != 10:
            raise ToolFailed(
                task.get("error") or f"task {task_id} of {config['ref']} did not complete"
            )
        return json.dumps(task.get("output"))

    async def _hook(self, config: Mapping[str, Any], arguments: dict[str, Any]) -> str:
        headers = {"content-type": "application/json"}
        secret = self._hook_secret(config)
        if secret:
            headers["x-hook-secret"] = secret
        return await self._send("POST", str(config["url"]), headers, json_body=arguments)

    def _hook_secret(self, config: Mapping[str, Any]) -> str:
        """The value sent as `X-Hook-Secret`.

        `secret_ref` names an emulator secret; `secret` is a secret's name if the emulator
        has one of that name, else the value itself.
        """
        ref = config.get("secret_ref")
        if isinstance(ref, str) and ref:
            return self._secrets.get(ref, "")
        secret = config.get("secret")
        if not isinstance(secret, str):
            return ""
        return self._secrets.get(secret, secret)

    async def _http(
        self, config: Mapping[str, Any], arguments: dict[str, Any], context: dict[str, str]
    ) -> str:
        def fill(text: str) -> str:
            text = _CONTEXT.sub(lambda m: context.get(m.group(1), ""), text)
            return _SECRET.sub(lambda m: self._secrets.get(m.group(1), ""), text)

        method = str(config.get("method") or "POST").upper()
        url = fill(str(config["url"]))
        headers = {k: fill(str(v)) for k, v in (json_object(config.get("headers")) or {}).items()}
        auth = json_object(config.get("auth"))
        if auth is not None:
            kind = auth.get("type")
            value = self._secrets.get(str(auth.get("secret", "")), "")
            if kind == "bearer":
                headers["authorization"] = f"Bearer {value}"
            elif kind == "api_key":
                headers[str(auth.get("header") or "X-API-Key")] = value
        if method == "GET":
            return await self._send(method, url, headers, params=arguments)
        return await self._send(method, url, headers, json_body=arguments)

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> str:
        query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (params or {}).items()}
        try:
            async with httpx2.AsyncClient(timeout=self._http_timeout) as client:
                if json_body is None:
                    response = await client.request(method, url, headers=headers, params=query)
                else:
                    response = await client.request(method, url, headers=headers, json=json_body)
        except httpx2.HTTPError as exc:
            raise ToolFailed(f"{method} {url} failed: {type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise ToolFailed(
                f"{method} {url} answered {response.status_code}: {response.text[:500]}"
            )
        return response.text
