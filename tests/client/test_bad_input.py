"""Bad input and misuse fail at once, typed, before any request: sync, asyncio and trio."""

from __future__ import annotations

import datetime
import math
import pickle
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.from_thread import start_blocking_portal

from inferencesh import (
    APIStatusError,
    ClientClosedError,
    ConfigurationError,
    FileNameError,
    FileRef,
    InvalidInputError,
    NotFoundError,
    TaskFailedError,
    TaskStatus,
    UsageError,
    async_inference,
    inference,
)
from tests.conftest import API_KEY, Twin
from tests.faultproxy import FaultProxy

pytestmark = pytest.mark.anyio


@pytest.fixture
async def proxied(flavour: str, server: Any, fault_proxy: FaultProxy) -> Any:
    """A twin whose every request passes the fault proxy, which counts them."""
    make = inference if flavour == "sync" else async_inference
    twin = Twin(make(api_key=server.api_key, base_url=fault_proxy.url))
    yield twin
    await twin.close()


class Unencodable:
    pass


circular: dict[str, Any] = {"name": "loop"}
circular["self"] = circular


@pytest.mark.parametrize(
    ("input", "path", "message"),
    [
        ({"a": math.nan}, "input.a", "nan is not a number JSON allows"),
        ({"a": math.inf}, "input.a", "inf is not a number"),
        ({"a": [1, {"b": -math.inf}]}, "input.a[1].b", "-inf"),
        ({"text": "ok \ud800 no"}, "input.text", "lone surrogate"),
        ({"\udcff": 1}, "input", "key"),
        ({"when": datetime.date(2026, 1, 1)}, "input.when", "a date cannot be sent as JSON"),
        ({"tags": {"a", "b"}}, "input.tags", "a set cannot be sent as JSON"),
        ({"obj": Unencodable()}, "input.obj", "Unencodable"),
        ({(1, 2): "tuple key"}, "input", "JSON keys are strings"),
        ({"loop": circular}, "input.loop.self", "circular"),
        ({"loop": [circular]}, "input.loop[0].self", "circular"),
        ({"odd key": [math.nan]}, 'input["odd key"][0]', "nan"),
    ],
)
async def test_input_that_is_not_json_is_refused_before_any_request(
    proxied: Twin, fault_proxy: FaultProxy, input: Any, path: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as info:
        await proxied("run", "infsh/echo", input)
    assert info.value.path == path
    assert str(info.value).startswith(f"{path}: ")
    assert isinstance(info.value, ValueError)
    assert fault_proxy.count() == 0  # nothing was sent


async def test_deep_nesting_is_refused_naming_where_it_starts(
    proxied: Twin, fault_proxy: FaultProxy
) -> None:
    deep: Any = 1
    for _ in range(5_000):
        deep = {"d": deep}
    for auto_upload in (True, False):
        with pytest.raises(InvalidInputError, match="levels deep") as info:
            await proxied("run", "infsh/echo", {"text": deep}, auto_upload=auto_upload)
        assert info.value.path.startswith("input.text.d.d")
    assert fault_proxy.count() == 0


async def test_bytes_without_auto_upload_are_refused_not_sent(
    proxied: Twin, fault_proxy: FaultProxy
) -> None:
    with pytest.raises(InvalidInputError, match="a bytes cannot be sent as JSON") as info:
        await proxied("run", "infsh/echo", {"text": b"raw"}, auto_upload=False)
    assert info.value.path == "input.text"
    assert fault_proxy.count() == 0


async def test_a_plain_string_is_never_read_from_disk(
    proxied: Twin, fault_proxy: FaultProxy, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not upload me")
    for text in (str(secret), "/etc/passwd"):
        task = await proxied("run", "infsh/echo", {"text": text})
        assert task.output == {"text": text}  # sent as the text it is
    assert fault_proxy.count("POST", "/files") == 0
    # A Path says "this is a file": that one is uploaded.
    task = await proxied("run", "infsh/file-info", {"file": secret})
    assert task.output["file"]["size"] == len("do not upload me")
    assert fault_proxy.count("POST", "/files") == 1


@pytest.mark.parametrize("key", ["", "   ", "sk-abc\n", "sk abc", "sk-\u00e9"])
@pytest.mark.parametrize("make", [inference, async_inference])
def test_an_unusable_api_key_is_a_configuration_error_at_once(key: str, make: Any) -> None:
    with pytest.raises(ConfigurationError, match="api_key") as info:
        make(api_key=key, base_url="http://127.0.0.1:9")
    assert isinstance(info.value, ValueError)


def test_an_empty_key_in_the_environment_counts_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERENCE_API_KEY", "")
    with pytest.raises(ConfigurationError, match="no API key"):
        inference(base_url="http://127.0.0.1:9")
    monkeypatch.setenv("INFERENCE_API_KEY", "sk-x\n")
    with pytest.raises(ConfigurationError, match="INFERENCE_API_KEY holds whitespace"):
        inference(base_url="http://127.0.0.1:9")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("stream_idle_timeout", 0),
        ("stream_idle_timeout", math.nan),
        ("max_reconnects", -1),
        ("max_connections", 0),
        ("max_retry_after", -1),
    ],
)
def test_options_out_of_range_are_configuration_errors(option: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=option):
        inference(api_key="sk-x", base_url="http://127.0.0.1:9", **{option: value})


async def test_a_negative_wait_timeout_is_a_configuration_error(twin: Twin) -> None:
    with pytest.raises(ConfigurationError, match="wait_timeout"):
        await twin("tasks.wait", "tsk_x", wait_timeout=-1)


