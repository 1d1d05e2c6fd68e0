"""More of files through the client: progress, refused uploads, downloads, unbound files.

Most tests run against the emulator. A few need answers the emulator never gives (a broken
`POST /files` answer, a connection that drops mid-body): those script the API with an
`httpx2.MockTransport` handed to the client as its `http_client`.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from inferencesh import (
    APIConnectionError,
    APIResponseValidationError,
    AsyncFile,
    BadRequestError,
    File,
    MissingFileError,
    NotFoundError,
    UploadError,
)
from inferencesh.errors import InternalServerError, UsageError
from tests.conftest import Twin

pytestmark = [pytest.mark.anyio, pytest.mark.server]

MiB = 1024 * 1024
UPLOADS = "/_uploads/*"


async def read(twin: Twin, file: File | AsyncFile) -> bytes:
    if isinstance(file, AsyncFile):
        return await file.read_bytes()
    return await twin("files.read_bytes", file)


def registered(server: Any) -> set[str]:
    """Ids of every file record, also those whose bytes never arrived."""
    return {f["id"] for f in server.emulator.files(include_pending=True)}


# -- progress ------------------------------------------------------------------------------


async def test_upload_progress_is_reported_after_each_chunk(twin: Twin) -> None:
    data = b"z" * (2 * MiB + 10)
    seen: list[tuple[int, int | None]] = []
    file = await twin(
        "files.upload", data, filename="z.bin", on_progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(MiB, len(data)), (2 * MiB, len(data)), (len(data), len(data))]
    assert file.size == len(data)


async def test_a_file_object_is_uploaded_from_where_it_stands(twin: Twin) -> None:
    f = io.BytesIO(b"header" + b"body" * 1000)
    f.seek(6)
    seen: list[tuple[int, int | None]] = []
    file = await twin("files.upload", f, filename="b.txt", on_progress=lambda *p: seen.append(p))
    assert file.size == 4000 and seen == [(4000, 4000)]
    assert await read(twin, file) == b"body" * 1000


async def test_download_progress_counts_up_to_the_size(twin: Twin, tmp_path: Path) -> None:
    data = bytes(range(256)) * (10 * 1024 + 1)  # a little over 2.5 MiB
    file = await twin("files.upload", data, filename="d.bin")
    seen: list[tuple[int, int | None]] = []
    path = await twin(
        "files.download", file, tmp_path, on_progress=lambda d, t: seen.append((d, t))
    )
    assert path.read_bytes() == data
    assert seen[-1] == (len(data), len(data))
    assert all(total == len(data) for _, total in seen)
    done = [d for d, _ in seen]
    assert done == sorted(done) and len(set(done)) == len(done)


async def test_a_data_uri_downloads_in_one_step(twin: Twin, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    path = await twin(
        "files.download",
        "data:text/plain;base64,aGVsbG8=",
        tmp_path,
        on_progress=lambda d, t: seen.append((d, t)),
    )
    assert path == tmp_path / "download" and path.read_bytes() == b"hello"
    assert seen == [(5, 5)]
    assert await twin("files.read_bytes", "data:,plain%20text") == b"plain text"


# -- refused uploads -----------------------------------------------------------------------


async def test_a_refused_put_is_an_upload_error_and_leaves_no_file(
    make_twin: Callable[..., Twin], server: Any
) -> None:
    twin = make_twin(max_retries=0)
    before = registered(server)
    server.emulator.faults.fail_next(1, status=500, path=UPLOADS)
    with pytest.raises(UploadError, match="uploading refused.bin failed") as info:
        await twin("files.upload", b"refused", filename="refused.bin")
    assert isinstance(info.value.__cause__, InternalServerError)
    assert info.value.file_id and info.value.file_id not in before
    assert registered(server) == before
    with pytest.raises(NotFoundError):
        await twin("files.get", info.value.file_id)


async def test_a_put_refused_more_often_than_retried_fails(twin: Twin, server: Any) -> None:
    before = registered(server)
    server.emulator.faults.fail_next(3, status=503, retry_after=0, path=UPLOADS)
    with pytest.raises(UploadError):
        await twin("files.upload", b"refused")
    assert registered(server) == before


async def test_a_refused_put_is_retried_from_the_start_of_the_file(twin: Twin, server: Any) -> None:
    f = io.BytesIO(b"skip" + b"payload")
    f.seek(4)
    server.emulator.faults.fail_next(2, status=503, retry_after=0, path=UPLOADS)
    file = await twin("files.upload", f, filename="p.bin")
    assert await read(twin, file) == b"payload"
    assert file.id in {f["id"] for f in server.emulator.files()}
    assert server.emulator.faults.take_failure("PUT", "/_uploads/x") is None  # both were hit


async def test_a_put_refused_for_good_is_not_retried(twin: Twin, server: Any) -> None:
    before = registered(server)
    server.emulator.faults.fail_next(1, status=400, path=UPLOADS)
    # One refusal only: had the client sent the PUT again, the upload would have succeeded.
    with pytest.raises(UploadError) as info:
        await twin("files.upload", b"once")
    assert isinstance(info.value.__cause__, BadRequestError)
    assert registered(server) == before


async def test_when_the_record_cannot_be_deleted_the_upload_error_still_wins(
    make_twin: Callable[..., Twin], server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    twin = make_twin(max_retries=0)
    server.emulator.faults.fail_next(1, status=500, path=UPLOADS)
    server.emulator.faults.fail_next(1, status=500, path="/files/*", method="DELETE")
    with caplog.at_level(logging.WARNING, logger="inferencesh"):
        with pytest.raises(UploadError) as info:
            await twin("files.upload", b"stuck", filename="stuck.bin")
    file_id = info.value.file_id
    assert file_id and isinstance(info.value.__cause__, InternalServerError)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        f"could not delete the half-uploaded file {file_id}: 500 from DELETE /files/{file_id}: "
        "injected fault: 500 (emulator fault injection)"
    ]
    assert file_id in registered(server)  # the record the failed delete left behind
    await twin("files.delete", file_id)
    assert file_id not in registered(server)


# -- listing, lookups, unbound files -------------------------------------------------------


async def test_list_pages_on_with_the_cursor(twin: Twin) -> None:
    older = await twin("files.upload", b"older", filename="older.txt")
    newer = await twin("files.upload", b"newer", filename="newer.txt")
    first = await twin("files.list", limit=1)
    assert [f.id for f in first.items] == [newer.id] and first.next_cursor
    second = await twin("files.list", limit=1, cursor=first.next_cursor)
    assert [f.id for f in second.items] == [older.id]
    assert await read(twin, second.items[0]) == b"older"  # listed files are bound too


async def test_an_empty_file_id_is_refused_before_any_request(twin: Twin) -> None:
    with pytest.raises(ValueError, match="file_id must be a non-empty string"):
        await twin("files.get", "")


async def test_a_file_not_from_a_client_cannot_fetch_itself(twin: Twin, tmp_path: Path) -> None:
    uri = "data:text/plain;base64,aGk="
    with pytest.raises(UsageError, match="not returned by a client; use client.files"):
        if twin.is_async:
            await AsyncFile(uri=uri).download(tmp_path)
        else:
            File(uri=uri).download(tmp_path)
    with pytest.raises(UsageError, match="not returned by a client"):
        if twin.is_async:
            await AsyncFile(uri=uri).read_bytes()
        else:
            File(uri=uri).read_bytes()
    assert list(tmp_path.iterdir()) == []
    # The client itself downloads such a file.
    path = await twin("files.download", File(uri=uri, filename="hi.txt"), tmp_path)
    assert path == tmp_path / "hi.txt" and path.read_bytes() == b"hi"


async def test_each_auto_upload_is_logged_without_its_bytes(
    twin: Twin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"abc")
    with caplog.at_level(logging.INFO, logger="inferencesh"):
        task = await twin(
            "run",
            "infsh/file-info",
            {"file": src, "others": [b"secret bytes", "data:text/plain,secret%20text", src]},
        )
    assert [o["size"] for o in task.output["others"]] == [12, 11, 3]
    uploads = sorted(r.getMessage() for r in caplog.records if r.getMessage().startswith("upl"))
    assert uploads == sorted(
        [
            f"uploading {src} for input.file",
            "uploading bytes for input.others[0]",
            "uploading a data URI for input.others[1]",
            f"uploading {src} for input.others[2]",
        ]
    )
    assert "secret" not in caplog.text


async def test_the_callers_input_is_never_modified(twin: Twin, tmp_path: Path) -> None:
    one = {"file": b"one file"}
    task = await twin("run", "infsh/file-info", one)
    assert one == {"file": b"one file"}
    assert task.output["file"]["size"] == 8 and task.input["file"].startswith("http")
    src = tmp_path / "in.txt"
    src.write_bytes(b"abc")
    others = [b"x", "plain"]
    several = {"file": src, "others": others}
    task = await twin("run", "infsh/echo", several)
    assert several == {"file": src, "others": others} and others == [b"x", "plain"]
    assert task.output["file"].startswith("http") and task.output["others"][1] == "plain"


async def test_a_bad_file_in_the_input_fails_before_the_task_exists(
    twin: Twin, tmp_path: Path, server: Any
) -> None:
    before = len(server.emulator.tasks())
    with pytest.raises(MissingFileError):
        await twin("run", "infsh/file-info", {"file": tmp_path / "missing.png"})
    assert len(server.emulator.tasks()) == before


# -- answers the emulator never gives ------------------------------------------------------


class Calls:
    """The requests a scripted API saw, as `METHOD host/path`."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def note(self, request: httpx2.Request) -> str:
        key = f"{request.method} {request.url.host}{request.url.path}"
        self.seen.append(key)
        return key


