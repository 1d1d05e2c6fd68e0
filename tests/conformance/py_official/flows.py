"""Task flows of the official Python SDK (PyPI `inferencesh`, pinned), used as its README shows.

Runs with the official SDK's own virtual environment (it owns the import name `inferencesh`,
like this project):

    <venv>/bin/python -I flows.py BASE_URL API_KEY FLOW

Prints one JSON line: {"flow", "ok": true, "result"} or {"flow", "ok": false, "error"}. A flow
returns what the test asserts on; an error it expects (a 412, a cancelled task) is caught by the
flow and described in its result. To add a flow, decorate a function with `@flow("name")` (it
gets the sync client) or `@async_flow("name")` (it gets the async client).
"""

from __future__ import annotations

import asyncio  # noqa: TID251 -- the official SDK runs on asyncio (aiohttp); no anyio here
import dataclasses
import json
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import inferencesh
from inferencesh import (
    APIError,
    RequirementsNotMetError,
    TaskStatus,
    async_inference,
    inference,
    is_terminal_status,
    parse_status,
)

TEMPLATE = {
    "app": "infsh/text-templating",
    "input": {"template": "Hello {1}!", "strings": ["World"]},
}
SLOW = {"app": "infsh/slow", "input": {"steps": 3, "interval": 0.1}}
# Long enough never to finish by itself within a test; cancelling ends it.
LONG = {"app": "infsh/slow", "input": {"steps": 600, "interval": 0.1}}
FAIL = {"app": "infsh/fail", "input": {"message": "boom from the conformance suite"}}
LLM = {"app": "infsh/llm-echo", "input": {"text": "Hello there, world!"}}
# The version the official SDKs' own integration tests pin (the emulator reports it too).
PINNED = "53bk0yzk"
DEADLINE = 30.0
POLL = 0.025

Flow = Callable[[Any], dict[str, Any]]
AsyncFlow = Callable[[Any], Awaitable[dict[str, Any]]]
FLOWS: dict[str, Flow] = {}
ASYNC_FLOWS: dict[str, AsyncFlow] = {}


def flow(name: str) -> Callable[[Flow], Flow]:
    """Register a flow that gets the sync client, `inference(...)`."""

    def register(fn: Flow) -> Flow:
        FLOWS[name] = fn
        return fn

    return register


def async_flow(name: str) -> Callable[[AsyncFlow], AsyncFlow]:
    """Register a flow that gets the async client, `async_inference(...)` (aiohttp)."""

    def register(fn: AsyncFlow) -> AsyncFlow:
        ASYNC_FLOWS[name] = fn
        return fn

    return register


def describe_error(exc: BaseException) -> dict[str, Any]:
    """An exception as JSON: its class and the fields the SDK gives it."""
    out: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, RequirementsNotMetError):
        out["status_code"] = exc.status_code
        out["errors"] = [dataclasses.asdict(e) for e in exc.errors]
    if isinstance(exc, APIError):
        out.update(status_code=exc.status_code, code=exc.code, detail=exc.message)
        out["response_body"] = exc.response_body
    return out


def brief(task: dict[str, Any]) -> dict[str, Any]:
    """The part of a task (or update) the tests look at."""
    status = parse_status(task.get("status"))
    return {
        "id": task.get("id"),
        "status": task.get("status"),
        "status_name": status.name if status is not None else None,
        "output": task.get("output"),
        "error": task.get("error"),
        "delta": bool(task.get("_delta")),
        "keys": sorted(task),
    }


def poll_until_terminal(client: Any, task_id: str, seen: list[Any]) -> dict[str, Any]:
    """Fetch the task until it is terminal, as an app polling `tasks.get` would."""
    until = time.monotonic() + DEADLINE
    while True:
        task = client.tasks.get(task_id).data
        if not seen or seen[-1] != task["status"]:
            seen.append(task["status"])
        if is_terminal_status(task["status"]):
            return task
        if time.monotonic() > until:
            raise TimeoutError(f"task {task_id} not terminal: {task['status']}")
        time.sleep(POLL)


def raised(call: Callable[[], Any]) -> dict[str, Any]:
    """Run `call`, expecting it to raise; describe what it raised (or returned)."""
    try:
        value = call()
    except Exception as exc:
        return {"raised": True, "error": describe_error(exc)}
    return {"raised": False, "value": value}


@flow("run-and-wait")
def run_and_wait(client: Any) -> dict[str, Any]:
    """`tasks.run` waits by default (it follows the task's stream) and returns the result."""
    # `namespace/name@version`, the pinned form the SDK's docs ask for; `infra` as the README.
    result = client.tasks.run({**TEMPLATE, "app": f"{TEMPLATE['app']}@{PINNED}", "infra": "cloud"})
    return {"task": brief(result)}


@flow("run-legacy-alias")
def run_legacy_alias(client: Any) -> dict[str, Any]:
    """`client.run` is the README's legacy alias of `client.tasks.run`."""
    return {"task": brief(client.run(TEMPLATE))}


@flow("wait-false")
def wait_false(client: Any) -> dict[str, Any]:
    """`wait=False` returns the task info at once; then poll `tasks.get` until done."""
    created = client.tasks.run(TEMPLATE, wait=False)
    seen: list[Any] = []
    task = poll_until_terminal(client, created["id"], seen)
    return {"created": brief(created), "task": brief(task), "seen": seen}


@flow("stream-updates")
def stream_updates(client: Any) -> dict[str, Any]:
    """`stream=True` yields the task's updates as they happen, ending with the result."""
    updates = [brief(update) for update in client.tasks.run(SLOW, stream=True)]
    return {"updates": updates}


