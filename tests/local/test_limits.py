"""Memory bounds of the emulator: body size, retained tasks, subscriber queues, stream size."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from inferencesh.local import Emulator, RunningServer
from tests.local._support import assert_problem

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024  # docs/emulator.md, "Limits"


def _ids(emu: Emulator) -> tuple[list[str], list[str]]:
    return [t["id"] for t in emu.tasks()], [f["id"] for f in emu.files(include_pending=True)]


def test_the_body_limit_has_a_documented_default() -> None:
    assert Emulator().max_body_size == DEFAULT_MAX_BODY_SIZE
    with pytest.raises(ValueError, match="max_body_size"):
        Emulator(max_body_size=0)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/apps/run", "/files", "/tasks/list"])
def test_a_body_over_the_limit_is_a_413_and_changes_nothing(
    http: httpx2.Client, local_emu: Emulator, path: str, chunked: bool
) -> None:
    local_emu.max_body_size = 1024
    body = b'{"app": "infsh/echo", "input": {"text": "' + b"x" * 4096 + b'"}}'

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    before = _ids(local_emu)
    response = http.post(path, content=pieces() if chunked else body)
    problem = assert_problem(response, 413, "payload_too_large")
    assert "1024 bytes" in problem["detail"] and "max_body_size" in problem["detail"]
    assert response.headers["connection"] == "close"  # the rest of the body is not read
    assert _ids(local_emu) == before
    # The next request (a new connection) is served as usual.
    assert http.post("/tasks/list", json={}).status_code == 200


def test_a_body_at_the_limit_is_read(http: httpx2.Client, local_emu: Emulator) -> None:
    body = b'{"app": "infsh/echo", "input": {"text": "hi"}}'
    local_emu.max_body_size = len(body)
    response = http.post("/apps/run", content=body)
    assert response.status_code == 200, response.text
    local_emu.wait_for_task(response.json()["data"]["id"])


def test_uploads_have_their_own_limit(
    http: httpx2.Client, local_emu: Emulator, local_server: RunningServer
) -> None:
    local_emu.max_body_size = 1024
    created = http.post("/files", json={"files": [{"filename": "a.bin", "size": 4096}]})
    upload_url = created.json()["data"][0]["upload_url"]
    assert httpx2.put(upload_url, content=b"x" * 4096).status_code == 200