async def test_a_closed_client_says_so(server: Any, flavour: str) -> None:
    client = server.client() if flavour == "sync" else server.async_client()
    twin = Twin(client)
    await twin.close()
    for call, args in (("tasks.get", ("tsk_x",)), ("files.list", ()), ("run", ("infsh/echo", {}))):
        with pytest.raises(ClientClosedError, match="closed"):
            await twin(call, *args)


@pytest.mark.parametrize(
    "name", [".", "..", "a/..", "dir/", "a\x00b", "x" * 256, "\u00e9" * 128, "a\nb"]
)
async def test_a_server_file_name_that_is_unusable_writes_nothing(
    twin: Twin, tmp_path: Path, name: str
) -> None:
    uploaded = await twin("files.upload", b"payload", filename="ok.bin")
    before = sorted(tmp_path.parent.iterdir())
    dest = tmp_path / "out" / "deeper"
    with pytest.raises(FileNameError) as info:
        await twin("files.download", FileRef(uri=uploaded.uri, filename=name), f"{dest}/")
    assert info.value.name == name.rsplit("/", 1)[-1] and isinstance(info.value, ValueError)
    assert list(tmp_path.iterdir()) == []  # not even the directory
    assert sorted(tmp_path.parent.iterdir()) == before
    # The same file saved under a name of the caller's choosing works.
    path = await twin("files.download", FileRef(uri=uploaded.uri, filename=name), dest / "f.bin")
    assert path.read_bytes() == b"payload" and sorted(dest.iterdir()) == [path]


async def test_a_long_but_valid_name_downloads(twin: Twin, tmp_path: Path) -> None:
    uploaded = await twin("files.upload", b"payload", filename="ok.bin")
    name = "\u00e9" * 127  # 254 bytes
    path = await twin("files.download", FileRef(uri=uploaded.uri, filename=name), tmp_path)
    assert path == tmp_path / name and path.read_bytes() == b"payload"
    assert sorted(tmp_path.iterdir()) == [path]  # no temporary file left


async def test_status_prints_as_its_name_and_compares_as_an_int(twin: Twin) -> None:
    task = await twin("run", "infsh/echo", {"text": "x"})
    assert str(task.status) == "completed" and f"{task.status}" == "completed"
    assert f"{task.status:d}" == "10" and repr(task.status) == "<TaskStatus.COMPLETED: 10>"
    assert task.status == 10 and task.status > TaskStatus.RUNNING and int(task.status) == 10


async def test_a_pickled_error_carries_no_api_key(twin: Twin) -> None:
    with pytest.raises(NotFoundError) as info:
        await twin("tasks.get", "tsk_missing")
    error = info.value
    assert error.request is not None and API_KEY in error.request.headers["authorization"]
    data = pickle.dumps(error)
    assert API_KEY.encode() not in data
    back = pickle.loads(data)
    assert type(back) is NotFoundError and str(back) == str(error)
    assert back.status_code == 404 and back.code == error.code
    assert back.request.headers["authorization"] == "[redacted]"
    assert back.response.request.headers["authorization"] == "[redacted]"
    assert back.problem == error.problem
    # The original is untouched.
    assert API_KEY in error.request.headers["authorization"]


async def test_other_errors_pickle_too(twin: Twin) -> None:
    with pytest.raises(TaskFailedError) as info:
        await twin("run", "infsh/fail", {"message": "kaboom"})
    back = pickle.loads(pickle.dumps(info.value))
    assert type(back) is TaskFailedError and back.task.id == info.value.task.id
    assert str(back) == str(info.value)


def test_a_pickled_error_of_a_compressed_answer_keeps_its_body() -> None:
    import gzip

    import httpx2

    request = httpx2.Request(
        "GET", "https://api.test/tasks/t1", headers={"authorization": "Bearer sk-1"}
    )
    response = httpx2.Response(
        404,
        headers={"content-encoding": "gzip", "content-type": "application/json"},
        content=gzip.compress(b'{"detail": "nope"}'),
        request=request,
    )
    error = NotFoundError("404 from GET /tasks/t1: nope", response=response)
    back = pickle.loads(pickle.dumps(error))
    assert back.response.json() == {"detail": "nope"}
    assert back.response.request.headers["authorization"] == "[redacted]"


def test_an_async_client_used_in_a_second_event_loop_says_so(fault_proxy: FaultProxy) -> None:
    # Its connections belong to the first loop; in another they failed in obscure ways
    # ("attached to a different loop", "no running event loop") or hung.
    client = async_inference(api_key=API_KEY, base_url=fault_proxy.url)

    async def echo() -> Any:
        return (await client.run("infsh/echo", {"text": "hi"})).output

    with start_blocking_portal(backend="asyncio") as first:  # a loop in another thread
        assert first.call(echo) == {"text": "hi"}
        sent = fault_proxy.count()
        for backend in ("asyncio", "trio"):
            with pytest.raises(UsageError, match="used in another event loop"):
                anyio.run(echo, backend=backend)
        assert fault_proxy.count() == sent  # refused before anything was sent
        assert first.call(echo) == {"text": "hi"}  # its own loop goes on using it
        first.call(client.aclose)


async def test_a_body_over_the_servers_limit_is_its_413_not_a_broken_connection(
    make_twin: Any, server: Any
) -> None:
    """The emulator refuses the body (by its declared length) before reading it, and closes:
    every client hears its 413, not a reset (a body far larger than socket buffers)."""
    emulator = server.emulator
    saved = emulator.max_body_size
    emulator.max_body_size = 1024
    try:
        twin = make_twin(max_retries=0)
        for _ in range(5):  # a reset losing the answer was a race: try it more than once
            with pytest.raises(APIStatusError) as info:
                await twin("run", "infsh/echo", {"text": "x" * (32 * 1024 * 1024)}, wait=False)
            assert info.value.status_code == 413
            assert "max_body_size" in str(info.value)
    finally:
        emulator.max_body_size = saved
