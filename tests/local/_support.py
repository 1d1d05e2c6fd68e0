"""Test apps and helpers for the emulator's tests.

Apps that must wait for the test block on a `Gate` (threading events the test controls), so
no test sleeps to synchronise with the emulator.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import httpx2
from pydantic import BaseModel

from inferencesh.local import AppContext, Emulator

API_KEY = "sk-local-suite-0123"
TERMINAL = {10, 11, 12}
HELLO_INPUT = {"template": "Hello {1}!", "strings": ["World"]}
HELLO_RUN: dict[str, Any] = {"app": "infsh/text-templating@53bk0yzk", "input": HELLO_INPUT}
PROBLEM_BASE = "https://api.inference.sh/errors/"


@dataclass
class Gate:
    """Where a test app waits: `entered` when it got there, `release` to let it go."""

    name: str = field(default_factory=lambda: uuid.uuid4().hex)
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    saw_cancel: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    def wait_entered(self) -> None:
        assert self.entered.wait(10), "the app never reached its gate"


GATES: dict[str, Gate] = {}


def new_gate() -> Gate:
    gate = Gate()
    GATES[gate.name] = gate
    return gate


class GateInput(BaseModel):
    gate: str
    logs: list[str] = []
    progress: float | None = None
    output: Any = None
    fail: str | None = None


class CounterSetup(BaseModel):
    start: int = 0


class AddInput(BaseModel):
    amount: int = 1


def register_test_apps(emu: Emulator) -> None:
    @emu.app("test/gate")
    def gate_app(ctx: AppContext, input: GateInput) -> Any:
        gate = GATES[input.gate]
        try:
            for line in input.logs:
                ctx.log(line)
            if input.progress is not None:
                ctx.progress(input.progress, "at the gate")
            gate.entered.set()
            assert gate.release.wait(30), "the test never opened the gate"
            if ctx.cancelled:
                gate.saw_cancel.set()
                ctx.raise_if_cancelled()
            if input.fail:
                raise ValueError(input.fail)
            return input.output if input.output is not None else {"released": True}
        finally:
            gate.finished.set()

    @emu.app("test/async-gate")
    async def async_gate(ctx: AppContext, input: GateInput) -> Any:
        gate = GATES[input.gate]
        ctx.log("async app waiting")
        gate.entered.set()
        try:
            await anyio.to_thread.run_sync(gate.release.wait, 30, abandon_on_cancel=True)
        except BaseException:
            gate.saw_cancel.set()
            raise
        return {"async": True, "output": input.output}

    @emu.app("test/counter", setup=CounterSetup, version="c1")
    class Counter:
        def setup(self, ctx: AppContext) -> None:
            ctx.log("setting up")
            self.count = ctx.setup.start if isinstance(ctx.setup, CounterSetup) else 0

        def run(self, ctx: AppContext, input: AddInput) -> dict[str, int]:
            return {"count": self.count}

        def add(self, ctx: AppContext, input: AddInput) -> dict[str, int]:
            self.count += input.amount
            return {"count": self.count}

    @emu.app("test/raw")
    def raw(ctx: AppContext, input) -> dict[str, Any]:  # pyright: ignore[reportMissingParameterType,reportUnknownParameterType]
        return {"got": input, "function": ctx.function, "task_id": ctx.task_id}

    @emu.app("test/not-json")
    def not_json(ctx: AppContext, input: dict[str, Any]) -> Any:
        return {"value": object()}

    @emu.app("test/secretive", requires_secrets=("TOKEN",))
    def secretive(ctx: AppContext, input: dict[str, Any]) -> Any:
        return {"secrets": sorted(ctx.secrets), "length": len(ctx.secrets["TOKEN"])}


def run(http: httpx2.Client, app: str, input: Any, **fields: Any) -> dict[str, Any]:
    response = http.post("/apps/run", json={"app": app, "input": input, **fields})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def run_gated(http: httpx2.Client, **input: Any) -> tuple[Gate, dict[str, Any]]:
    """A `test/gate` task (with `input` beside its gate), once its app waits at the gate."""
    gate = new_gate()
    task = run(http, "test/gate", {"gate": gate.name, **input})
    gate.wait_entered()
    return gate, task


@contextmanager
def task_lines(http: httpx2.Client, task_id: str) -> Generator[Iterator[dict[str, Any]]]:
    """The lines of a task's stream as they come, while it is open."""
    with http.stream("GET", f"/tasks/{task_id}/stream") as response:
        yield lines_of(response)


def read_stream(http: httpx2.Client, task_id: str, **headers: str) -> list[dict[str, Any]]:
    """Every line of a task stream, read to its end."""
    with http.stream("GET", f"/tasks/{task_id}/stream", headers=headers) as response:
        assert response.status_code == 200, response.read()
        return [json.loads(line) for line in response.iter_lines() if line]


def updates(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The task updates among stream lines (no heartbeats, no deltas), unwrapped."""
    out: list[dict[str, Any]] = []
    for line in lines:
        if line.get("type") == "heartbeat" or line.get("event") == "delta":
            continue
        out.append(line["data"] if "fields" in line else line)
    return out


def merge(updates: list[dict[str, Any]]) -> dict[str, Any]:
    """The task a client makes of stream updates: fields replaced, logs merged by id."""
    task: dict[str, Any] = {}
    for update in updates:
        logs = {log["id"]: log for log in task.get("logs", [])}
        logs.update((log["id"], log) for log in update.get("logs", []))
        task.update(update)
        task["logs"] = list(logs.values())
    return task


def lines_of(response: httpx2.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line:
            yield json.loads(line)


def assert_problem(response: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == PROBLEM_BASE + code
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    return problem