@flow("stream-existing")
def stream_existing(client: Any) -> dict[str, Any]:
    """`tasks.stream(id)` follows a task started with `wait=False`; `stream.result` at the end."""
    created = client.tasks.run(SLOW, wait=False)
    updates = []
    with client.tasks.stream(created["id"]) as stream:
        for update in stream:
            updates.append(brief(update))
            if is_terminal_status(update.get("status")):
                break
    return {"created": brief(created), "updates": updates, "result": brief(stream.result or {})}


@flow("wait-for-completion")
def wait_for_completion(client: Any) -> dict[str, Any]:
    """`tasks.wait_for_completion(id)` on a task started with `wait=False`."""
    created = client.tasks.run(SLOW, wait=False)
    return {
        "created": brief(created),
        "task": brief(client.tasks.wait_for_completion(created["id"])),
    }


@flow("cancel")
def cancel(client: Any) -> dict[str, Any]:
    """Start a long task with `wait=False`, cancel it, observe it cancelled."""
    created = client.tasks.run(LONG, wait=False)
    client.tasks.cancel(created["id"])
    seen: list[Any] = []
    task = poll_until_terminal(client, created["id"], seen)
    waited = raised(lambda: client.tasks.wait_for_completion(created["id"]))
    return {"created": brief(created), "task": brief(task), "seen": seen, "waited": waited}


@flow("cancel-while-streaming")
def cancel_while_streaming(client: Any) -> dict[str, Any]:
    """Cancel while iterating `run(stream=True)`: the stream's terminal update raises."""
    statuses: list[Any] = []

    def follow() -> None:
        cancelled = False
        for update in client.tasks.run(LONG, stream=True):
            statuses.append(update.get("status"))
            if not cancelled and parse_status(update.get("status")) == TaskStatus.RUNNING:
                cancelled = True
                client.tasks.cancel(update["id"])

    return {"outcome": raised(follow), "statuses": statuses}


@flow("deltas")
def deltas(client: Any) -> dict[str, Any]:
    """An LLM app streamed: deltas become `_delta` updates with the output accumulated so far."""
    return {"updates": [brief(update) for update in client.tasks.run(LLM, stream=True)]}


@flow("delete")
def delete(client: Any) -> dict[str, Any]:
    """`tasks.delete(id)` on a finished task; fetching it afterwards is a 404."""
    task = client.tasks.run(TEMPLATE)
    client.tasks.delete(task["id"])
    return {"id": task["id"], "after_delete": raised(lambda: client.tasks.get(task["id"]))}


@flow("requirements-412")
def requirements_412(client: Any) -> dict[str, Any]:
    """A missing secret: HTTP 412 becomes `RequirementsNotMetError` with `errors`."""
    return raised(lambda: client.tasks.run({"app": "infsh/needs-secret", "input": {}}))


@flow("failed-task")
def failed_task(client: Any) -> dict[str, Any]:
    """A failing app: waiting raises `RuntimeError` with the task's error."""
    return raised(lambda: client.tasks.run(FAIL))


@flow("not-found")
def not_found(client: Any) -> dict[str, Any]:
    """An unknown task: `APIError` with the HTTP status and the problem's code."""
    return raised(lambda: client.tasks.get("no-such-task"))


async def araised(call: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """`raised` for a coroutine function."""
    try:
        value = await call()
    except Exception as exc:
        return {"raised": True, "error": describe_error(exc)}
    return {"raised": False, "value": value}


@async_flow("async-run-and-wait")
async def async_run_and_wait(client: Any) -> dict[str, Any]:
    """The async client's `tasks.run` waits by default, following the task's stream."""
    return {"task": brief(await client.tasks.run(TEMPLATE))}


@async_flow("async-stream-updates")
async def async_stream_updates(client: Any) -> dict[str, Any]:
    """`async for update in await client.tasks.run(params, stream=True)`, as the README shows."""
    return {"updates": [brief(u) async for u in await client.tasks.run(SLOW, stream=True)]}


@async_flow("async-deltas")
async def async_deltas(client: Any) -> dict[str, Any]:
    """Deltas through the async client's stream."""
    return {"updates": [brief(u) async for u in await client.tasks.run(LLM, stream=True)]}


@async_flow("async-cancel")
async def async_cancel(client: Any) -> dict[str, Any]:
    """`wait=False`, `tasks.cancel`, then `wait_for_completion` raises and `get` shows it."""
    created = await client.tasks.run(LONG, wait=False)
    await client.tasks.cancel(created["id"])
    waited = await araised(lambda: client.tasks.wait_for_completion(created["id"]))
    task = (await client.tasks.get(created["id"])).data
    return {"created": brief(created), "waited": waited, "task": brief(task)}


@async_flow("async-requirements-412")
async def async_requirements_412(client: Any) -> dict[str, Any]:
    """The async client maps the 412 as the sync one does."""
    return await araised(lambda: client.tasks.run({"app": "infsh/needs-secret", "input": {}}))


def run_flow(name: str, base_url: str, api_key: str) -> dict[str, Any]:
    if name in ASYNC_FLOWS:
        client = async_inference(api_key=api_key, base_url=base_url)
        return asyncio.run(ASYNC_FLOWS[name](client))
    if name in FLOWS:
        return FLOWS[name](inference(api_key=api_key, base_url=base_url))
    raise LookupError(f"no flow named {name!r}")


def main(argv: list[str]) -> int:
    base_url, api_key, name = argv
    sdk = {"version": inferencesh.__version__, "file": inferencesh.__file__}
    report: dict[str, Any] = {"flow": name, "sdk": sdk}
    try:
        report.update(ok=True, result=run_flow(name, base_url, api_key))
    except Exception as exc:
        report.update(ok=False, error={**describe_error(exc), "traceback": traceback.format_exc()})
    sys.stdout.write(json.dumps(report, default=repr) + "\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
