"""Payloads into models, and a finished task into its result or its typed error."""

from typing import Any

import httpx2
import pytest
from pydantic import BaseModel, ValidationError

from inferencesh import errors
from inferencesh._protocol.results import as_model, as_object, finished, translate_transport_error
from inferencesh.models.task import Task


class Point(BaseModel):
    x: int
    y: int


def reply() -> httpx2.Response:
    return httpx2.Response(
        200, json={"x": "nope"}, request=httpx2.Request("GET", "https://api.test/points/1")
    )


def test_a_payload_that_fits_becomes_the_model() -> None:
    assert as_model(Point, {"x": 1, "y": "2"}, reply()) == Point(x=1, y=2)


@pytest.mark.parametrize("payload", [[1, 2], "text", 3, None])
def test_a_payload_that_is_not_an_object_is_the_servers_fault(payload: Any) -> None:
    response = reply()
    with pytest.raises(
        errors.APIResponseValidationError, match="GET /points/1: expected a JSON object"
    ):
        as_object(payload, response)
    assert as_object({"a": 1}, response) == {"a": 1}


def test_a_payload_that_does_not_fit_a_response_is_the_servers_fault() -> None:
    response = reply()
    with pytest.raises(errors.APIResponseValidationError, match="cannot read") as info:
        as_model(Point, {"x": "nope"}, response)
    assert info.value.response is response and info.value.status_code == 200
    assert info.value.request is response.request
    assert isinstance(info.value.__cause__, ValidationError)
    assert "GET /points/1" in str(info.value) and "y" in str(info.value)


def task(status: int, **extra: Any) -> Task:
    return Task.model_validate({"id": "t1", "status": status, **extra})


def test_a_completed_task_is_returned_as_is() -> None:
    done = task(10, output={"v": 1})
    assert finished(done) is done


@pytest.mark.parametrize(
    ("status", "cls", "message"),
    [
        (11, errors.TaskFailedError, "task t1 failed: boom"),
        (12, errors.TaskCancelledError, "task t1 was cancelled: boom"),
        (13, errors.TaskRejectedError, "task t1 was rejected: boom"),
    ],
    ids=["failed", "cancelled", "rejected"],
)
def test_every_other_end_raises_its_own_error(
    status: int, cls: type[errors.TaskError], message: str
) -> None:
    ended = task(status, error="boom")
    with pytest.raises(cls) as info:
        finished(ended)
    assert type(info.value) is cls
    assert str(info.value) == message
    assert info.value.task is ended and info.value.task_id == "t1"


def test_a_rejected_task_is_also_a_failed_one_but_a_cancelled_one_is_not() -> None:
    with pytest.raises(errors.TaskFailedError):
        finished(task(13))
    with pytest.raises(errors.TaskError) as info:
        finished(task(12))
    assert not isinstance(info.value, errors.TaskFailedError)


@pytest.mark.parametrize(
    ("status", "message"),
    [(11, "task t1 failed"), (12, "task t1 was cancelled"), (13, "task t1 was rejected")],
)
def test_without_an_error_the_message_has_no_reason(status: int, message: str) -> None:
    with pytest.raises(errors.TaskError) as info:
        finished(task(status))
    assert str(info.value) == message


def test_a_timeout_is_a_timeout_error() -> None:
    request = httpx2.Request("GET", "https://api.test/tasks/t1")
    exc = translate_transport_error(httpx2.ReadTimeout("slow", request=request), request)
    assert type(exc) is errors.APITimeoutError and exc.request is request


def test_a_connection_error_names_the_endpoint_but_never_the_query() -> None:
    # Upload URLs carry their grant in the query string: it must not reach messages or logs.
    request = httpx2.Request("PUT", "https://up.test:8443/_uploads/f1?token=s3cret")
    exc = translate_transport_error(httpx2.ConnectError("refused", request=request), request)
    assert type(exc) is errors.APIConnectionError and exc.request is request
    assert str(exc) == "could not reach the API (PUT https://up.test:8443/_uploads/f1): refused"
    assert "s3cret" not in str(exc)


def test_output_files_that_do_not_fit_are_the_servers_fault() -> None:
    from inferencesh._protocol.outputs import bind_output
    from inferencesh.models.file import File

    response = reply()
    good = {"image": {"uri": "https://f/a.png", "size": 3}}
    assert bind_output(good, File.model_validate, response)["image"].size == 3
    bad = {"image": {"uri": "https://f/a.png", "size": "three"}}
    with pytest.raises(errors.APIResponseValidationError, match="output file") as info:
        bind_output(bad, File.model_validate, response)
    assert info.value.response is response
    with pytest.raises(ValidationError):  # a task made by hand: no response to blame
        bind_output(bad, File.model_validate, None)


def test_a_run_answer_needs_a_task_id() -> None:
    from inferencesh._protocol.tasks import created_task

    response = reply()
    assert created_task({"id": "t1", "status": 1}, response) == ({"id": "t1", "status": 1}, "t1")
    for payload in ({"status": 1}, {"id": ""}, {"id": 7}, ["t1"]):
        with pytest.raises(errors.APIResponseValidationError):
            created_task(payload, response)
