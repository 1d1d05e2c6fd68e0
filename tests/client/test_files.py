"""Files through the client against the emulator: uploads, downloads, auto-upload, bad input."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest

from inferencesh import (
    AsyncFile,
    File,
    FileInputError,
    MissingFileError,
    NotFoundError,
    UploadError,
)
from tests.conftest import Twin

pytestmark = [pytest.mark.anyio, pytest.mark.server]

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def is_png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG\r\n\x1a\n") and b"IHDR" in data[:32]


async def read(twin: Twin, file: File | AsyncFile) -> bytes:
    if isinstance(file, AsyncFile):
        return await file.read_bytes()
    return await twin("files.read_bytes", file)


async def test_upload_a_path_and_read_it_back(twin: Twin, tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_bytes(b"hello files" * 1000)
    file = await twin("files.upload", src)
    assert file.filename == "notes.txt" and file.content_type == "text/plain"
    assert file.size == src.stat().st_size and file.uri and file.id
    assert await read(twin, file) == src.read_bytes()
    assert (await twin("files.get", file.id)).uri == file.uri


async def test_upload_str_path_bytes_fileobj_and_data_uri(twin: Twin, tmp_path: Path) -> None:
    png = tmp_path / "dot.png"
    png.write_bytes(PNG_1x1)
    by_str = await twin("files.upload", str(png))
    by_bytes = await twin("files.upload", PNG_1x1, filename="dot.png")
    by_obj = await twin("files.upload", io.BytesIO(PNG_1x1), filename="dot.png")
    by_uri = await twin(
        "files.upload", "data:image/png;base64," + base64.b64encode(PNG_1x1).decode()
    )
    for file in (by_str, by_bytes, by_obj, by_uri):
        assert file.content_type == "image/png"
        assert await read(twin, file) == PNG_1x1
    sniffed = await twin("files.upload", PNG_1x1)  # no name: the first bytes tell the type
    assert sniffed.content_type == "image/png"
    unknown = await twin("files.upload", b"\x00\x01\x02")
    assert unknown.content_type == "application/octet-stream"


async def test_upload_reports_progress(twin: Twin, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(b"x" * (3 * 1024 * 1024 + 5))
    seen: list[tuple[int, int | None]] = []
    await twin("files.upload", src, on_progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (src.stat().st_size, src.stat().st_size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) >= 4


async def test_download_to_a_directory_and_to_a_path(twin: Twin, tmp_path: Path) -> None:
    file = await twin("files.upload", b"payload", filename="out.txt")
    into_dir = await twin("files.download", file, tmp_path)
    assert into_dir == tmp_path / "out.txt" and into_dir.read_bytes() == b"payload"
    named = await twin("files.download", file, tmp_path / "renamed.txt")
    assert named.read_bytes() == b"payload"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "renamed.txt"]


async def test_download_into_a_new_directory(twin: Twin, tmp_path: Path) -> None:
    file = await twin("files.upload", b"payload", filename="out.txt")
    written = await twin("files.download", file, str(tmp_path / "new" / "dir") + "/")
    assert written == tmp_path / "new" / "dir" / "out.txt" and written.read_bytes() == b"payload"
    nested = await twin("files.download", file, tmp_path / "a" / "b.txt")
    assert nested.read_bytes() == b"payload"


async def test_list_and_delete(twin: Twin) -> None:
    file = await twin("files.upload", b"to delete", filename="gone.txt")
    page = await twin("files.list", limit=100)
    assert file.id in [f.id for f in page.items]
    await twin("files.delete", file.id)
    with pytest.raises(NotFoundError):
        await twin("files.get", file.id)


async def test_bad_sources_fail_before_anything_is_registered(
    twin: Twin, tmp_path: Path, server: Any
) -> None:
    before = len(server.emulator.files())
    with pytest.raises(MissingFileError):
        await twin("files.upload", tmp_path / "missing.png")
    with pytest.raises(FileInputError, match="directory"):
        await twin("files.upload", tmp_path)
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(FileInputError, match="empty"):
        await twin("files.upload", tmp_path / "empty.txt")
    with pytest.raises(FileInputError, match="base64"):
        await twin("files.upload", "data:image/png;base64,@@@")
    with pytest.raises(FileInputError, match="cannot upload a int"):
        await twin("files.upload", 42)
    assert len(server.emulator.files()) == before


async def test_a_file_over_the_limit_leaves_nothing_behind(twin: Twin, server: Any) -> None:
    before = len(server.emulator.files())
    limit = server.emulator.max_upload_size
    server.emulator.max_upload_size = 1024
    try:
        with pytest.raises(UploadError):
            await twin("files.upload", b"y" * 2048, filename="big.bin")
    finally:
        server.emulator.max_upload_size = limit
    assert len(server.emulator.files()) == before


async def test_inputs_are_uploaded_and_apps_see_local_files(twin: Twin, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"abc")
    task = await twin(
        "run",
        "infsh/file-info",
        {"file": src, "others": [b"\x89PNG\r\n\x1a\nrest", "data:text/plain;base64,aGk="]},
    )
    assert task.output["file"]["size"] == 3 and task.output["file"]["sha256"]
    assert [o["size"] for o in task.output["others"]] == [12, 2]
    assert task.input["file"].startswith("http")  # the uri went over the wire, not the path


async def test_auto_upload_can_be_turned_off(twin: Twin, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"abc")
    task = await twin("run", "infsh/echo", {"text": str(src)}, auto_upload=False)
    assert task.output == {"text": str(src)}


async def test_plain_strings_are_never_uploaded(twin: Twin) -> None:
    base64ish = "ThisIsMyPrompt00" * 8
    task = await twin("run", "infsh/echo", {"text": base64ish})
    assert task.output == {"text": base64ish}


async def test_output_files_come_back_as_file_objects(twin: Twin, tmp_path: Path) -> None:
    task = await twin("run", "infsh/draw-image", {"width": 16, "height": 8})
    image = task.output["image"]
    assert isinstance(image, AsyncFile if twin.is_async else File)
    assert image.content_type == "image/png"
    if isinstance(image, AsyncFile):
        path = await image.download(tmp_path)
    else:
        path = await twin.run_sync(image.download, tmp_path)
    data = path.read_bytes()
    assert is_png(data)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (16, 8)
