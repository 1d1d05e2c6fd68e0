"""The sans-IO part of files: where upload bytes come from, the requests, auto-upload of inputs."""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from inferencesh._config import ClientOptions
from inferencesh._protocol import autoupload as inputs
from inferencesh._protocol import files as api
from inferencesh._protocol import outputs
from inferencesh.errors import FileInputError, FileNameError, InvalidInputError, MissingFileError
from inferencesh.models.file import File, FileRef

OPTS = ClientOptions(api_key="sk-secret", base_url="https://api.inference.sh")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 16


# -- sniffing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (PNG[:16], "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF87a\x01\x00", "image/gif"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"ID3\x04\x00\x00", "audio/mpeg"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"fLaC\x00\x00\x00\x22", "audio/flac"),
        (b"\x00\x00\x00\x20ftypisom", "video/mp4"),
        (b"\x1aE\xdf\xa3\x9fB\x86\x81", "video/webm"),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", "audio/wav"),
        (b"RIFF\x24\x08\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
def test_each_magic_number_tells_its_type(head: bytes, media_type: str) -> None:
    assert api.sniff(head) == media_type


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x89PNG",  # too short to be sure
        b"RIFF\x24\x08\x00\x00AVI LIST",  # a RIFF, but neither WAVE nor WEBP
        b"ftyp\x00\x00\x00\x00",  # ftyp must sit at offset 4
        b"hello, world",
    ],
)
def test_other_bytes_tell_nothing(head: bytes) -> None:
    assert api.sniff(head) is None


# -- paths ---------------------------------------------------------------------------------


def test_a_path_is_described_without_reading_it_all(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_bytes(b"x" * 5000)
    for given in (src, str(src)):
        source = api.source_of(given)
        assert (source.filename, source.content_type, source.size) == (
            "notes.txt",
            "text/plain",
            5000,
        )
        assert source.path == src and source.data is None and source.fileobj is None


def test_the_content_type_is_given_else_named_else_sniffed_else_octet_stream(
    tmp_path: Path,
) -> None:
    image = tmp_path / "image"  # no extension: the first bytes tell
    image.write_bytes(PNG)
    assert api.source_of(image).content_type == "image/png"
    assert api.source_of(image, filename="dot.gif").content_type == "image/gif"
    assert api.source_of(image, filename="dot.gif").filename == "dot.gif"
    assert api.source_of(image, content_type="x/y").content_type == "x/y"
    blob = tmp_path / "blob"
    blob.write_bytes(b"\x00\x01\x02")
    assert api.source_of(blob).content_type == "application/octet-stream"


def test_a_missing_path_is_a_missing_file_error(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="no such file") as info:
        api.source_of(tmp_path / "missing.png")
    assert isinstance(info.value, FileNotFoundError)


def test_a_path_under_a_file_cannot_be_read(tmp_path: Path) -> None:
    parent = tmp_path / "plain.txt"
    parent.write_bytes(b"x")
    with pytest.raises(FileInputError, match="cannot read .*Not a directory") as info:
        api.source_of(parent / "child.txt")
    assert not isinstance(info.value, MissingFileError)


def test_a_fifo_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # Opening a FIFO for reading would block until a writer came: it must never be opened.
    with pytest.raises(FileInputError, match="not a regular file"):
        api.source_of(fifo)


def test_a_directory_and_an_empty_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileInputError, match="is a directory"):
        api.source_of(tmp_path)
    (tmp_path / "empty.bin").write_bytes(b"")
    with pytest.raises(FileInputError, match="is empty"):
        api.source_of(tmp_path / "empty.bin")


