"""Files: where upload bytes come from, and the requests of the two-step upload.

Step 1 `POST /files` registers the file and returns an `upload_url`; step 2 `PUT`s the bytes
there, streamed in chunks so memory stays flat for any size. No bytes are ever read to
guess a type beyond the first few (the "magic number").
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
import re
import stat
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import quote, unquote_to_bytes

import httpx2

from inferencesh._config import ClientOptions
from inferencesh._protocol.deadline import Deadline
from inferencesh._protocol.endpoints import ApiRequest, build, user_agent
from inferencesh.errors import FileInputError, FileNameError, MissingFileError

__all__ = [
    "CHUNK_SIZE",
    "UploadSource",
    "create_request",
    "parse_created",
    "put_request",
    "read_chunks",
    "source_of",
]

CHUNK_SIZE = 1024 * 1024
"""Bytes read and sent at a time: large enough for speed, small enough for flat memory."""

OCTET_STREAM = "application/octet-stream"
_DATA_URI = re.compile(r"^data:(?P<type>[^;,]*)(?P<params>(?:;[^;,]*)*?)(?P<b64>;base64)?,", re.I)

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"ID3", 0, "audio/mpeg"),
    (b"OggS", 0, "audio/ogg"),
    (b"fLaC", 0, "audio/flac"),
    (b"ftyp", 4, "video/mp4"),
    (b"\x1aE\xdf\xa3", 0, "video/webm"),
)


@dataclass(frozen=True, slots=True)
class UploadSource:
    """Bytes to upload: a path read in chunks, bytes in memory, or an open binary file."""

    filename: str
    content_type: str
    size: int
    path: Path | None = None
    data: bytes | None = None
    fileobj: IO[bytes] | None = None
    offset: int = 0
    """Where the upload starts in `fileobj`: its position when it was handed in."""


def sniff(head: bytes) -> str | None:
    """The media type told by the first bytes, when they tell one."""
    for magic, offset, media_type in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return media_type
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"WEBP"):
        return "audio/wav" if head[8:12] == b"WAVE" else "image/webp"
    return None


def _content_type(given: str | None, filename: str, head: bytes) -> str:
    if given:
        return given
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or sniff(head) or OCTET_STREAM


def source_of(
    src: object, *, filename: str | None = None, content_type: str | None = None
) -> UploadSource:
    """Describe what to upload: a path (`str` or `Path`), bytes, a binary file, a data URI.

    Raises:
        MissingFileError: the path does not exist.
        FileInputError: a directory, an unreadable or empty file, a text-mode file, a bad data
            URI, or a type that cannot be uploaded.
    """
    if isinstance(src, str) and src[:5].lower() == "data:":
        return _data_uri(src, filename=filename, content_type=content_type)
    if isinstance(src, str | os.PathLike):
        path = Path(cast("str | os.PathLike[str]", src))
        return _path(path, filename=filename, content_type=content_type)
    if isinstance(src, bytes | bytearray | memoryview):
        data = bytes(cast("bytes", src))
        if not data:
            raise FileInputError("cannot upload empty bytes")
        name = filename or "upload"
        return UploadSource(
            name, _content_type(content_type, name, data[:16]), len(data), data=data
        )
    if hasattr(src, "read"):
        return _fileobj(src, filename=filename, content_type=content_type)  # pyright: ignore[reportArgumentType]
    raise FileInputError(
        f"cannot upload a {type(src).__name__}: pass a path, bytes, a binary file or a data URI"
    )


def _path(path: Path, *, filename: str | None, content_type: str | None) -> UploadSource:
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise MissingFileError(f"no such file: {path}") from exc
    except OSError as exc:
        raise FileInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(info.st_mode):
        raise FileInputError(f"{path} is a directory; upload the files in it one by one")
    if not stat.S_ISREG(info.st_mode):
        raise FileInputError(f"{path} is not a regular file")
    if info.st_size == 0:
        raise FileInputError(f"{path} is empty; there is nothing to upload")
    try:
        # Opening it now also proves the file is readable before anything is registered.
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise FileInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    name = filename or path.name
    return UploadSource(name, _content_type(content_type, name, head), info.st_size, path=path)


def _fileobj(f: IO[Any], *, filename: str | None, content_type: str | None) -> UploadSource:
    mode = getattr(f, "mode", "rb")
    if isinstance(mode, str) and "b" not in mode and "r" in mode:
        raise FileInputError("the file is open in text mode; open it with 'rb'")
    readable = getattr(f, "readable", None)
    if callable(readable) and not readable():
        raise FileInputError("the file is not open for reading; open it with 'rb'")
    name = filename or Path(str(getattr(f, "name", "upload"))).name or "upload"
    try:
        start = f.tell()
        f.seek(0, os.SEEK_END)
        size = f.tell() - start
        f.seek(start)
        head = f.read(16)
        f.seek(start)
    except (OSError, ValueError, AttributeError) as exc:
        raise FileInputError(f"the file object must be seekable to be uploaded: {exc}") from exc
    if not isinstance(head, bytes):
        raise FileInputError("the file object returns text; open it in binary mode ('rb')")
    if size <= 0:
        raise FileInputError(f"{name} is empty; there is nothing to upload")
    return UploadSource(
        name, _content_type(content_type, name, head), size, fileobj=f, offset=start
    )


def _data_uri(uri: str, *, filename: str | None, content_type: str | None) -> UploadSource:
    match = _DATA_URI.match(uri)
    if match is None:
        raise FileInputError("not a data URI: expected 'data:[<type>][;base64],<data>'")
    payload = uri[match.end() :]
    try:
        if match.group("b64"):
            padded = payload + "=" * (-len(payload) % 4)
            data = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        else:
            data = unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise FileInputError(f"the data URI's base64 is invalid: {exc}") from exc
    if not data:
        raise FileInputError("the data URI holds no data")
    # RFC 2397: no media type means text/plain, unless the bytes themselves say otherwise.
    media = content_type or match.group("type") or sniff(data[:16]) or "text/plain"
    extension = mimetypes.guess_extension(media, strict=False) or ""
    name = filename or f"upload{extension}"
    return UploadSource(name, _content_type(media, name, data[:16]), len(data), data=data)


def read_chunks(source: UploadSource, chunk_size: int = CHUNK_SIZE) -> Generator[bytes]:
    """The source's bytes in chunks, from the start every time (a retry reads them again).

    A path is opened, read and closed here; a file object is first moved to where it was
    when handed in. Nothing happens before the first chunk is asked for, so the async client
    does all of it in a worker thread.
    """
    if source.data is not None:
        view = memoryview(source.data)
        for i in range(0, len(view), chunk_size):
            yield bytes(view[i : i + chunk_size])
        return
    if source.path is not None:
        with source.path.open("rb") as f:
            yield from iter(lambda: f.read(chunk_size), b"")
        return
    assert source.fileobj is not None
    source.fileobj.seek(source.offset)
    remaining = source.size
    while remaining > 0:
        chunk = source.fileobj.read(min(chunk_size, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        yield chunk


def create_request(
    opts: ClientOptions, source: UploadSource, *, public: bool | None = None
) -> ApiRequest:
    """Step 1: `POST /files` registering the file (not retried: it creates a record)."""
    entry: dict[str, Any] = {
        "uri": "",
        "filename": source.filename,
        "content_type": source.content_type,
        "size": source.size,
    }
    if public is not None:
        entry["public"] = public
    return build(opts, "POST", "/files", body={"files": [entry]}, idempotent=False)


def parse_created(data: object) -> tuple[dict[str, Any], str]:
    """The created file record and its upload URL, from the `POST /files` answer."""
    record: Any = data
    if isinstance(record, list):
        record = cast("list[Any]", record)[0] if record else None
    if not isinstance(record, Mapping):
        raise ValueError(f"expected a list of files, got {type(data).__name__}")
    file: dict[str, Any] = dict(cast("Mapping[str, Any]", record))
    url = file.get("upload_url")
    if not isinstance(url, str) or not url:
        raise ValueError("no upload URL provided by the server")
    return file, url


def put_request(
    url: str, source: UploadSource, content: Any, opts: ClientOptions
) -> httpx2.Request:
    """Step 2: the `PUT` of the bytes. No Authorization: the URL itself grants the upload."""
    return httpx2.Request(
        "PUT",
        url,
        headers={
            "content-type": source.content_type,
            "content-length": str(source.size),
            "user-agent": user_agent(),
        },
        content=content,
        extensions={"timeout": opts.timeout.as_dict()},
    )


def put_call(
    url: str,
    source: UploadSource,
    body: Callable[[], Any],
    opts: ClientOptions,
    deadline: Deadline | None = None,
) -> ApiRequest:
    """Step 2 as a call of the retry loop: `body()` makes a fresh pass over the bytes.

    A PUT of the same bytes to the same URL is idempotent, so it is retried like a read; each
    try streams the bytes again from the start.
    """

    def request() -> httpx2.Request:
        return put_request(url, source, body(), opts)

    return ApiRequest(
        request(), True, opts.max_retries, opts.max_retry_after, deadline, rewind=request
    )


def delete_request(opts: ClientOptions, file_id: str) -> ApiRequest:
    """`DELETE /files/{id}`."""
    return build(opts, "DELETE", f"/files/{quote(file_id, safe='')}")


def download_request(opts: ClientOptions, uri: str) -> ApiRequest:
    """`GET` of a file's bytes. The key goes only to the API's own host, never elsewhere."""
    headers = {"user-agent": user_agent()}
    if opts.api_key and uri.startswith(opts.base_url + "/"):
        headers["authorization"] = f"Bearer {opts.api_key}"
    request = httpx2.Request(
        "GET", uri, headers=headers, extensions={"timeout": opts.timeout.as_dict()}
    )
    return ApiRequest(request, True, opts.max_retries)


MAX_NAME_BYTES = 255
"""The longest file name (in UTF-8 bytes) common file systems accept."""


def download_target(dest: str | os.PathLike[str], name: str) -> Path:
    """Where a download goes.

    Into `dest` when it is a directory or ends with a separator (created if missing), under
    `name` (the server's); else `dest` itself, and `name` is not used.

    Raises:
        FileNameError: the server's name cannot be used: nothing may be written.
    """
    text = os.fspath(dest)
    target = Path(text)
    if text.endswith(("/", os.sep)) or target.is_dir():
        return target / safe_name(name)
    return target


def safe_name(name: str) -> str:
    """`name` if it names a file inside a directory and nothing else.

    Raises:
        FileNameError: empty, `.` or `..`, a path separator, a control character (NUL...),
            not valid Unicode, or longer than 255 bytes.
    """
    problem: str | None = None
    if name in ("", ".", ".."):
        problem = "it names no file"
    elif "/" in name or "\\" in name or os.sep in name:
        problem = "it holds a path separator"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        problem = "it holds a control character"
    else:
        try:
            size = len(name.encode())
        except UnicodeEncodeError:
            problem = "it is not valid Unicode"
        else:
            if size > MAX_NAME_BYTES:
                problem = f"it is {size} bytes long, more than {MAX_NAME_BYTES}"
    if problem is None:
        return name
    raise FileNameError(
        f"cannot save the file under the server's name {name[:80]!r}: {problem}; "
        "pass a file path as dest to choose the name",
        name=name,
    )


def partial_path(target: Path) -> Path:
    """The temporary file a download is written to, beside `target`, then renamed."""
    return target.with_name(f".{uuid.uuid4().hex[:16]}.download")


def decode_data_uri(uri: str) -> bytes:
    """The bytes of a `data:` URI (outputs may carry small files inline)."""
    source = _data_uri(uri, filename=None, content_type=None)
    assert source.data is not None
    return source.data
