"""Upload names: any name a client sends gives a file whose download URI works.

The name is kept as given in the FileDTO; on disk it becomes one path component of at most
255 bytes of UTF-8 (cut on a character boundary, the extension kept), with control
characters replaced. Nothing a name does may cause a 500 or leave an empty folder.
"""

from __future__ import annotations

import unicodedata

import httpx2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferencesh.local import AppContext, Emulator, LocalFile
from inferencesh.local.files._names import disk_name
from tests.local._support import run


def _upload(http: httpx2.Client, name: str, data: bytes) -> dict[str, object]:
    created = http.post("/files", json={"files": [{"filename": name, "size": len(data)}]})
    assert created.status_code == 200, created.text
    file = created.json()["data"][0]
    put = http.put(file["upload_url"], content=data)  # the key it sends is ignored there
    assert put.status_code == 200, put.text
    return file


def _assert_downloadable(
    http: httpx2.Client, emu: Emulator, file: dict[str, object], data: bytes
) -> None:
    got = http.get(str(file["uri"]))
    assert (got.status_code, got.content) == (200, data), file["uri"]
    stored = emu.file_path(str(file["id"]))
    assert len(stored.name.encode()) <= 255
    assert stored.parent.parent == emu.data_dir / "files"  # one component, in its folder


LONG_NON_ASCII = "日本語のファイル名" * 40 + ".png"  # 1,083 bytes of UTF-8


def test_a_long_non_ascii_name_is_cut_to_255_bytes_keeping_its_extension(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    file = _upload(http, LONG_NON_ASCII, b"png bytes")
    assert file["filename"] == LONG_NON_ASCII  # the DTO keeps the name as given
    _assert_downloadable(http, local_emu, file, b"png bytes")
    stored = local_emu.file_path(str(file["id"])).name
    assert stored.endswith(".png") and LONG_NON_ASCII.startswith(stored[:-4])
    assert 250 <= len(stored.encode()) <= 255


def test_control_characters_are_replaced(http: httpx2.Client, local_emu: Emulator) -> None:
    file = _upload(http, "a\nb\rc\td\x00e\x1bf\x7fg\u2028h.txt", b"text")
    _assert_downloadable(http, local_emu, file, b"text")
    assert local_emu.file_path(str(file["id"])).name == "a_b_c_d_e_f_g_h.txt"


def test_an_app_file_with_a_long_name_is_stored_too(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    @local_emu.app("test/long-name")
    def long_name(ctx: AppContext, input: dict[str, str]) -> dict[str, object]:
        return {"file": LocalFile(b"made", filename=LONG_NON_ASCII + "\n")}

    task = local_emu.wait_for_task(run(http, "test/long-name", {})["id"])
    assert task["status"] == 10, task.get("error")
    got = httpx2.get(task["output"]["file"]["uri"])
    assert (got.status_code, got.content) == (200, b"made")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(min_size=0, max_size=400))
def test_every_accepted_name_downloads_and_leaves_no_empty_folder(
    http: httpx2.Client, local_emu: Emulator, name: str
) -> None:
    file = _upload(http, name, b"x")
    _assert_downloadable(http, local_emu, file, b"x")
    folder = local_emu.data_dir / "files" / str(file["id"])
    assert [p.name for p in folder.iterdir()] == [local_emu.file_path(str(file["id"])).name]
    assert http.delete(f"/files/{file['id']}").status_code == 200
    assert not folder.exists()  # no empty folder left


@given(name=st.text(max_size=600))
def test_disk_names_are_one_short_component(name: str) -> None:
    disk = disk_name(name)
    assert disk and len(disk.encode()) <= 255
    assert "/" not in disk and "\\" not in disk and disk not in (".", "..")
    assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in disk), disk
