"""More of sessions through the client: the handle's keepalive, info and end, and its errors."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from inferencesh import SessionEndedError, TaskFailedError
from inferencesh.errors import InternalServerError, SessionClosedError, UsageError
from tests.conftest import Twin

pytestmark = [pytest.mark.anyio, pytest.mark.server]

APP = "infsh/session-test"
DELETE_SESSION = {"path": "/sessions/*", "method": "DELETE"}


class Boom(Exception):
    pass


class Handle:
    """One test body for `AppSession` and `AsyncAppSession`: `await h.call("run", ...)`."""

    def __init__(self, twin: Twin, app: str, **kwargs: Any) -> None:
        self.twin = twin
        self.session: Any = twin.client.session(app, **kwargs)

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self.session, name)
        if self.twin.is_async:
            return await method(*args, **kwargs)
        return await self.twin.run_sync(method, *args, **kwargs)

    async def within(self, body: Callable[[Any], Any] = lambda s: None) -> Any:
        """Run `body(session)` inside the session's `with` block (awaited if it is async)."""
        if self.twin.is_async:
            async with self.session as s:
                result = body(s)
                return await result if inspect.isawaitable(result) else result

        def use() -> Any:
            with self.session as s:
                return body(s)

        return await self.twin.run_sync(use)


async def test_keepalive_info_and_end_of_the_handle(twin: Twin, server: Any) -> None:
    h = Handle(twin, APP, idle_timeout=30)
    await h.call("run", {}, function="increment")
    sid = h.session.id
    info = await h.call("info")
    assert info.id == sid and info.status == "active"
    assert info.call_count == 1 and info.idle_timeout == 30
    server.emulator.clock.advance(20)
    kept = await h.call("keepalive")
    assert kept.id == sid and kept.expires_at > info.expires_at
    await h.call("end")
    assert h.session.ended and (await twin("sessions.get", sid)).status == "ended"
    # Ending again sends nothing: this armed failure would otherwise be hit.
    server.emulator.faults.fail_next(1, status=500, retry_after=None, **DELETE_SESSION)
    await h.call("end")
    assert server.emulator.faults.take_failure("DELETE", f"/sessions/{sid}") is not None
    with pytest.raises(SessionClosedError, match=f"session {sid} was ended; open a new one"):
        await h.call("run", {}, function="increment")
    with pytest.raises(SessionEndedError) as ended:
        await h.call("keepalive")
    assert ended.value.session_id == sid
    with pytest.raises(SessionEndedError):
        await twin("sessions.keepalive", sid)
    assert (await h.call("info")).status == "ended"  # the record outlives the session


async def test_a_session_ended_before_its_first_run_does_not_open(twin: Twin, server: Any) -> None:
    h = Handle(twin, APP)
    await h.call("end")  # nothing to release yet
    before = {s["id"] for s in server.emulator.sessions()}
    try:
        # "end" means the handle is done: a run after it must not open a new worker.
        with pytest.raises(SessionClosedError, match="was ended"):
            await h.call("run", {}, function="increment")
    finally:
        for sid in {s["id"] for s in server.emulator.sessions()} - before:
            await twin("sessions.end", sid)


async def test_a_failed_first_run_still_opens_the_session_and_the_block_ends_it(
    twin: Twin,
) -> None:
    h = Handle(twin, "infsh/fail")

    async def fail(s: Any) -> None:
        with pytest.raises(TaskFailedError, match="nope") as info:
            result = s.run({"message": "nope"})
            if twin.is_async:
                await result
        assert info.value.task.session_id and s.id == info.value.task.session_id

    if twin.is_async:
        await h.within(fail)
    else:

        def fail_sync(s: Any) -> None:
            with pytest.raises(TaskFailedError, match="nope") as info:
                s.run({"message": "nope"})
            assert info.value.task.session_id and s.id == info.value.task.session_id

        await h.within(fail_sync)
    assert h.session.ended
    assert (await twin("sessions.get", h.session.id)).status == "ended"


async def test_leaving_the_block_ignores_a_session_the_server_no_longer_knows(
    twin: Twin,
) -> None:
    h = Handle(twin, APP)
    h.session.id = "sess_forgotten"  # as after a restart of the server: DELETE answers 404
    await h.within()
    assert h.session.ended


async def test_a_failed_end_is_raised_unless_the_block_raised_first(
    make_twin: Callable[..., Twin], server: Any
) -> None:
    twin = make_twin(max_retries=0)
    quiet = Handle(twin, APP)
    await quiet.call("run", {}, function="increment")
    server.emulator.faults.fail_next(1, status=500, **DELETE_SESSION)
    with pytest.raises(InternalServerError, match="500 from DELETE /sessions/"):
        await quiet.within()
    await twin("sessions.end", quiet.session.id)

    failing = Handle(twin, APP)
    await failing.call("run", {}, function="increment")
    server.emulator.faults.fail_next(1, status=500, **DELETE_SESSION)

    def boom(s: Any) -> None:
        raise Boom

    with pytest.raises(Boom):  # the caller's own error, not the failed DELETE
        await failing.within(boom)
    assert failing.session.ended
    assert server.emulator.faults.take_failure("DELETE", "/sessions/x") is None  # it was sent
    await twin("sessions.end", failing.session.id)


# -- answers the emulator never gives ------------------------------------------------------


async def test_a_server_without_sessions_is_said_plainly(scripted: Callable[..., Twin]) -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(json.loads(request.content))
        return httpx2.Response(200, json={"id": "t1", "status": 10, "output": {"value": 1}})

    twin = scripted(handler)
    h = Handle(twin, APP)
    with pytest.raises(UsageError, match="API returned no session_id"):
        await h.call("run", {}, function="increment")
    assert h.session.id is None and sent[0]["session"] == "new"


async def test_sessions_list_reads_a_page_as_well_as_an_array(
    scripted: Callable[..., Twin],
) -> None:
    answers: list[Any] = [
        {"items": [{"id": "sess_1", "status": "active"}], "next_cursor": None},
        [{"id": "sess_2", "status": "expired"}],
        {"items": None},
    ]

    def handler(request: httpx2.Request) -> httpx2.Response:
        assert (request.method, request.url.path) == ("GET", "/sessions")
        return httpx2.Response(200, json={"data": answers.pop(0), "messages": []})

    twin = scripted(handler)
    assert [(s.id, s.status) for s in await twin("sessions.list")] == [("sess_1", "active")]
    assert [(s.id, s.status) for s in await twin("sessions.list")] == [("sess_2", "expired")]
    assert await twin("sessions.list") == []