RECORD = {"id": "f1", "uri": "http://api.test/_files/f1", "filename": "a.bin", "size": 3}


async def test_a_create_answer_without_an_upload_url_is_the_servers_fault(
    scripted: Callable[..., Twin],
) -> None:
    calls = Calls()

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.note(request)
        return httpx2.Response(200, json=[RECORD])

    twin = scripted(handler)
    with pytest.raises(APIResponseValidationError, match="POST /files: no upload URL"):
        await twin("files.upload", b"abc", filename="a.bin")
    assert calls.seen == ["POST api.test/files"]  # nothing was PUT


async def test_a_put_whose_connection_fails_once_is_retried(
    scripted: Callable[..., Twin],
) -> None:
    calls = Calls()
    bodies: list[bytes] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        key = calls.note(request)
        if key == "POST api.test/files":
            return httpx2.Response(200, json=[{**RECORD, "upload_url": "http://up.test/f1?t=1"}])
        bodies.append(request.read())
        if len(bodies) == 1:
            raise httpx2.ConnectError("refused", request=request)
        return httpx2.Response(200)

    twin = scripted(handler)
    file = await twin("files.upload", b"abc", filename="a.bin")
    assert file.id == "f1" and bodies == [b"abc", b"abc"]
    assert calls.seen == ["POST api.test/files", "PUT up.test/f1", "PUT up.test/f1"]