def test_an_unreadable_file_is_refused_before_anything_is_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests may run as root, which reads a chmod 000 file anyway: refuse the open instead.
    src = tmp_path / "secret.txt"
    src.write_bytes(b"top secret")

    def denied(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(FileInputError, match="cannot read .*secret.txt: Permission denied"):
        api.source_of(src)


# -- bytes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_bytes_like_values_are_copied_and_sniffed(kind: Any) -> None:
    raw = bytearray(PNG)
    source = api.source_of(kind(raw))
    raw[0:4] = b"XXXX"  # the caller's buffer may change afterwards: the source keeps a copy
    assert source.data == PNG and source.size == len(PNG)
    assert (source.filename, source.content_type) == ("upload", "image/png")


def test_a_file_name_beats_the_first_bytes_for_bytes() -> None:
    source = api.source_of(PNG, filename="notes.txt")
    assert (source.filename, source.content_type) == ("notes.txt", "text/plain")


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(FileInputError, match="empty bytes"):
        api.source_of(b"")


@pytest.mark.parametrize("value", [42, None, {"a": 1}, 1.5])
def test_other_types_cannot_be_uploaded(value: object) -> None:
    with pytest.raises(FileInputError, match=f"cannot upload a {type(value).__name__}"):
        api.source_of(value)


# -- file objects --------------------------------------------------------------------------


def test_a_binary_file_is_read_from_where_it_stands(tmp_path: Path) -> None:
    src = tmp_path / "clip.bin"
    src.write_bytes(b"skip" + PNG)
    with src.open("rb") as f:
        f.seek(4)
        source = api.source_of(f)
        assert f.tell() == 4  # sniffing the head does not move the file
        assert (source.filename, source.size, source.content_type) == (
            "clip.bin",
            len(PNG),
            "application/octet-stream",  # the name is known but says nothing
        )
        assert b"".join(api.read_chunks(source, chunk_size=7)) == PNG


def test_a_nameless_file_object_is_sniffed() -> None:
    source = api.source_of(io.BytesIO(PNG))
    assert (source.filename, source.content_type, source.size) == ("upload", "image/png", len(PNG))


def test_a_file_opened_in_text_mode_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("hello")
    with src.open("r") as f, pytest.raises(FileInputError, match="text mode; open it with 'rb'"):
        api.source_of(f)
    with pytest.raises(FileInputError, match="returns text"):
        api.source_of(io.StringIO("hello"))


def test_a_pipe_is_not_seekable(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"data")
    os.close(write_end)
    with open(read_end, "rb") as f, pytest.raises(FileInputError, match="must be seekable"):
        api.source_of(f)


def test_a_reader_without_seek_is_a_file_input_error() -> None:
    # A `read()`-only object (a socket reader, a generator wrapper) is a file object that
    # cannot be uploaded: the documented error is FileInputError, like any other bad source.
    class Reader:
        def read(self, n: int = -1) -> bytes:
            return b"data"

    with pytest.raises(FileInputError, match="seekable"):
        api.source_of(Reader())


def test_an_empty_or_exhausted_file_object_is_refused() -> None:
    with pytest.raises(FileInputError, match="upload is empty"):
        api.source_of(io.BytesIO(b""))
    done = io.BytesIO(b"abc")
    done.read()
    with pytest.raises(FileInputError, match="is empty"):
        api.source_of(done)


def test_a_file_object_is_read_no_further_than_its_size_and_stops_when_short() -> None:
    f = io.BytesIO(b"0123456789")
    source = api.source_of(f)
    f.seek(0, os.SEEK_END)
    f.write(b"tail")  # grows after it was described: only the described size is sent
    f.seek(0)
    assert list(api.read_chunks(source, chunk_size=4)) == [b"0123", b"4567", b"89"]
    short = io.BytesIO(b"0123456789")
    source = api.source_of(short)
    short.truncate(5)
    short.seek(0)
    assert list(api.read_chunks(source, chunk_size=4)) == [b"0123", b"4"]


def test_chunks_of_bytes_and_paths_cover_everything_once(tmp_path: Path) -> None:
    data = bytes(range(256)) * 10
    assert b"".join(api.read_chunks(api.source_of(data), chunk_size=1000)) == data
    assert [len(c) for c in api.read_chunks(api.source_of(data), chunk_size=1000)] == [
        1000,
        1000,
        560,
    ]
    src = tmp_path / "data.bin"
    src.write_bytes(data)
    assert [len(c) for c in api.read_chunks(api.source_of(src), chunk_size=1024)] == [
        1024,
        1024,
        512,
    ]


# -- data URIs -----------------------------------------------------------------------------


def test_a_base64_data_uri() -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    source = api.source_of(uri)
    assert source.data == PNG
    assert (source.filename, source.content_type, source.size) == (
        "upload.png",
        "image/png",
        len(PNG),
    )


def test_url_safe_base64_without_padding_is_accepted() -> None:
    data = b"\xfb\xff\xfe>?"  # encodes with both '-' and '_' in the URL-safe alphabet
    encoded = base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert "-" in encoded and "_" in encoded
    assert api.source_of("data:application/octet-stream;base64," + encoded).data == data


def test_a_url_encoded_data_uri_is_unquoted_not_base64_decoded() -> None:
    source = api.source_of("data:text/plain,hello%20world%21")
    assert source.data == b"hello world!"
    assert (source.filename, source.content_type) == ("upload.txt", "text/plain")


def test_parameters_and_case_do_not_matter() -> None:
    source = api.source_of("DATA:text/plain;charset=utf-8;BASE64,aGk=")
    assert source.data == b"hi" and source.content_type == "text/plain"
    assert api.source_of("data:text/plain;charset=utf-8,hi").data == b"hi"


def test_given_names_and_types_beat_the_uri() -> None:
    source = api.source_of(
        "data:text/plain;base64,aGk=", filename="greeting.md", content_type="text/markdown"
    )
    assert (source.filename, source.content_type) == ("greeting.md", "text/markdown")
    typed = api.source_of("data:text/plain;base64,aGk=", content_type="image/png")
    assert (typed.filename, typed.content_type) == ("upload.png", "image/png")


def test_a_data_uri_without_a_type_is_sniffed() -> None:
    source = api.source_of("data:;base64," + base64.b64encode(PNG).decode())
    assert (source.filename, source.content_type) == ("upload.png", "image/png")


def test_a_data_uri_without_a_type_is_text_as_rfc_2397_says() -> None:
    # RFC 2397: "If <mediatype> is omitted, it defaults to text/plain;charset=US-ASCII".
    source = api.source_of("data:,hello")
    assert source.data == b"hello"
    assert source.content_type == "text/plain"


@pytest.mark.parametrize("uri", ["data:,", "data:text/plain;base64,", "data:text/plain,"])
def test_an_empty_data_uri_is_refused(uri: str) -> None:
    with pytest.raises(FileInputError, match="holds no data"):
        api.source_of(uri)


@pytest.mark.parametrize("payload", ["@@@@", "a", "aGk=aGk="])
def test_invalid_base64_is_refused(payload: str) -> None:
    with pytest.raises(FileInputError, match="base64 is invalid"):
        api.source_of("data:text/plain;base64," + payload)


def test_a_data_uri_needs_a_comma() -> None:
    with pytest.raises(FileInputError, match="not a data URI"):
        api.source_of("data:text/plain;base64")


def test_decode_data_uri_gives_the_bytes() -> None:
    assert api.decode_data_uri("data:text/plain;base64,aGk=") == b"hi"
    with pytest.raises(FileInputError):
        api.decode_data_uri("data:nothing")


# -- requests ------------------------------------------------------------------------------


def test_the_create_request_registers_one_file_and_is_never_retried() -> None:
    source = api.source_of(PNG, filename="dot.png")
    call = api.create_request(OPTS, source)
    assert (call.request.method, call.request.url.path) == ("POST", "/files")
    assert json.loads(call.request.content) == {
        "files": [{"uri": "", "filename": "dot.png", "content_type": "image/png", "size": len(PNG)}]
    }
    assert call.idempotent is False
    public = api.create_request(OPTS, source, public=False)
    assert json.loads(public.request.content)["files"][0]["public"] is False


def test_parse_created_takes_the_first_record_and_its_upload_url() -> None:
    answer = [{"id": "f1", "uri": "https://files/f1", "upload_url": "https://up/f1"}]
    record, url = api.parse_created(answer)
    assert url == "https://up/f1" and record["id"] == "f1"
    record.pop("upload_url")
    assert "upload_url" in answer[0]  # the record is a copy
    assert api.parse_created({"id": "f2", "upload_url": "https://up/f2"})[1] == "https://up/f2"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([], "expected a list of files"),
        (None, "expected a list of files, got NoneType"),
        ("f1", "expected a list of files, got str"),
        ([["f1"]], "expected a list of files"),
        ([{"id": "f1"}], "no upload URL"),
        ([{"id": "f1", "upload_url": ""}], "no upload URL"),
        ([{"id": "f1", "upload_url": 7}], "no upload URL"),
    ],
)
def test_parse_created_refuses_answers_without_an_upload_url(data: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        api.parse_created(data)


def test_the_put_carries_the_bytes_without_the_key() -> None:
    source = api.source_of(PNG, filename="dot.png")
    request = api.put_request("https://up.test/u/1?token=t", source, PNG, OPTS)
    assert request.method == "PUT" and str(request.url) == "https://up.test/u/1?token=t"
    assert request.headers["content-type"] == "image/png"
    assert request.headers["content-length"] == str(len(PNG))
    assert "authorization" not in request.headers
    assert request.extensions["timeout"] == OPTS.timeout.as_dict()


def test_delete_escapes_the_id() -> None:
    call = api.delete_request(OPTS, "../tasks/x")
    assert call.request.method == "DELETE"
    assert call.request.url.raw_path == b"/files/..%2Ftasks%2Fx"
    assert call.idempotent is True


@pytest.mark.parametrize(
    ("uri", "keyed"),
    [
        ("https://api.inference.sh/files/f1/content", True),
        ("https://cdn.example.com/f1.png", False),
        ("https://api.inference.sh.evil.example/steal", False),  # a prefix, not the host
        ("https://api.inference.sh", False),
    ],
)
def test_the_key_goes_only_to_the_apis_own_host(uri: str, keyed: bool) -> None:
    call = api.download_request(OPTS, uri)
    assert ("authorization" in call.request.headers) is keyed
    if keyed:
        assert call.request.headers["authorization"] == "Bearer sk-secret"
    assert call.request.method == "GET" and call.idempotent is True
    assert call.max_retries == OPTS.max_retries


def test_without_a_key_no_authorization_is_sent() -> None:
    opts = ClientOptions(proxy_url="https://myapp.test/proxy")
    call = api.download_request(opts, opts.base_url + "/files/f1")
    assert "authorization" not in call.request.headers


def test_download_target(tmp_path: Path) -> None:
    assert api.download_target(tmp_path, "a.png") == tmp_path / "a.png"
    assert api.download_target(str(tmp_path), "a.png") == tmp_path / "a.png"
    new_dir = str(tmp_path / "new") + os.sep
    assert api.download_target(new_dir, "a.png") == tmp_path / "new" / "a.png"
    assert api.download_target(str(tmp_path / "new") + "/", "a.png") == tmp_path / "new" / "a.png"
    assert api.download_target(tmp_path / "b.png", "a.png") == tmp_path / "b.png"
    existing = tmp_path / "c.png"
    existing.write_bytes(b"old")
    assert api.download_target(existing, "a.png") == existing
    assert not (tmp_path / "new").exists()  # deciding where is not creating


# -- automatic upload of inputs ------------------------------------------------------------


def test_what_is_uploadable(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"abc")
    assert inputs.is_uploadable(src)
    assert not inputs.is_uploadable(str(src))  # a plain str is never read from disk
    assert not inputs.is_uploadable("/etc/passwd")
    assert inputs.is_uploadable(tmp_path / "missing")  # a Path is always meant as a file
    assert inputs.is_uploadable("data:text/plain,hi") and inputs.is_uploadable("DATA:,x")
    assert inputs.is_uploadable(b"x") and inputs.is_uploadable(bytearray(b"x"))
    assert inputs.is_uploadable(memoryview(b"x")) and inputs.is_uploadable(io.BytesIO(b"x"))
    assert not inputs.is_uploadable(str(tmp_path))  # a directory
    assert not inputs.is_uploadable(str(tmp_path / "missing"))
    assert not inputs.is_uploadable("")
    assert not inputs.is_uploadable(str(src) + "\n")
    assert not inputs.is_uploadable("aGVsbG8gd29ybGQ=" * 300)  # long, base64-looking text
    assert not inputs.is_uploadable(42) and not inputs.is_uploadable(None)

    class ReadOnly:
        def read(self) -> bytes:
            return b""

    assert not inputs.is_uploadable(ReadOnly())


def test_uploads_are_found_in_nested_dicts_lists_and_tuples(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"abc")
    ref = FileRef(uri="https://files/done.png")
    value = {
        "image": src,
        "refs": (ref, b"raw"),
        "deep": [{"x": [1, "text", "data:,hi"]}],
        7: src,
        "path_as_text": str(src),  # text, even naming a file: never uploaded
        "n": None,
    }
    found = inputs.find_uploads(value)
    assert found == [
        (("image",), src),
        (("refs", 1), b"raw"),
        (("deep", 0, "x", 2), "data:,hi"),
        (("7",), src),
    ]
    assert [inputs.describe(at) for at, _ in found] == [
        "input.image",
        "input.refs[1]",
        "input.deep[0].x[2]",
        "input.7",
    ]
    assert inputs.describe(()) == "input"


def test_substitute_puts_the_uris_in_a_copy(tmp_path: Path) -> None:
    ref = File(uri="https://files/done.png", filename="done.png")
    value = {"image": b"raw", "refs": (ref, b"more"), "deep": [{"x": [1, "keep"]}], 7: b"seven"}
    uris = {("image",): "u1", ("refs", 1): "u2", ("7",): "u3"}
    result = inputs.substitute(value, uris)
    assert result == {
        "image": "u1",
        "refs": ["https://files/done.png", "u2"],  # a FileRef becomes its uri
        "deep": [{"x": [1, "keep"]}],
        7: "u3",
    }
    assert value["image"] == b"raw" and value["refs"] == (ref, b"more")  # untouched
    assert result["deep"] is not value["deep"]


def test_a_top_level_upload_is_replaced_whole() -> None:
    assert inputs.find_uploads(b"raw") == [((), b"raw")]
    assert inputs.substitute(b"raw", {(): "u"}) == "u"
    assert inputs.find_uploads("plain text") == []
    assert inputs.substitute("plain text", {}) == "plain text"


# -- files in outputs ----------------------------------------------------------------------


def test_output_files_are_recognised_by_a_uri_and_one_file_field() -> None:
    assert outputs.looks_like_file({"uri": "https://f/1", "content_type": "image/png"})
    assert outputs.looks_like_file({"uri": "https://f/1", "path": "/data/1"})
    assert not outputs.looks_like_file({"uri": "https://example.com"})  # a link, not a file
    assert not outputs.looks_like_file({"uri": "", "size": 1})
    assert not outputs.looks_like_file({"uri": 5, "size": 1})
    assert not outputs.looks_like_file(["https://f/1"])


def test_bind_files_replaces_only_file_values_in_a_copy() -> None:
    image = {"uri": "https://f/1", "filename": "a.png"}
    value = {"image": image, "more": [image, {"uri": "https://link"}], "n": 1}
    bound = outputs.bind_files(value, lambda d: ("file", d["uri"]))
    assert bound == {
        "image": ("file", "https://f/1"),
        "more": [("file", "https://f/1"), {"uri": "https://link"}],
        "n": 1,
    }
    assert value["image"] is image and value["more"][0] is image  # the input is untouched
    assert outputs.bind_files(image, lambda d: "top") == "top"


def test_a_write_only_file_object_says_so(tmp_path: Path) -> None:
    with (tmp_path / "out.bin").open("wb") as f:
        f.write(b"x")
        with pytest.raises(FileInputError, match="not open for reading"):
            api.source_of(f)


# -- server names, rewindable uploads, inputs that cannot be walked ------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "names no file"),
        (".", "names no file"),
        ("..", "names no file"),
        ("a/b", "path separator"),
        ("a\\b", "path separator"),
        ("a\x00b", "control character"),
        ("tab\there", "control character"),
        ("del\x7f", "control character"),
        ("\udc80.png", "not valid Unicode"),
        ("x" * 256, "256 bytes long"),
        ("\u00e9" * 128, "256 bytes long"),
    ],
)
def test_unusable_server_names_are_refused(tmp_path: Path, name: str, problem: str) -> None:
    with pytest.raises(FileNameError, match=problem) as info:
        api.download_target(tmp_path, name)
    assert info.value.name == name
    assert list(tmp_path.iterdir()) == []


