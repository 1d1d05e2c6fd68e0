import json
import warnings
from pathlib import Path
from typing import Any

import httpx2
import pytest

from inferencesh import errors
from inferencesh._protocol.envelope import error_from_response, read_data

FIXTURES = Path(__file__).parents[1] / "fixtures" / "protocol"


def reply(
    status: int, body: Any = None, *, raw: bytes | None = None, ctype: str = "application/json"
) -> httpx2.Response:
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return httpx2.Response(
        status,
        content=content,
        headers={"content-type": ctype},
        request=httpx2.Request("GET", "https://api.inference.sh/tasks/t1"),
    )


TASK = {"id": "t1", "status": 7}


@pytest.mark.parametrize(
    "body",
    [
        TASK,
        {"data": TASK, "messages": []},
        {"success": True, "status": 200, "data": TASK, "messages": []},
        {"success": True, "data": TASK},
    ],
    ids=["bare", "v3", "legacy-full", "legacy"],
)
def test_every_envelope_yields_the_dto(body: Any) -> None:
    assert read_data(reply(200, body)) == TASK


def test_a_dto_with_its_own_data_member_is_not_unwrapped() -> None:
    invocation = {"id": "inv1", "data": {"x": 1}, "status": "ready"}
    assert read_data(reply(200, invocation)) == invocation
    assert read_data(reply(200, {"success": True, "data": invocation})) == invocation


def test_empty_and_204_bodies_are_none() -> None:
    assert read_data(reply(204)) is None
    assert read_data(reply(200, raw=b"  ")) is None
    assert read_data(reply(200, {"data": None, "messages": []})) is None


def test_non_json_success_is_a_validation_error() -> None:
    with pytest.raises(errors.APIResponseValidationError, match="expected JSON"):
        read_data(reply(200, raw=b"<html>", ctype="text/html"))


def test_success_false_raises_the_mapped_error() -> None:
    with pytest.raises(errors.NotFoundError, match="gone fishing"):
        read_data(
            reply(
                200,
                {
                    "success": False,
                    "status": 404,
                    "error": {"code": "not_found", "message": "gone fishing"},
                },
            )
        )


def test_warning_messages_go_through_warnings_and_logging(caplog: pytest.LogCaptureFixture) -> None:
    body = {
        "data": TASK,
        "messages": [
            {"level": "warning", "code": "deprecated", "message": "old app"},
            {"level": "info", "message": "fyi"},
        ],
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with caplog.at_level("INFO", logger="inferencesh"):
            assert read_data(reply(200, body)) == TASK
    assert [str(w.message) for w in caught] == ["old app (deprecated)"]
    assert issubclass(caught[0].category, errors.InferenceWarning)
    assert [r.getMessage() for r in caplog.records] == ["old app (deprecated)", "fyi"]


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (
            400,
            {"type": "https://api.inference.sh/errors/invalid_request", "detail": "bad"},
            errors.BadRequestError,
            "invalid_request",
        ),
        (401, {"title": "Unauthorized"}, errors.AuthenticationError, None),
        (402, {"detail": "limit"}, errors.PaymentRequiredError, None),
        (
            403,
            {"type": "x/errors/requires_sign_in", "detail": "sign in"},
            errors.PermissionDeniedError,
            "requires_sign_in",
        ),
        (
            404,
            {"type": "x/errors/not_found", "detail": "task t1 not found"},
            errors.NotFoundError,
            "not_found",
        ),
        (
            404,
            {"type": "x/errors/SESSION_NOT_FOUND"},
            errors.SessionNotFoundError,
            "SESSION_NOT_FOUND",
        ),
        (409, {"type": "x/errors/invalid_transition"}, errors.ConflictError, "invalid_transition"),
        (409, {"type": "x/errors/WORKER_LEASED"}, errors.WorkerConflictError, "WORKER_LEASED"),
        (410, {"type": "x/errors/SESSION_EXPIRED"}, errors.SessionExpiredError, "SESSION_EXPIRED"),
        (410, {"type": "x/errors/SESSION_ENDED"}, errors.SessionEndedError, "SESSION_ENDED"),
        (410, {"type": "x/errors/app_retired"}, errors.GoneError, "app_retired"),
        (
            422,
            {"type": "x/errors/validation_error"},
            errors.UnprocessableEntityError,
            "validation_error",
        ),
        (429, {"type": "x/errors/rate_limited"}, errors.RateLimitError, "rate_limited"),
        (
            500,
            {"error": {"code": "internal_error", "message": "boom"}},
            errors.InternalServerError,
            "internal_error",
        ),
        (503, {}, errors.InternalServerError, None),
        (418, {"message": "teapot"}, errors.APIStatusError, None),
    ],
)
def test_status_and_code_map_to_one_class(
    status: int, body: dict[str, Any], cls: type[errors.APIStatusError], code: str | None
) -> None:
    exc = error_from_response(reply(status, body))
    assert type(exc) is cls
    assert exc.status_code == status
    assert exc.code == code
    assert exc.problem == body