async def test_a_put_that_cannot_connect_deletes_the_record(
    scripted: Callable[..., Twin],
) -> None:
    calls = Calls()

    def handler(request: httpx2.Request) -> httpx2.Response:
        key = calls.note(request)
        if key == "POST api.test/files":
            return httpx2.Response(200, json=[{**RECORD, "upload_url": "http://up.test/f1?t=s"}])
        if key == "DELETE api.test/files/f1":
            return httpx2.Response(204)
        raise httpx2.ReadError("reset", request=request)

    twin = scripted(handler, max_retries=0)
    with pytest.raises(UploadError) as info:
        await twin("files.upload", b"abc", filename="a.bin")
    assert info.value.file_id == "f1"
    assert isinstance(info.value.__cause__, APIConnectionError)
    assert "t=s" not in str(info.value)  # the upload grant stays out of the message
    assert calls.seen == ["POST api.test/files", "PUT up.test/f1", "DELETE api.test/files/f1"]


async def test_a_record_without_an_id_is_not_deleted(scripted: Callable[..., Twin]) -> None:
    calls = Calls()

    def handler(request: httpx2.Request) -> httpx2.Response:
        key = calls.note(request)
        if key == "POST api.test/files":
            return httpx2.Response(200, json=[{"upload_url": "http://up.test/x"}])
        return httpx2.Response(403)

    twin = scripted(handler, max_retries=0)
    with pytest.raises(UploadError) as info:
        await twin("files.upload", b"abc")
    assert info.value.file_id is None
    assert calls.seen == ["POST api.test/files", "PUT up.test/x"]


class Broken(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A body whose connection drops after the first bytes."""

    def __iter__(self) -> Iterator[bytes]:
        yield b"01234"
        raise httpx2.ReadError("connection reset")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"01234"
        raise httpx2.ReadError("connection reset")


async def test_a_download_cut_mid_body_is_a_connection_error_and_leaves_nothing(
    scripted: Callable[..., Twin], tmp_path: Path
) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-length": "10"}, stream=Broken())

    twin = scripted(handler)
    with pytest.raises(APIConnectionError, match="cdn.test/big.bin") as info:
        await twin("files.download", "http://cdn.test/big.bin", tmp_path)
    assert isinstance(info.value.__cause__, httpx2.ReadError)
    assert list(tmp_path.iterdir()) == []  # neither the target nor a partial file
