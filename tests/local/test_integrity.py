"""Internal errors: a 500 that closes its connection, and no half-made resource left behind.

The emulator's own code is made to fail at the worst moments (after a task, a session or a
file record was made) with monkeypatched internals; every answer is a problem+json 500
with `Connection: close`, never naming a path of the server, and the state is as before.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from inferencesh.local import Emulator
from inferencesh.local.files import _store
from tests.local._support import assert_problem


def _state(emu: Emulator) -> tuple[Any, ...]:
    return (
        [t["id"] for t in emu.tasks()],
        emu.files(include_pending=True),
        emu.sessions(),
    )


def _assert_500(response: httpx2.Response, emu: Emulator) -> dict[str, Any]:
    problem = assert_problem(response, 500, "internal_error")
    assert response.headers["connection"] == "close"
    assert str(emu.data_dir) not in response.text
    assert "/tmp" not in response.text and "site-packages" not in response.text
    return problem


def test_a_500_closes_its_connection_and_the_next_pooled_request_works(
    http: httpx2.Client, local_emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(task_id: str) -> dict[str, Any]:
        raise OSError(f"cannot read {local_emu.data_dir}/secret/state.json")

    monkeypatch.setattr(local_emu.task_service, "status", broken)
    for _ in range(20):
        problem = _assert_500(http.get("/tasks/anything/status"), local_emu)
        assert "OSError" in problem["detail"]
        # The same client's next request: a fresh connection, never a reset one.
        assert http.post("/tasks/list", json={}).status_code == 200


@pytest.mark.parametrize("session", [None, "new", "existing"])
def test_a_run_that_fails_inside_leaves_no_task_and_no_session_lease(
    http: httpx2.Client, local_emu: Emulator, monkeypatch: pytest.MonkeyPatch, session: str | None
) -> None:
    body: dict[str, Any] = {"app": "infsh/session-test", "function": "increment", "input": {}}
    if session == "existing":
        opened = http.post("/apps/run", json={**body, "session": "new"}).json()["data"]
        local_emu.wait_for_task(opened["id"])
        body["session"] = opened["session_id"]
    elif session == "new":
        body["session"] = "new"
    before = _state(local_emu)

    def broken(job: Any) -> None:
        raise RuntimeError("the task loop is gone")

    monkeypatch.setattr(local_emu._runner, "submit", broken)  # pyright: ignore[reportPrivateUsage]
    _assert_500(http.post("/apps/run", json=body), local_emu)
    assert _state(local_emu) == before
    monkeypatch.undo()
    if session == "existing":
        again = http.post("/apps/run", json=body)  # the session's worker is not held
        assert again.status_code == 200, again.text
        assert local_emu.wait_for_task(again.json()["data"]["id"])["output"] == {"value": 2}


def test_a_files_request_that_fails_inside_registers_none(
    http: httpx2.Client, local_emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _store.disk_name
    calls = [0]

    def fails_second(name: str) -> str:
        calls[0] += 1
        if calls[0] == 2:
            raise RuntimeError("disk name")
        return real(name)

    monkeypatch.setattr(_store, "disk_name", fails_second)
    before = _state(local_emu)
    body = {"files": [{"filename": "a.txt", "size": 1}, {"filename": "b.txt", "size": 1}]}
    _assert_500(http.post("/files", json=body), local_emu)
    assert _state(local_emu) == before


def test_an_upload_that_fails_to_land_stays_pending_and_leaves_no_folder(
    http: httpx2.Client, local_emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = http.post("/files", json={"files": [{"filename": "x.bin", "size": 3}]}).json()["data"][0]

    def no_space(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(_store.os, "replace", no_space)
    _assert_500(http.put(file["upload_url"], content=b"abc"), local_emu)
    assert not (local_emu.data_dir / "files" / file["id"]).exists()
    assert not list((local_emu.data_dir / "partial").glob(f"{file['id']}*"))
    monkeypatch.undo()
    assert http.put(file["upload_url"], content=b"abc").status_code == 200  # the URL works
    assert http.get(file["uri"]).content == b"abc"


def test_a_file_whose_bytes_vanished_is_a_404_without_its_path(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    file = http.post("/files", json={"files": [{"filename": "gone.bin", "size": 1}]}).json()[
        "data"
    ][0]
    assert http.put(file["upload_url"], content=b"x").status_code == 200
    local_emu.file_path(file["id"]).unlink()
    response = http.get(file["uri"])
    assert_problem(response, 404, "not_found")
    assert str(local_emu.data_dir) not in response.text
