"""Starting and stopping servers: `running()` in a thread, `serve()` in the foreground."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import anyio.to_thread
import httpx2
import pytest

from inferencesh.local import DEFAULT_API_KEY, Emulator, running
from tests.local._support import HELLO_RUN


def test_running_serves_on_a_free_port_and_stops_cleanly() -> None:
    with running() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.api_key == DEFAULT_API_KEY
        assert server.url("/apps/run") == server.base_url + "/apps/run"
        headers = {"authorization": f"Bearer {server.api_key}"}
        response = httpx2.post(server.url("/apps/run"), json=HELLO_RUN, headers=headers)
        assert response.status_code == 200
        emulator = server.emulator
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(server.url("/tasks/x"), headers=headers)
    # The emulator running() created was closed; its state is still readable.
    assert emulator.tasks()


def test_two_servers_can_share_one_emulator() -> None:
    emu = Emulator(api_key="k")
    with running(emu) as one, running(emu) as two:
        assert one.base_url != two.base_url
        headers = {"authorization": "Bearer k"}
        created = httpx2.post(one.url("/apps/run"), json=HELLO_RUN, headers=headers).json()["data"]
        emu.wait_for_task(created["id"])
        task = httpx2.get(two.url(f"/tasks/{created['id']}"), headers=headers).json()["data"]
        assert task["output"] == {"text": "Hello World!"}
    emu.close()


def test_a_busy_port_is_an_error() -> None:
    with running() as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        with pytest.raises(OSError), running(port=port):
            pass


def test_server_clients_are_configured_for_it() -> None:
    with running(Emulator(api_key="sk-x")) as server:
        client = server.client(max_retries=0)
        try:
            assert client.base_url == server.base_url
        finally:
            client.close()
        async_client = server.async_client()
        assert async_client.base_url == server.base_url


def test_serve_prints_its_url_and_serves_until_interrupted(tmp_path: Path) -> None:
    code = "from inferencesh.local import serve; serve(port=0, api_key='sk-cli')"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline().decode()
        assert banner.startswith("inference.sh emulator listening on http://127.0.0.1:")
        base_url = banner.rsplit(" ", 1)[1].strip()
        assert proc.stdout.readline().decode().strip() == f"INFERENCE_BASE_URL={base_url}"
        assert proc.stdout.readline().decode().strip() == "INFERENCE_API_KEY=sk-cli"
        headers = {"authorization": "Bearer sk-cli"}
        response = httpx2.post(base_url + "/apps/run", json=HELLO_RUN, headers=headers)
        assert response.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr.decode()


@pytest.mark.anyio
async def test_the_asgi_app_runs_in_process_on_any_backend() -> None:
    # No uvicorn and no asyncio: the app on the test's own loop (asyncio or trio).
    emu = Emulator(api_key=None)
    transport = httpx2.ASGITransport(app=emu.asgi_app())
    async with httpx2.AsyncClient(transport=transport, base_url="http://emulator") as client:
        created = (await client.post("/apps/run", json=HELLO_RUN)).json()["data"]
        await anyio.to_thread.run_sync(emu.wait_for_task, created["id"])
        stream = await client.get(f"/tasks/{created['id']}/stream")
        [line] = stream.text.splitlines()
        assert json.loads(line)["output"] == {"text": "Hello World!"}
        missing = await client.get("/tasks/nope")
        assert missing.status_code == 404
    emu.close()
