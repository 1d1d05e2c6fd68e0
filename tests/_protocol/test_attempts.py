"""The one retry loop's decisions, and the deadline that bounds them (no I/O, no clock)."""

from __future__ import annotations

from dataclasses import replace

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferencesh._config import ClientOptions
from inferencesh._protocol.attempts import Attempts
from inferencesh._protocol.deadline import Deadline
from inferencesh._protocol.endpoints import ApiRequest, build
from inferencesh._protocol.retry import SENT
from inferencesh.errors import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    TaskTimeoutError,
)

OPTS = ClientOptions(api_key="k", base_url="http://api.test", max_retries=2)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def expired() -> TaskTimeoutError:
    return TaskTimeoutError("too late", task_id="t1")


def read(**changes: object) -> ApiRequest:
    return replace(build(OPTS, "GET", "/tasks/t1"), **changes)  # type: ignore[arg-type]


def answer(call: ApiRequest, status: int, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, headers=headers, request=call.request)


def test_the_first_try_sends_the_request_as_built() -> None:
    call = read()
    attempts = Attempts(call)
    assert attempts.next_request() is call.request and attempts.attempt == 1


def test_a_read_is_retried_after_errors_until_the_budget_is_used() -> None:
    call = read()
    attempts = Attempts(call)
    attempts.next_request()
    assert 0 < attempts.after_error(httpx2.ReadError("x", request=call.request)) <= 0.5
    attempts.next_request()
    assert 0 < attempts.after_response(answer(call, 503)) <= 1.0
    attempts.next_request()
    with pytest.raises(APIConnectionError) as info:
        attempts.after_error(httpx2.ReadError("x", request=call.request))
    assert isinstance(info.value.__cause__, httpx2.ReadError)


def test_an_answer_that_retrying_cannot_mend_is_raised() -> None:
    call = read()
    attempts = Attempts(call)
    attempts.next_request()
    with pytest.raises(NotFoundError):
        attempts.after_response(answer(call, 404))


def test_a_run_is_not_retried_once_it_may_have_been_sent() -> None:
    call = build(OPTS, "POST", "/apps/run", body={"app": "a", "input": {}}, idempotent=False)
    attempts = Attempts(call)
    attempts.next_request()
    call.request.extensions[SENT] = True
    with pytest.raises(APITimeoutError):
        attempts.after_error(httpx2.ReadTimeout("late", request=call.request))


def test_retry_after_up_to_the_cap_is_the_wait_and_beyond_it_is_raised() -> None:
    call = read(max_retry_after=10.0)
    attempts = Attempts(call)
    attempts.next_request()
    assert attempts.after_response(answer(call, 429, {"retry-after": "10"})) == 10.0
    attempts.next_request()
    with pytest.raises(RateLimitError) as info:
        attempts.after_response(answer(call, 429, {"retry-after": "11"}))
    assert info.value.retry_after == 11.0


def test_a_streamed_body_is_made_again_for_each_try() -> None:
    made: list[httpx2.Request] = []

    def rewind() -> httpx2.Request:
        made.append(httpx2.Request("PUT", "http://up.test/x", content=b"again"))
        return made[-1]

    call = read(rewind=rewind)
    attempts = Attempts(call)
    assert attempts.next_request() is call.request and not made
    attempts.after_error(httpx2.ConnectError("x", request=call.request))
    assert attempts.next_request() is made[0] and attempts.request is made[0]


def test_each_try_is_cut_to_the_time_left() -> None:
    clock = Clock()
    deadline = Deadline(2.0, on_expiry=expired, clock=clock)
    call = read(deadline=deadline)
    attempts = Attempts(call)
    first = attempts.next_request()
    assert first.extensions["timeout"] == {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}
    attempts.after_error(httpx2.ConnectError("x", request=first))
    clock.now += 1.5
    second = attempts.next_request()
    assert second.extensions["timeout"]["read"] == pytest.approx(0.5)


def test_a_try_after_the_deadline_is_not_made() -> None:
    clock = Clock()
    call = read(deadline=Deadline(1.0, on_expiry=expired, clock=clock))
    attempts = Attempts(call)
    attempts.next_request()
    clock.now += 1.0
    cause = httpx2.ReadTimeout("cut short", request=call.request)
    with pytest.raises(TaskTimeoutError) as info:
        attempts.after_error(cause)
    assert info.value.__cause__ is cause
    with pytest.raises(TaskTimeoutError):
        attempts.next_request()


def test_a_wait_that_would_pass_the_deadline_is_not_started() -> None:
    clock = Clock()
    call = read(deadline=Deadline(5.0, on_expiry=expired, clock=clock))
    attempts = Attempts(call)
    attempts.next_request()
    with pytest.raises(TaskTimeoutError) as info:
        attempts.after_response(answer(call, 503, {"retry-after": "30"}))
    cause = info.value.__cause__
    assert isinstance(cause, InternalServerError) and cause.retry_after == 30.0
    attempts = Attempts(read(deadline=Deadline(0.1, on_expiry=expired, clock=clock)))
    attempts.next_request()
    with pytest.raises(TaskTimeoutError) as info:
        attempts.after_error(httpx2.ConnectError("refused", request=call.request))  # 0.375+ s
    assert isinstance(info.value.__cause__, APIConnectionError)


def test_a_deadline_caps_timeouts_and_sleeps() -> None:
    clock = Clock()
    deadline = Deadline(3.0, on_expiry=expired, clock=clock)
    assert deadline.cap(10) == 3.0 and deadline.cap(1) == 1
    capped = deadline.cap_timeouts({"connect": 10.0, "read": None, "write": 1.0})
    assert capped == {"connect": 3.0, "read": 3.0, "write": 1.0, "pool": 3.0}
    clock.now += 5
    assert deadline.expired() and deadline.cap(1) == 0.0
    # Never a zero timeout, which httpx2 would read as none at all.
    assert deadline.cap_timeouts({"read": 5.0})["read"] > 0
    with pytest.raises(TaskTimeoutError):
        deadline.check()


@pytest.mark.parametrize("seconds", [-1.0, float("nan")])
def test_a_deadline_must_be_a_time(seconds: float) -> None:
    with pytest.raises(ConfigurationError, match="wait_timeout"):
        Deadline(seconds, on_expiry=expired)


@given(
    timeouts=st.dictionaries(
        st.sampled_from(["connect", "read", "write", "pool"]),
        st.none() | st.floats(min_value=0.001, max_value=1e6),
    ),
    left=st.floats(min_value=-10, max_value=1e6),
)
def test_capped_timeouts_never_exceed_the_time_left(
    timeouts: dict[str, float | None], left: float
) -> None:
    clock = Clock()
    deadline = Deadline(max(0.0, left), on_expiry=expired, clock=clock)
    capped = deadline.cap_timeouts(timeouts)
    assert set(capped) == {"connect", "read", "write", "pool"}
    for value in capped.values():
        assert 0 < value <= max(0.001, deadline.remaining())
