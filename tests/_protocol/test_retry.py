import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferencesh._protocol.retry import SENT, RetryPolicy, parse_retry_after


def response(status: int, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, headers=headers, request=httpx2.Request("GET", "http://x/"))


@given(
    attempt=st.integers(min_value=1, max_value=50),
    seed=st.integers(),
    max_delay=st.floats(min_value=0.0, max_value=30.0),
)
def test_backoff_stays_within_zero_and_max(attempt: int, seed: int, max_delay: float) -> None:
    policy = RetryPolicy(max_retries=100, max_delay=max_delay, rng=random.Random(seed))
    assert 0.0 <= policy.backoff(attempt) <= max_delay


@given(after=st.floats(min_value=0, max_value=60), attempt=st.integers(min_value=1, max_value=3))
def test_retry_after_is_honoured(after: float, attempt: int) -> None:
    policy = RetryPolicy(max_retries=3)
    delay = policy.delay_after_response(
        attempt, response(429, {"retry-after": repr(after)}), idempotent=True
    )
    assert delay == pytest.approx(after)


def test_a_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    policy = RetryPolicy(max_retries=3, max_delay=8.0)
    assert (
        policy.delay_after_response(1, response(429, {"retry-after": "61"}), idempotent=True)
        is None
    )
    assert (
        policy.delay_after_response(1, response(503, {"retry-after": "3600"}), idempotent=True)
        is None
    )
    assert (
        policy.delay_after_response(1, response(429, {"retry-after": "60"}), idempotent=True)
        == 60.0
    )


def test_the_retry_after_cap_is_configurable() -> None:
    policy = RetryPolicy(max_retries=3, max_retry_after=120.0)
    assert (
        policy.delay_after_response(1, response(429, {"retry-after": "90"}), idempotent=True)
        == 90.0
    )
    strict = RetryPolicy(max_retries=3, max_retry_after=0.0)
    assert (
        strict.delay_after_response(1, response(429, {"retry-after": "0"}), idempotent=True) == 0.0
    )
    assert (
        strict.delay_after_response(1, response(429, {"retry-after": "1"}), idempotent=True) is None
    )


def test_retry_after_as_http_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(7.0)
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after("-5") == 0.0


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_idempotent_requests_retry_on_transient_statuses(status: int) -> None:
    assert RetryPolicy().delay_after_response(1, response(status), idempotent=True) is not None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 422])
def test_client_errors_are_never_retried(status: int) -> None:
    assert RetryPolicy().delay_after_response(1, response(status), idempotent=True) is None


@pytest.mark.parametrize(
    ("status", "retried"),
    [(429, True), (503, True), (408, True), (500, False), (502, False), (504, False)],
)
def test_a_run_is_retried_only_when_the_server_refused_it(status: int, retried: bool) -> None:
    delay = RetryPolicy().delay_after_response(1, response(status), idempotent=False)
    assert (delay is not None) is retried


def failed(kind: type[httpx2.TransportError], sent: bool | None) -> httpx2.TransportError:
    request = httpx2.Request("POST", "https://api.test/apps/run")
    if sent is not None:
        request.extensions[SENT] = sent
    return kind("x", request=request)


def test_a_run_is_retried_only_when_the_wire_proves_nothing_was_sent() -> None:
    policy = RetryPolicy()
    for kind in (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.ReadTimeout, httpx2.ReadError):
        assert policy.delay_after_error(1, failed(kind, sent=False), idempotent=False) is not None
        # A "connect" error after the request left (or from an unknown transport) is no proof.
        assert policy.delay_after_error(1, failed(kind, sent=True), idempotent=False) is None
        assert policy.delay_after_error(1, failed(kind, sent=None), idempotent=False) is None
        assert policy.delay_after_error(1, failed(kind, sent=True), idempotent=True) is not None
    assert policy.delay_after_error(1, httpx2.ConnectError("no request"), idempotent=False) is None


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.delay_after_response(2, response(503), idempotent=True) is not None
    assert policy.delay_after_response(3, response(503), idempotent=True) is None
    assert policy.delay_after_error(3, httpx2.ConnectError("x"), idempotent=True) is None


def test_an_http_date_without_a_zone_is_utc() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    # "-0000" is RFC 5322's "zone unknown": parsed as a naive datetime, read as UTC.
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 -0000", now=now) == pytest.approx(30.0)
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 -0000", now=now) == 0.0
    assert parse_retry_after("inf") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("  12  ") == 12.0
