"""Files at the HTTP level: records, upload URLs, downloads, bad uploads, and files of apps."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from pydantic import BaseModel

from inferencesh.local import AppContext, Emulator, LocalFile, RunningServer, running
from tests.local._support import assert_problem, run

# FileDTO members (fixtures/file-upload-response.json).
FILE_KEYS = {
    "id", "short_id", "created_at", "updated_at", "user_id", "team_id", "visibility", "path",
    "remote_path", "upload_url", "uri", "content_type", "size", "filename", "category", "rating",
}  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def create(http: httpx2.Client, **entry: Any) -> dict[str, Any]:
    """`POST /files` with one file; its DTO (with `upload_url`)."""
    entry.setdefault("uri", "")
    response = http.post("/files", json={"files": [entry]})
    assert response.status_code == 200, response.text
    files: list[dict[str, Any]] = response.json()["data"]
    assert len(files) == 1
    return files[0]


def upload(
    data: bytes, filename: str = "data.bin", http: httpx2.Client | None = None
) -> dict[str, Any]:
    """Create and upload a file the way every SDK does; its DTO."""
    assert http is not None
    file = create(http, filename=filename, content_type="application/octet-stream", size=len(data))
    put = httpx2.put(file["upload_url"], content=data)  # no key: the URL grants the upload
    assert (put.status_code, put.content) == (200, b""), put.text
    return file


def partial_files(emu: Emulator) -> list[Path]:
    return list((emu.data_dir / "partial").iterdir())


def states(emu: Emulator) -> tuple[set[str], set[str]]:
    """Ids of (complete files, all records)."""
    return {f["id"] for f in emu.files()}, {f["id"] for f in emu.files(include_pending=True)}


@pytest.fixture
def limit(local_emu: Emulator) -> Iterator[Callable[[int], None]]:
    before = local_emu.max_upload_size
    yield lambda size: setattr(local_emu, "max_upload_size", size)
    local_emu.max_upload_size = before


# -- the happy path --------------------------------------------------------------------------


def test_create_upload_download_list_delete(http: httpx2.Client, local_emu: Emulator) -> None:
    data = b"hello files\n" * 1000
    file = create(http, filename="notes.txt", content_type="text/plain", size=len(data))
    assert FILE_KEYS <= set(file)
    assert (file["filename"], file["content_type"], file["size"]) == (
        "notes.txt",
        "text/plain",
        len(data),
    )
    assert file["id"].removeprefix("file_").startswith(file["short_id"])
    assert file["upload_url"].startswith(http.base_url.scheme + "://")
    assert "token=" in file["upload_url"] and file["id"] in file["upload_url"]
    assert file["uri"].startswith(str(http.base_url).rstrip("/") + "/_files/" + file["id"])
    # Registered but not uploaded: not listed, and its uri has nothing to serve yet.
    assert file["id"] not in states(local_emu)[0]
    assert file["id"] in states(local_emu)[1]
    assert_problem(httpx2.get(file["uri"]), 404, "not_found")

    put = httpx2.put(file["upload_url"], content=data, headers={"content-type": "text/plain"})
    assert (put.status_code, put.content) == (200, b"")

    fetched = httpx2.get(file["uri"])  # no key: like a presigned download URL
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["content-type"].startswith("text/plain")
    assert fetched.headers["content-length"] == str(len(data))
    stored = http.get(f"/files/{file['id']}").json()["data"]
    assert stored["size"] == len(data) and stored["uri"] == file["uri"]
    assert stored["upload_url"] == ""  # handed out once, with the record's creation
    listed = http.post("/files/list", json={"limit": 100}).json()["data"]
    assert file["id"] in [f["id"] for f in listed["items"]]
    path = local_emu.file_path(file["id"])
    assert path.read_bytes() == data and path.is_relative_to(local_emu.data_dir)

    deleted = http.delete(f"/files/{file['id']}")
    assert deleted.json() == {"success": True, "status": 200, "data": None, "messages": []}
    assert_problem(http.get(f"/files/{file['id']}"), 404, "not_found")
    assert_problem(httpx2.get(file["uri"]), 404, "not_found")
    assert_problem(http.delete(f"/files/{file['id']}"), 404, "not_found")
    assert not path.exists()
    assert file["id"] not in states(local_emu)[1]


def test_what_the_official_sdks_send_is_accepted(http: httpx2.Client) -> None:
    # JS from a data URI: no size, no filename, no path. PY: explicit nulls.
    js = create(http, content_type="image/png")
    assert (js["filename"], js["content_type"], js["size"]) == ("upload.png", "image/png", 0)
    put = httpx2.put(js["upload_url"], content=PNG, headers={"content-type": "image/png"})
    assert put.status_code == 200
    assert http.get(f"/files/{js['id']}").json()["data"]["size"] == len(PNG)
    py = create(
        http,
        filename=None,
        content_type="application/octet-stream",
        path=None,
        size=3,
        public=None,
    )
    assert py["filename"] == "upload.bin" and py["visibility"] == "private"
    named = create(http, filename="cat.png", size=5, path="pets/cat.png", public=True)
    assert (named["content_type"], named["path"], named["visibility"]) == (
        "image/png",
        "pets/cat.png",
        "public",
    )


def test_several_files_in_one_request(http: httpx2.Client) -> None:
    body = {"files": [{"uri": "", "filename": f"{i}.txt", "size": 1} for i in range(3)]}
    files = http.post("/files", json=body).json()["data"]
    assert [f["filename"] for f in files] == ["0.txt", "1.txt", "2.txt"]
    assert len({f["upload_url"] for f in files}) == 3


def test_version_2_gets_the_bare_list(http: httpx2.Client) -> None:
    response = http.post(
        "/files", json={"files": [{"uri": "", "size": 1}]}, headers={"x-api-version": "2"}
    )
    assert isinstance(response.json(), list)


def test_list_pages_with_cursors_and_skips_pending_files(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    ids = [upload(bytes([i]) * 10, f"page{i}.bin", http)["id"] for i in range(3)]
    pending = create(http, filename="pending.bin", size=4)
    search = {"fields": ["filename"], "term": "page"}
    first = http.post("/files/list", json={"limit": 2, "search": search}).json()["data"]
    assert [f["id"] for f in first["items"]] == ids[::-1][:2]  # newest first
    assert first["has_next"] and first["next_cursor"]
    second = http.post(
        "/files/list", json={"limit": 2, "search": search, "cursor": first["next_cursor"]}
    ).json()["data"]
    assert [f["id"] for f in second["items"]] == [ids[0]]
    everything = http.post("/files/list", json={"limit": 100}).json()["data"]["items"]
    assert pending["id"] not in [f["id"] for f in everything]


def test_files_need_the_key_but_their_urls_do_not(
    http: httpx2.Client, local_server: RunningServer
) -> None:
    file = upload(b"secret-free", http=http)
    anonymous = httpx2.Client(base_url=local_server.base_url)
    with anonymous:
        assert_problem(anonymous.post("/files", json={"files": [{"size": 1}]}), 401, "unauthorized")
        assert_problem(anonymous.get(f"/files/{file['id']}"), 401, "unauthorized")
        assert_problem(anonymous.post("/files/list", json={}), 401, "unauthorized")
        path = urlsplit(str(file["uri"])).path
        assert anonymous.get(path).content == b"secret-free"
        head = anonymous.head(path)
        assert head.status_code == 200 and head.headers["content-length"] == "11"


# -- bad uploads: a typed error each time, nothing half-done left ---------------------------


BAD_CREATES: list[tuple[Any, str]] = [
    ({}, "files must be a non-empty list"),
    ({"files": []}, "files must be a non-empty list"),
    ({"files": "x"}, "files must be a non-empty list"),
    ({"files": [3]}, "files[0] must be an object"),
    ({"files": [{"size": -1}]}, "files[0].size"),
    ({"files": [{"size": "10"}]}, "files[0].size"),
    ({"files": [{"size": True}]}, "files[0].size"),
    ({"files": [{"size": 0}]}, "empty file"),
    ({"files": [{"size": 1}, {"filename": 5}]}, "files[1].filename"),
    ({"files": [{"size": 1, "public": "yes"}]}, "files[0].public"),
    ({"files": [{"size": 1}], "category": 3}, "category"),
]


@pytest.mark.parametrize(("body", "detail"), BAD_CREATES)
def test_bad_create_requests_register_nothing(
    http: httpx2.Client, local_emu: Emulator, body: Any, detail: str
) -> None:
    before = states(local_emu)
    problem = assert_problem(http.post("/files", json=body), 400, "invalid_request")
    assert detail in problem["detail"]
    assert states(local_emu) == before


def test_an_upload_url_is_single_use(http: httpx2.Client, local_emu: Emulator) -> None:
    file = upload(b"once", http=http)
    again = httpx2.put(file["upload_url"], content=b"twice")
    problem = assert_problem(again, 409, "upload_url_used")
    assert "single use" in problem["detail"]
    assert httpx2.get(file["uri"]).content == b"once"  # the first upload stands


def test_a_wrong_or_missing_token_is_refused(http: httpx2.Client, local_emu: Emulator) -> None:
    file = create(http, filename="t.bin", size=4)
    url = file["upload_url"]
    assert_problem(httpx2.put(url.split("?")[0], content=b"abcd"), 403, "forbidden")
    assert_problem(httpx2.put(url[:-2] + "xx", content=b"abcd"), 403, "forbidden")
    assert_problem(httpx2.put(url.replace(file["id"], "file_0000000000000000"), content=b"abcd"), 404, "not_found")  # fmt: skip
    assert file["id"] not in states(local_emu)[0]
    assert httpx2.put(url, content=b"abcd").status_code == 200  # the real URL still works


def test_an_expired_upload_url_is_refused_and_its_record_dropped(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    file = create(http, filename="late.bin", size=4)
    local_emu.clock.advance(local_emu.file_store.upload_url_ttl + 1)
    problem = assert_problem(httpx2.put(file["upload_url"], content=b"late"), 410, "upload_url_expired")  # fmt: skip
    assert "expired" in problem["detail"]
    # An abandoned upload leaves nothing behind.
    assert file["id"] not in states(local_emu)[1]
    assert_problem(http.get(f"/files/{file['id']}"), 404, "not_found")
    assert partial_files(local_emu) == []


def test_an_upload_over_the_limit_stores_nothing(
    http: httpx2.Client, local_emu: Emulator, limit: Callable[[int], None]
) -> None:
    limit(1024)
    file = create(http, filename="big.bin", size=2048)
    response = httpx2.put(file["upload_url"], content=b"y" * 2048)
    problem = assert_problem(response, 413, "payload_too_large")
    assert "1024" in problem["detail"]
    assert file["id"] not in states(local_emu)[0]
    assert partial_files(local_emu) == []
    # The URL is not used up: with a larger limit the same upload goes through.
    limit(4096)
    assert httpx2.put(file["upload_url"], content=b"y" * 2048).status_code == 200
    assert local_emu.file_path(file["id"]).stat().st_size == 2048


def test_a_streamed_upload_over_the_limit_is_cut_off(
    http: httpx2.Client, local_emu: Emulator, limit: Callable[[int], None]
) -> None:
    limit(100_000)
    file = create(http, filename="stream.bin")  # no size declared, no Content-Length sent

    def body() -> Iterator[bytes]:
        for _ in range(50):
            yield b"z" * 10_000

    try:
        response = httpx2.put(file["upload_url"], content=body())
    except httpx2.TransportError:
        pass  # the server may close before the client finished sending; either is fine
    else:
        assert_problem(response, 413, "payload_too_large")
    local_emu.wait_until(lambda: partial_files(local_emu) == [])
    assert file["id"] not in states(local_emu)[0]


@pytest.mark.parametrize("declared", [10, 3])
def test_a_body_of_another_size_than_declared_is_refused(
    http: httpx2.Client, local_emu: Emulator, declared: int
) -> None:
    file = create(http, filename="size.bin", size=declared)
    problem = assert_problem(httpx2.put(file["upload_url"], content=b"12345"), 400, "size_mismatch")
    assert str(declared) in problem["detail"]

    def chunked() -> Iterator[bytes]:
        yield b"12345"

    # Without Content-Length the count is checked at the end.
    assert_problem(httpx2.put(file["upload_url"], content=chunked()), 400, "size_mismatch")
    assert file["id"] not in states(local_emu)[0]
    assert partial_files(local_emu) == []


def test_an_empty_upload_is_refused(http: httpx2.Client, local_emu: Emulator) -> None:
    file = create(http, filename="empty.bin")
    assert_problem(httpx2.put(file["upload_url"], content=b""), 400, "empty_upload")
    assert file["id"] not in states(local_emu)[0]


def raw_put(server: RunningServer, url: str, length: int, body: bytes) -> socket.socket:
    """A PUT whose body stops short: headers promise `length` bytes, `body` is sent."""
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port
    assert host is not None and port is not None
    sock = socket.create_connection((host, port))
    head = (
        f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def test_an_interrupted_upload_leaves_nothing_and_can_be_retried(
    http: httpx2.Client, local_emu: Emulator, local_server: RunningServer
) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    file = create(http, filename="cut.bin", size=len(data))
    sock = raw_put(local_server, file["upload_url"], len(data), data[:300_000])
    # While it is in progress a second PUT of the same URL is refused.
    local_emu.wait_until(lambda: partial_files(local_emu) != [])
    assert_problem(httpx2.put(file["upload_url"], content=data), 409, "upload_in_progress")
    sock.close()  # the connection drops mid-body
    # The partial file goes in the same step that makes the URL usable again.
    local_emu.wait_until(lambda: partial_files(local_emu) == [])
    assert file["id"] not in states(local_emu)[0]  # not listed as complete
    assert_problem(httpx2.get(file["uri"]), 404, "not_found")
    assert httpx2.put(file["upload_url"], content=data).status_code == 200
    assert hashlib.sha256(httpx2.get(file["uri"]).content).digest() == hashlib.sha256(data).digest()


def test_a_file_deleted_during_its_upload_is_not_stored(
    http: httpx2.Client, local_emu: Emulator, local_server: RunningServer
) -> None:
    file = create(http, filename="doomed.bin", size=10)
    sock = raw_put(local_server, file["upload_url"], 10, b"12345")
    try:
        local_emu.wait_until(lambda: partial_files(local_emu) != [])
        assert http.delete(f"/files/{file['id']}").status_code == 200
        sock.sendall(b"67890")
        reply = b""
        while not reply.endswith(b"}"):  # the whole problem+json answer
            chunk = sock.recv(4096)
            assert chunk, reply
            reply += chunk
    finally:
        sock.close()
    assert reply.startswith(b"HTTP/1.1 404")
    assert b"was deleted during its upload" in reply
    local_emu.wait_until(lambda: partial_files(local_emu) == [])
    assert file["id"] not in states(local_emu)[1]


def test_unknown_files(http: httpx2.Client, local_server: RunningServer) -> None:
    missing = "file_0123456789abcdef"
    assert_problem(http.get(f"/files/{missing}"), 404, "not_found")
    assert_problem(http.delete(f"/files/{missing}"), 404, "not_found")
    assert_problem(httpx2.get(local_server.url(f"/_files/{missing}/x.bin")), 404, "not_found")
    assert_problem(httpx2.put(local_server.url(f"/_uploads/{missing}?token=x"), content=b"1"), 404, "not_found")  # fmt: skip


# -- files and apps ---------------------------------------------------------------------------


def test_apps_get_uploaded_files_as_local_paths(http: httpx2.Client, local_emu: Emulator) -> None:
    first = upload(b"abc", "in.txt", http)
    other = upload(PNG, "dot.png", http)
    task = local_emu.wait_for_task(
        run(http, "infsh/file-info", {"file": first["uri"], "others": [other["uri"]]})["id"]
    )
    assert task["status"] == 10, task.get("error")
    assert task["output"] == {
        "file": {"size": 3, "sha256": hashlib.sha256(b"abc").hexdigest(), "name": "in.txt"},
        "others": [{"size": len(PNG), "sha256": hashlib.sha256(PNG).hexdigest()}],
    }
    assert task["input"]["file"] == first["uri"]  # the task keeps what the client sent
    # infsh/echo returns its input as sent: uris stay uris.
    echoed = local_emu.wait_for_task(run(http, "infsh/echo", {"f": first["uri"]})["id"])
    assert echoed["output"] == {"f": first["uri"]}


def test_a_uri_without_a_stored_file_is_an_input_error(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    gone = upload(b"soon gone", http=http)
    http.delete(f"/files/{gone['id']}")
    pending = create(http, filename="never.bin", size=3)
    fine = upload(b"ok", http=http)
    before = len(local_emu.tasks())
    for input, where in (
        ({"file": gone["uri"]}, "input.file"),
        ({"file": fine["uri"], "others": [pending["uri"]]}, "input.others.0"),
    ):
        body = {"app": "infsh/file-info", "input": input}
        problem = assert_problem(http.post("/apps/run", json=body), 422, "validation_error")
        assert where in problem["detail"] and "not available" in problem["detail"]
        assert problem["invalid_params"][0]["name"] == where
    assert len(local_emu.tasks()) == before
    # A uri of another host is not this emulator's business: it stays a string.
    uri = str(gone["uri"])
    elsewhere = {"file": uri.replace(urlsplit(uri).netloc, "example.com")}
    task = local_emu.wait_for_task(run(http, "infsh/file-info", elsewhere)["id"])
    assert task["status"] == 11 and "no such file" in task["error"]


class FileApps(BaseModel):
    what: str


@pytest.fixture(scope="module")
def file_apps(local_emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("outputs")

    class Report(BaseModel):
        path: Path
        note: str

    @local_emu.app("test/files-out")
    def files_out(ctx: AppContext, input: FileApps) -> Any:
        made = folder / f"{ctx.task_id}.txt"
        made.write_text("made by the app")
        if input.what == "path":
            return {"file": made, "list": [made, LocalFile(b"{}", filename="a.json")]}
        if input.what == "model":
            return Report(path=made, note="n")
        if input.what == "missing":
            return {"ok": LocalFile(b"x", filename="ok.bin"), "bad": folder / "missing.txt"}
        if input.what == "directory":
            return {"bad": folder}
        return {"nothing": True}

    @local_emu.app("test/file-object")
    def file_object(ctx: AppContext, input: dict[str, Any]) -> Any:
        path = Path(input["image"]["path"])
        return {"uri": input["image"]["uri"], "read": path.read_bytes().decode()}

    return folder


def test_apps_return_paths_and_local_files(
    http: httpx2.Client, local_emu: Emulator, file_apps: Path
) -> None:
    task = local_emu.wait_for_task(run(http, "test/files-out", {"what": "path"})["id"])
    assert task["status"] == 10, task.get("error")
    out = task["output"]
    assert set(out["file"]) == {"uri", "filename", "content_type", "size"}
    assert (out["file"]["filename"], out["file"]["content_type"], out["file"]["size"]) == (
        f"{task['id']}.txt",
        "text/plain",
        15,
    )
    assert httpx2.get(out["file"]["uri"]).content == b"made by the app"
    assert out["list"][1]["filename"] == "a.json"
    assert out["list"][1]["content_type"] == "application/json"
    assert httpx2.get(out["list"][1]["uri"]).content == b"{}"
    statuses = [e["status"] for e in task["events"]]
    assert statuses[-3:] == [7, 9, 10]  # uploading while the files were stored
    # The app's own file can go: the emulator keeps a copy.
    (file_apps / f"{task['id']}.txt").unlink()
    assert httpx2.get(out["file"]["uri"]).content == b"made by the app"

    plain = local_emu.wait_for_task(run(http, "test/files-out", {"what": "none"})["id"])
    assert 9 not in [e["status"] for e in plain["events"]]

    model = local_emu.wait_for_task(run(http, "test/files-out", {"what": "model"})["id"])
    assert model["output"]["note"] == "n"
    assert httpx2.get(model["output"]["path"]["uri"]).content == b"made by the app"


@pytest.mark.parametrize(
    ("what", "error"), [("missing", "missing.txt"), ("directory", "directory")]
)
def test_an_output_file_that_cannot_be_stored_fails_the_task_cleanly(
    http: httpx2.Client, local_emu: Emulator, file_apps: Path, what: str, error: str
) -> None:
    before = states(local_emu)
    task = local_emu.wait_for_task(run(http, "test/files-out", {"what": what})["id"])
    assert task["status"] == 11
    assert "cannot be stored" in task["error"] and error in task["error"]
    assert task["output"] is None
    assert states(local_emu) == before  # the files stored before the bad one were removed


def test_deleting_a_task_with_files_deletes_its_output_files(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    kept = local_emu.wait_for_task(run(http, "infsh/draw-image", {"width": 4, "height": 4})["id"])
    gone = local_emu.wait_for_task(run(http, "infsh/draw-image", {"width": 4, "height": 4})["id"])
    http.delete(f"/tasks/{kept['id']}")
    http.delete(f"/tasks/{gone['id']}?files=true")
    assert httpx2.get(kept["output"]["image"]["uri"]).status_code == 200
    assert_problem(httpx2.get(gone["output"]["image"]["uri"]), 404, "not_found")


def test_file_objects_in_input_get_their_path(
    http: httpx2.Client, local_emu: Emulator, file_apps: Path
) -> None:
    file = upload(b"object", "o.txt", http)
    ref = {"uri": file["uri"], "filename": "o.txt", "content_type": "text/plain"}
    task = local_emu.wait_for_task(run(http, "test/file-object", {"image": ref})["id"])
    assert task["output"] == {"uri": file["uri"], "read": "object"}
    assert task["input"] == {"image": ref}


# -- the data directory -----------------------------------------------------------------------


def test_a_temporary_data_directory_goes_with_close() -> None:
    emu = Emulator(api_key=None)
    with running(emu) as server:
        client = httpx2.Client(base_url=server.base_url)
        with client:
            file = create(client, filename="t.txt", size=2)
            assert httpx2.put(file["upload_url"], content=b"hi").status_code == 200
        data_dir = emu.data_dir
        assert emu.file_path(file["id"]).is_relative_to(data_dir)
    emu.close()
    assert not data_dir.exists()
    assert emu.files() == []


def test_a_given_data_directory_is_used_and_kept(tmp_path: Path) -> None:
    emu = Emulator(api_key=None, data_dir=tmp_path / "data")
    with running(emu) as server, httpx2.Client(base_url=server.base_url) as client:
        file = create(client, filename="k.txt", size=4)
        assert httpx2.put(file["upload_url"], content=b"kept").status_code == 200
        path = emu.file_path(file["id"])
    emu.close()
    assert path.is_relative_to(tmp_path / "data") and path.read_bytes() == b"kept"


def test_stored_names_are_safe(http: httpx2.Client, local_emu: Emulator) -> None:
    for name, disk in (("../../etc/passwd", "passwd"), ("..", "upload"), ("a\\b.txt", "b.txt")):
        file = create(http, filename=name, size=1)
        assert httpx2.put(file["upload_url"], content=b"x").status_code == 200
        path = local_emu.file_path(file["id"])
        assert path.name == disk and path.is_relative_to(local_emu.data_dir / "files")
        assert file["filename"] == name  # what the client called it
