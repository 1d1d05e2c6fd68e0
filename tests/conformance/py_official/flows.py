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
import base64
import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import inferencesh
from inferencesh import (
    APIError,
    RequirementsNotMetError,
    TaskStatus,
    UploadFileOptions,
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
SESSION_APP = "infsh/session-test"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
TEXT = b"hello from the official Python SDK\n" * 100

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


def file_brief(file: dict[str, Any]) -> dict[str, Any]:
    """The parts of a FileDTO the tests look at."""
    return {
        "id": file.get("id"),
        "uri": file.get("uri"),
        "filename": file.get("filename"),
        "content_type": file.get("content_type"),
        "size": file.get("size"),
        "has_upload_url": bool(file.get("upload_url")),
        "keys": sorted(file),
    }


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def downloaded(uri: str) -> dict[str, Any]:
    """Fetch a uri with the SDK's own `download()` helper (plain urllib, no key)."""
    with tempfile.TemporaryDirectory() as folder:
        # The SDK caches downloads under ~/.cache unless told otherwise.
        os.environ["FILE_CACHE_DIR"] = str(Path(folder) / "cache")
        path = Path(inferencesh.download(uri, Path(folder) / "out"))
        data = path.read_bytes()
    return {"name": path.name, "size": len(data), "sha256": sha256(data), "head": list(data[:8])}


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


@flow("upload-path")
def upload_path(client: Any) -> dict[str, Any]:
    """`files.upload(path)` as the README shows; the uri then serves the same bytes."""
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder) / "notes.txt"
        src.write_bytes(TEXT)
        file = client.files.upload(str(src))
    return {"file": file_brief(file), "downloaded": downloaded(file["uri"]), "sha256": sha256(TEXT)}


@flow("upload-bytes")
def upload_bytes(client: Any) -> dict[str, Any]:
    """Bytes with options, bytes without (`upload_file`), a data URI; an app reads them."""
    named = client.files.upload(
        PNG, UploadFileOptions(filename="dot.png", content_type="image/png")
    )
    anonymous = client.upload_file(b"\x00\x01\x02")
    from_uri = client.files.upload("data:text/plain;base64," + base64.b64encode(b"hi").decode())
    task = client.tasks.run(
        {
            "app": "infsh/file-info",
            "input": {"file": named["uri"], "others": [anonymous["uri"], from_uri["uri"]]},
        }
    )
    return {
        "named": file_brief(named),
        "anonymous": file_brief(anonymous),
        "from_uri": file_brief(from_uri),
        "output": task["output"],
        "sha256": {"png": sha256(PNG), "anonymous": sha256(b"\x00\x01\x02")},
    }


@flow("auto-upload")
def auto_upload(client: Any) -> dict[str, Any]:
    """`tasks.run` uploads local paths and data URIs found in the input by itself."""
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder) / "input.txt"
        src.write_bytes(TEXT)
        data_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
        task = client.tasks.run(
            {"app": "infsh/file-info", "input": {"file": str(src), "others": [data_uri]}}
        )
    return {
        "output": task["output"],
        "input": task["input"],
        "sha256": {"text": sha256(TEXT), "png": sha256(PNG)},
    }


@flow("output-file")
def output_file(client: Any) -> dict[str, Any]:
    """An app's output file (the draw-image PNG), fetched with the SDK's `download()`."""
    task = client.tasks.run({"app": "infsh/draw-image", "input": {"width": 16, "height": 8}})
    image = task["output"]["image"]
    return {"image": image, "downloaded": downloaded(image["uri"])}


@flow("session")
def session(client: Any) -> dict[str, Any]:
    """`with client.session(app, ...)`: `call`, `info`, `keepalive`; leaving it ends it."""
    first = {"key": "k", "value": "v"}
    with client.session(SESSION_APP, function="set_value", input=first) as handle:
        sid = handle.session_id
        got = handle.call("get_value", {"key": "k"})
        counts = [handle.call("increment")["output"], handle.call("increment")["output"]]
        info = handle.info()
        kept = handle.keepalive()
    after = client.sessions.get(sid)
    listed = [s["id"] for s in client.sessions.list()]
    call: dict[str, Any] = {
        "app": SESSION_APP,
        "function": "increment",
        "input": {},
        "session": sid,
    }
    return {
        "sid": sid,
        "got": got["output"],
        "got_session": got.get("session_id"),
        "counts": counts,
        "info": info,
        "kept": kept,
        "after": after,
        "listed": sid in listed,
        "call_after_end": raised(lambda: client.run(call)),
        "call_on_ended_handle": raised(lambda: handle.call("increment")),
    }


@flow("session-default-function")
def session_default_function(client: Any) -> dict[str, Any]:
    """`client.session(app)` with no options opens the session with a `run` call."""
    with client.session(SESSION_APP) as handle:
        result = handle.call("increment")
    return {"sid": handle.session_id, "output": result["output"]}


@flow("session-run")
def session_run(client: Any) -> dict[str, Any]:
    """The lower-level form: `run` with `session: "new"` (and a timeout), then its id."""
    base: dict[str, Any] = {"app": SESSION_APP, "function": "increment", "input": {}}
    first = client.run({**base, "session": "new", "session_timeout": 30})
    second = client.run({**base, "session": first["session_id"]})
    info = client.sessions.get(first["session_id"])
    client.sessions.end(first["session_id"])
    return {
        "first": {"sid": first["session_id"], "output": first["output"]},
        "second": {"sid": second["session_id"], "output": second["output"]},
        "idle_timeout": info["idle_timeout"],
        "unknown": raised(lambda: client.run({**base, "session": "sess_unknown"})),
        "unknown_get": raised(lambda: client.sessions.get("sess_unknown")),
        "timeout_without_new": raised(lambda: client.run({**base, "session_timeout": 30})),
        "ended": raised(lambda: client.run({**base, "session": first["session_id"]})),
    }


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


@async_flow("async-upload")
async def async_upload(client: Any) -> dict[str, Any]:
    """The async client: `await files.upload(path)`, and auto-upload in `await tasks.run`."""
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder) / "async.txt"
        src.write_bytes(TEXT)
        file = await client.files.upload(str(src))
        task = await client.tasks.run({"app": "infsh/file-info", "input": {"file": str(src)}})
    return {
        "file": file_brief(file),
        "output": task["output"],
        "input": task["input"],
        "sha256": sha256(TEXT),
    }


@async_flow("async-session")
async def async_session(client: Any) -> dict[str, Any]:
    """`async with await client.session(...)`: calls keep the worker's state."""
    async with await client.session(SESSION_APP, function="increment") as handle:
        second = await handle.call("increment")
        info = await handle.info()
    after = await client.sessions.get(handle.session_id)
    return {"output": second["output"], "call_count": info["call_count"], "after": after["status"]}


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
