"""Sync handlers in worker threads: side by side, bounded, and never past the caller's deadline.

End to end over a real socket, on the sync client, asyncio and trio. Handlers meet at
barriers and wait on events: nothing here sleeps to synchronise.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from typing import Any

import anyio
import anyio.to_thread
import pytest

from inferencesh.errors import AgentTimeoutError
from inferencesh.local import Emulator
from inferencesh.testing import call, calls, reply, scripted_core_app
from inferencesh.tools import tool

from .conftest import AgentTwin, tool_messages

pytestmark = [pytest.mark.anyio, pytest.mark.server]

WAIT = 10.0
"""Seconds a handler waits for the others before it gives up (only reached on a failure)."""

REQUEST = contextvars.ContextVar("REQUEST", default="unset")


def three_calls(name: str) -> dict[str, Any]:
    return scripted_core_app(
        calls(call(name, n=1), call(name, n=2), call(name, n=3)), reply("All done.")
    )


async def send_go(agents: AgentTwin, agent: Any) -> tuple[int, Any]:
    """Sends "Go."; the thread that called the client (a thread of its own if sync), the answer."""

    def send() -> tuple[int, Any]:
        return threading.get_ident(), agent.send_message("Go.", wait_timeout=30)

    if agents.is_async:
        return threading.get_ident(), await agent.send_message("Go.", wait_timeout=30)
    return await anyio.to_thread.run_sync(send)


async def test_the_calls_of_one_turn_run_side_by_side_in_worker_threads(
    agents: AgentTwin,
) -> None:
    meet = threading.Barrier(3, timeout=WAIT)
    threads: set[int] = set()

    @tool
    def together(n: int) -> str:
        """Returns once all three calls are running.

        Args:
            n: Which call.
        """
        meet.wait()  # breaks (an error result) unless the three run at once
        threads.add(threading.get_ident())
        return f"{n}:{REQUEST.get()}"

    agent = agents.agent(core_app=three_calls("together"), tools=[together])
    REQUEST.set("from the caller")  # copied into the sync client's thread, then the workers'
    answer = await agents(agent.send_message, "Go.", wait_timeout=30)
    assert answer.text == "All done."
    assert sorted(tool_messages(answer)) == [f"{n}:from the caller" for n in (1, 2, 3)]
    assert len(threads) == 3


async def test_no_more_calls_run_at_once_than_the_bound(agents: AgentTwin) -> None:
    entered: queue.Queue[int] = queue.Queue()
    release = {n: threading.Event() for n in (1, 2, 3)}
    returned: set[int] = set()
    returned_when_entered: dict[int, set[int]] = {}

    @tool
    def bounded(n: int) -> int:
        """Waits to be released.

        Args:
            n: Which call.
        """
        returned_when_entered[n] = set(returned)
        entered.put(n)
        assert release[n].wait(WAIT)
        returned.add(n)
        return n

    agent = agents.agent(core_app=three_calls("bounded"), tools=[bounded], max_concurrent_tools=2)
    answers: list[Any] = []

    async def send() -> None:
        answers.append(await agents(agent.send_message, "Go.", wait_timeout=30))

    async with anyio.create_task_group() as tg:
        tg.start_soon(send)
        first = await anyio.to_thread.run_sync(entered.get, True, WAIT)
        await anyio.to_thread.run_sync(entered.get, True, WAIT)
        release[first].set()  # frees a slot: only now may the third call start
        last = await anyio.to_thread.run_sync(entered.get, True, WAIT)
        for event in release.values():
            event.set()
    assert returned_when_entered[last]  # it started after one of the others had returned
    assert answers[0].text == "All done." and sorted(tool_messages(answers[0])) == ["1", "2", "3"]


class _Dropped(logging.Handler):
    """Sets `done` when the runner logs that it dropped a late result."""

    def __init__(self) -> None:
        super().__init__()
        self.done = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "dropped" in record.getMessage():
            self.done.set()


async def test_a_hung_sync_handler_does_not_hold_the_callers_deadline(
    agents: AgentTwin, emulator: Emulator
) -> None:
    release, returned = threading.Event(), threading.Event()

    @tool
    def lookup(key: str) -> str:
        """Hangs until the test releases it.

        Args:
            key: The key.
        """
        try:
            release.wait(WAIT * 3)
            return f"late value of {key}"
        finally:
            returned.set()

    dropped = _Dropped()
    logger = logging.getLogger("inferencesh.agent")
    logger.addHandler(dropped)
    try:
        agent = agents.agent(
            core_app=scripted_core_app(call("lookup", key="k1"), reply("Found it.")),
            tools=[lookup],
        )
        with pytest.raises(AgentTimeoutError) as info:
            await agents(agent.send_message, "Find k1.", wait_timeout=0.5)
        assert not returned.is_set()  # the caller got its answer while the handler hung
        chat_id = agent.chat_id
        assert chat_id is not None and info.value.chat_id == chat_id
        emulator.wait_until(lambda: emulator.chat(chat_id)["active_run"]["state"] == "canceled")
        release.set()  # the thread runs on to its end; its result is dropped, not posted
        assert await anyio.to_thread.run_sync(dropped.done.wait, WAIT)
    finally:
        release.set()
        logger.removeHandler(dropped)
    chat = emulator.chat(chat_id)
    invocations = [i for m in chat["chat_messages"] for i in m.get("tool_invocations") or []]
    assert [(i["status"], i["result"]) for i in invocations] != [("completed", "late value of k1")]
    assert [i["status"] for i in invocations] == ["cancelled"]


async def test_a_thread_bound_handler_runs_on_the_thread_that_follows_the_chat(
    agents: AgentTwin,
) -> None:
    ran_on: list[int] = []

    @tool(threaded=False)
    def here(n: int) -> int:
        """Records its thread.

        Args:
            n: Which call.
        """
        ran_on.append(threading.get_ident())
        return n

    agent = agents.agent(core_app=three_calls("here"), tools=[here])
    caller, answer = await send_go(agents, agent)
    assert sorted(tool_messages(answer)) == ["1", "2", "3"]
    assert ran_on == [caller] * 3


async def test_the_sync_client_asks_for_approval_on_the_callers_thread(
    agents: AgentTwin,
) -> None:
    asked_on: list[int] = []
    ran_on: list[int] = []

    @tool(require_approval=True)
    def guarded(n: int) -> int:
        """Needs approval.

        Args:
            n: Which call.
        """
        ran_on.append(threading.get_ident())
        return n

    def approve(request: Any) -> bool:
        asked_on.append(threading.get_ident())
        return True

    agent = agents.agent(core_app=three_calls("guarded"), tools=[guarded], approve=approve)
    caller, answer = await send_go(agents, agent)
    assert sorted(tool_messages(answer)) == ["1", "2", "3"]
    assert len(asked_on) == 3 and caller not in ran_on  # handlers: in worker threads
    if not agents.is_async:  # one question at a time, where the caller is
        assert asked_on == [caller] * 3
