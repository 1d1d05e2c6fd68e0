"""Whatever a server answers, every public call raises an `InferenceError` subclass.

The fault proxy replaces one answer per call (garbage, truncated JSON, JSON of the wrong
shape, an HTML page with 200 or 502, an empty body) or resets the connection mid-body. Each
call of the public API must then raise a typed error: a body that does not fit is an
`APIResponseValidationError` carrying the response. Over real sockets; sync, asyncio, trio.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from inferencesh import (
    APIConnectionError,
    APIResponseValidationError,
    InferenceError,
    InternalServerError,
    async_inference,
    inference,
)
from tests.conftest import Twin
from tests.faultproxy import EMPTY, GARBAGE, HTML, TRUNCATED, FaultProxy, ReplaceBody, ResetMidBody

pytestmark = [pytest.mark.anyio, pytest.mark.server]

WRONG_SHAPE = b'{"id": 42, "items": "many", "status": {"a": 1}, "logs": 5, "uri": 7}'

FAULTS: dict[str, Any] = {
    "garbage": ReplaceBody(GARBAGE),
    "truncated": ReplaceBody(TRUNCATED),
    "wrong-shape": ReplaceBody(WRONG_SHAPE),
    "html-200": ReplaceBody(HTML),
    "html-502": ReplaceBody(HTML, status=502),
    "empty": ReplaceBody(EMPTY),
    "reset-mid-body": ResetMidBody(),
}


@dataclass(frozen=True)
class Call:
    """One public call, and the request of it that gets the fault."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    method: str
    path: str
    payload: bool = True
    """Whether the call reads a payload (a call without one may accept any JSON)."""


@dataclass(frozen=True)
class Fixtures:
    task_id: str
    file_id: str
    file_uri: str
    session_id: str


@pytest.fixture(scope="module")
def made(server: Any) -> Iterator[Fixtures]:
    with server.client() as client:
        task = client.run("infsh/echo", {"text": "x"})
        file = client.files.upload(b"some bytes", filename="a.bin")
        opened = client.run(
            "infsh/session-test",
            {},
            function="increment",
            session="new",
            session_idle_timeout=3600,
        )
        assert opened.session_id is not None
        yield Fixtures(task.id, file.id or "", file.uri, opened.session_id)
        client.sessions.end(opened.session_id)


def calls(f: Fixtures) -> list[Call]:
    t, s = f"/tasks/{f.task_id}", f"/sessions/{f.session_id}"
    return [
        Call("tasks.get", (f.task_id,), {}, "GET", t),
        Call("tasks.status", (f.task_id,), {}, "GET", f"{t}/status"),
        Call("tasks.logs", (f.task_id,), {}, "GET", f"{t}/logs"),
        Call("tasks.list", (), {}, "POST", "/tasks/list"),
        Call("tasks.wait", (f.task_id,), {"mode": "poll"}, "GET", f"{t}/status"),
        Call("tasks.cancel", (f.task_id,), {}, "POST", f"{t}/cancel", payload=False),
        Call("run", ("infsh/echo", {"text": "y"}), {}, "POST", "/apps/run"),
        Call("run", ("infsh/echo", {"text": "y"}), {"wait": False}, "POST", "/apps/run"),
        Call("files.get", (f.file_id,), {}, "GET", f"/files/{f.file_id}"),
        Call("files.list", (), {}, "POST", "/files/list"),
        Call("files.upload", (b"bytes",), {"filename": "b.bin"}, "POST", "/files"),
        Call("sessions.get", (f.session_id,), {}, "GET", s),
        Call("sessions.list", (), {}, "GET", "/sessions"),
        Call("sessions.keepalive", (f.session_id,), {}, "POST", f"{s}/keepalive"),
    ]


@pytest.fixture
async def through_proxy(flavour: str, server: Any, fault_proxy: FaultProxy) -> Any:
    make = inference if flavour == "sync" else async_inference
    twin = Twin(make(api_key=server.api_key, base_url=fault_proxy.url, max_retries=0))
    yield twin
    await twin.close()


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_every_call_raises_a_typed_error_for_a_bad_answer(
    through_proxy: Twin, fault_proxy: FaultProxy, made: Fixtures, fault: str
) -> None:
    problems: list[str] = []
    for call in calls(made):
        armed = fault_proxy.arm(call.method, call.path, FAULTS[fault])
        label = f"{call.name}{call.args}{call.kwargs} <- {fault}"
        try:
            await through_proxy(call.name, *call.args, **call.kwargs)
        except InferenceError as exc:
            problems += check(label, fault, exc)
        except Exception as exc:  # the defect this test is about: an untyped error escaped
            problems.append(f"{label}: untyped {type(exc).__name__}: {exc}")
        else:
            if call.payload or fault in ("garbage", "truncated", "html-200", "html-502"):
                problems.append(f"{label}: no error")
        finally:
            armed.disarm()
        if armed.fired != 1:
            problems.append(f"{label}: the fault did not fire ({armed.fired})")
    assert not problems, "\n".join(problems)


def check(label: str, fault: str, exc: InferenceError) -> list[str]:
    if fault == "reset-mid-body":
        expected: type[InferenceError] = APIConnectionError
    elif fault == "html-502":
        expected = InternalServerError
    else:
        expected = APIResponseValidationError
    if not isinstance(exc, expected):
        return [f"{label}: {type(exc).__name__} ({exc}), expected {expected.__name__}"]
    if isinstance(exc, APIResponseValidationError) and exc.response.status_code != 200:
        return [f"{label}: the error carries the wrong response"]
    return []


async def test_a_download_cut_mid_body_is_a_connection_error(
    through_proxy: Twin, fault_proxy: FaultProxy, made: Fixtures
) -> None:
    path = made.file_uri.split("://", 1)[1].split("/", 1)[1]
    uri = f"{fault_proxy.url}/{path}"
    armed = fault_proxy.arm("GET", f"/{path}", ResetMidBody(after_bytes=3))
    with pytest.raises(APIConnectionError):
        await through_proxy("files.read_bytes", uri)
    assert armed.fired == 1
