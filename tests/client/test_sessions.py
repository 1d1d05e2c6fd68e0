"""Sessions through the client against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from inferencesh import (
    BadRequestError,
    SessionEndedError,
    SessionExpiredError,
    SessionNotFoundError,
    WorkerConflictError,
)
from inferencesh.errors import UsageError
from tests.conftest import Gates, Twin

pytestmark = [pytest.mark.anyio, pytest.mark.server]

APP = "infsh/session-test"


async def test_new_session_keeps_state_across_calls(twin: Twin) -> None:
    first = await twin(
        "run", APP, {"key": "greeting", "value": "hello"}, function="set_value", session="new"
    )
    assert first.session_id and first.session_id != "new"
    second = await twin(
        "run", APP, {"key": "greeting"}, function="get_value", session=first.session_id
    )
    assert second.session_id == first.session_id
    assert second.output == {"value": "hello"}
    other = await twin("run", APP, {"key": "greeting"}, function="get_value", session="new")
    assert other.session_id != first.session_id and other.output == {"value": None}
    info = await twin("sessions.get", first.session_id)
    assert info.status == "active" and info.call_count == 2 and info.id == first.session_id
    assert first.session_id in [s.id for s in await twin("sessions.list")]
    await twin("sessions.end", first.session_id)
    await twin("sessions.end", other.session_id)


async def test_session_handle_opens_on_first_run_and_ends_on_exit(twin: Twin) -> None:
    handle = twin.client.session(APP, idle_timeout=30)
    if twin.is_async:
        async with handle as s:
            await s.run({}, function="increment")
            task = await s.run({}, function="increment")
    else:

        def use() -> Any:
            with handle as s:
                s.run({}, function="increment")
                return s.run({}, function="increment")

        task = await twin.run_sync(use)
    assert task.output == {"value": 2}
    assert handle.id and handle.ended
    with pytest.raises(SessionEndedError) as info:
        await twin("run", APP, {}, function="increment", session=handle.id)
    assert info.value.session_id == handle.id or handle.id in str(info.value)


async def test_session_handle_ends_the_session_on_error(twin: Twin) -> None:
    handle = twin.client.session(APP)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        if twin.is_async:
            async with handle as s:
                await s.run({}, function="increment")
                raise Boom
        else:

            def use() -> None:
                with handle as s:
                    s.run({}, function="increment")
                    raise Boom

            await twin.run_sync(use)
    assert handle.id is not None
    info = await twin("sessions.get", handle.id)
    assert info.status == "ended"


async def test_keepalive_and_expiry(twin: Twin, server: Any) -> None:
    task = await twin("run", APP, {}, function="increment", session="new", session_idle_timeout=5)
    sid = task.session_id
    before = await twin("sessions.get", sid)
    server.emulator.clock.advance(4)
    kept = await twin("sessions.keepalive", sid)
    assert kept.expires_at > before.expires_at
    server.emulator.clock.advance(6)
    with pytest.raises(SessionExpiredError):
        await twin("run", APP, {}, function="increment", session=sid)
    with pytest.raises(SessionExpiredError):
        await twin("sessions.keepalive", sid)


async def test_session_errors_are_typed(twin: Twin, gates: Gates) -> None:
    with pytest.raises(SessionNotFoundError):
        await twin("run", APP, {}, function="increment", session="sess_does_not_exist")
    with pytest.raises(SessionNotFoundError):
        await twin("sessions.get", "sess_does_not_exist")
    with pytest.raises(BadRequestError, match="session_timeout"):
        await twin("run", APP, {}, function="increment", session_idle_timeout=30)
    with pytest.raises(BadRequestError, match="session_timeout"):
        await twin("run", APP, {}, function="increment", session="new", session_idle_timeout=0)
    task = await twin("run", APP, {}, function="increment", session="new")
    with pytest.raises(WorkerConflictError) as info:
        await twin("run", "infsh/echo", {"text": "x"}, session=task.session_id)
    assert info.value.code == "APP_MISMATCH"
    await twin("sessions.end", task.session_id)


async def test_a_busy_worker_refuses_a_second_call(twin: Twin, gates: Gates) -> None:
    gate = gates.new()
    first = await twin("run", "test/gate", {"gate": gate}, session="new", wait=False)
    try:
        with pytest.raises(WorkerConflictError) as info:
            await twin("run", "test/gate", {"gate": gate}, session=first.session_id, wait=False)
        assert info.value.code == "WORKER_LEASED"
    finally:
        gates.open(gate)
    await twin("tasks.wait", first.id)


async def test_session_handle_before_any_run(twin: Twin) -> None:
    handle = twin.client.session(APP)
    with pytest.raises(UsageError, match="first run"):
        result = handle.info()
        if twin.is_async:
            await result