def test_usable_names_and_the_partial_file_beside_the_target(tmp_path: Path) -> None:
    long = "\u00e9" * 127 + "x"  # 255 bytes: allowed
    target = api.download_target(tmp_path, long)
    assert target == tmp_path / long
    partial = api.partial_path(target)
    assert partial.parent == tmp_path and partial.name.startswith(".")
    assert len(partial.name.encode()) < 255 and partial != api.partial_path(target)
    # A file path as dest: the server's name is not used, so it is not checked.
    assert api.download_target(tmp_path / "mine.bin", "..") == tmp_path / "mine.bin"


def test_a_file_object_is_read_again_from_where_it_was_handed_in() -> None:
    data = io.BytesIO(b"headerPAYLOAD")
    data.seek(6)
    source = api.source_of(data)
    assert source.size == 7 and source.offset == 6
    assert b"".join(api.read_chunks(source, 3)) == b"PAYLOAD"
    assert b"".join(api.read_chunks(source, 3)) == b"PAYLOAD"  # a retry gets every byte again


def test_the_upload_put_is_a_rewindable_idempotent_call() -> None:
    opts = ClientOptions(api_key="k", base_url="http://api.test", max_retries=3)
    source = api.source_of(b"bytes", filename="a.bin")
    bodies: list[list[bytes]] = []

    def body() -> list[bytes]:
        bodies.append([b"by", b"tes"])
        return bodies[-1]

    call = api.put_call("http://up.test/u?token=t", source, body, opts)
    assert call.idempotent and call.max_retries == 3 and call.rewind is not None
    assert call.request.method == "PUT" and "authorization" not in call.request.headers
    assert call.request.headers["content-length"] == "5"
    again = call.rewind()
    assert again is not call.request and len(bodies) == 2


def test_inputs_that_contain_themselves_or_nest_too_deep_are_refused() -> None:
    loop: dict[str, Any] = {}
    loop["again"] = [loop]
    with pytest.raises(InvalidInputError, match="circular") as info:
        inputs.find_uploads({"x": loop})
    assert info.value.path == "input.x.again[0]"
    deep: Any = b"file"
    for _ in range(inputs.MAX_NESTING + 1):
        deep = [deep]
    with pytest.raises(InvalidInputError, match="levels deep") as info:
        inputs.find_uploads(deep)
    assert info.value.path == "input[0][0][0][0][0][0]"
    # The same value twice, side by side, is not a cycle.
    shared = {"f": b"x"}
    assert [at for at, _ in inputs.find_uploads({"a": shared, "b": shared})] == [
        ("a", "f"),
        ("b", "f"),
    ]