def test_fixture_412_carries_every_requirement() -> None:
    with (FIXTURES / "error-412-requirements.json").open() as f:
        body = json.load(f)
    exc = error_from_response(reply(412, body))
    assert isinstance(exc, errors.RequirementsNotMetError)
    assert [e["key"] for e in exc.errors] == ["OPENAI_API_KEY", "google"]
    assert "Missing secret: OPENAI_API_KEY" in str(exc)


def test_412_without_detail_uses_the_first_requirement_message() -> None:
    exc = error_from_response(
        reply(412, {"errors": [{"type": "secret", "key": "K", "message": "need K"}]})
    )
    assert "need K" in str(exc)


def test_non_json_error_body_is_quoted_in_the_message() -> None:
    exc = error_from_response(reply(502, raw=b"Bad gateway from the edge", ctype="text/plain"))
    assert isinstance(exc, errors.InternalServerError)
    assert "Bad gateway from the edge" in str(exc)


def test_session_errors_carry_the_session_id() -> None:
    exc = error_from_response(
        reply(410, {"type": "x/errors/SESSION_EXPIRED", "session_id": "sess_1"})
    )
    assert isinstance(exc, errors.SessionExpiredError)
    assert exc.session_id == "sess_1"


def test_401_says_what_to_do_and_never_shows_the_key() -> None:
    request = httpx2.Request(
        "GET", "https://api.inference.sh/tasks/t1", headers={"authorization": "Bearer sk-secret"}
    )
    response = httpx2.Response(401, json={"title": "Unauthorized"}, request=request)
    exc = error_from_response(response)
    assert "INFERENCE_API_KEY" in str(exc)
    assert "sk-secret" not in str(exc) and "sk-secret" not in repr(exc)


@pytest.mark.parametrize("body", [[TASK, TASK], "text", 3, True])
def test_a_body_that_is_not_an_object_is_the_payload(body: Any) -> None:
    assert read_data(reply(200, body)) == body


def test_malformed_messages_are_skipped_and_unknown_levels_are_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = {
        "data": TASK,
        "messages": ["just text", None, {"level": "loud", "message": "odd"}, {"level": "warn"}],
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with caplog.at_level("DEBUG", logger="inferencesh"):
            assert read_data(reply(200, body)) == TASK
            assert read_data(reply(200, {"data": 1, "messages": "not a list"})) == 1
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "odd"),
        ("WARNING", ""),
    ]
    assert len(caught) == 1 and issubclass(caught[0].category, errors.InferenceWarning)


def test_412_without_any_explanation_still_says_what_it_is() -> None:
    exc = error_from_response(reply(412, raw=b""))
    assert isinstance(exc, errors.RequirementsNotMetError)
    assert str(exc) == "412 from GET /tasks/t1: requirements not met"


def test_requirements_that_are_not_objects_fall_back_to_the_title() -> None:
    exc = error_from_response(reply(422, {"errors": ["bad"], "title": "Unprocessable"}))
    assert str(exc) == "422 from GET /tasks/t1: Unprocessable"
    exc = error_from_response(reply(412, {"errors": [], "detail": "need a secret"}))
    assert str(exc).endswith(": need a secret")


def test_legacy_error_shapes() -> None:
    as_text = error_from_response(reply(400, {"error": "bad input"}))
    assert str(as_text) == "400 from GET /tasks/t1: bad input" and as_text.code is None
    no_message = error_from_response(reply(409, {"error": {"code": 5}, "code": "busy"}))
    assert no_message.code == "busy"  # a non-text legacy code gives way to the top-level one
    assert '"code": "busy"' in str(no_message)  # nothing readable: the body itself is shown
    legacy_200 = reply(200, {"success": False, "error": {"code": "denied", "message": "no"}})
    with pytest.raises(errors.APIStatusError, match="200 from GET /tasks/t1: no") as info:
        read_data(legacy_200)
    assert info.value.code == "denied"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id": "t1", "big": 123456789012345678901234567890, "neg": -18446744073709551617}',
        b'{"id": "t1", "n": NaN, "inf": -Infinity}',
        b'\xef\xbb\xbf{"id": "t1"}',  # a byte order mark
        '{"id": "t1", "text": "caf\\u00e9 \\u2603"}'.encode("utf-16"),
    ],
    ids=["integers-beyond-64-bits", "nan-and-infinity", "bom", "utf-16"],
)
def test_a_payload_reads_as_the_standard_json_module_reads_it(raw: bytes) -> None:
    assert repr(read_data(reply(200, raw=raw))) == repr(json.loads(raw))
