"""The `inferencesh` command, run as users run it."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx2
import pytest

from inferencesh import inference
from tests.cli.conftest import start_serve


@pytest.fixture
def served() -> Iterator[str]:
    proc, url = start_serve("--api-key", "sk-cli")
    try:
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # also closes the pipes


def test_serve_prints_a_url_that_serves_the_api(served: str) -> None:
    with inference("sk-cli", base_url=served) as client:
        assert client.run("infsh/echo", {"text": "hi"}).output == {"text": "hi"}


# -- serve: shutting down, bad options, the default key, the extra -------------------------

MAIN = [sys.executable, "-m", "inferencesh"]


def test_ctrl_c_ends_open_streams_and_exits() -> None:
    proc, url = start_serve("--api-key", "sk-cli")
    headers = {"authorization": "Bearer sk-cli"}
    try:
        created = httpx2.post(
            url + "/apps/run",
            json={"app": "infsh/slow", "input": {"steps": 1000, "interval": 1}},
            headers=headers,
        ).json()["data"]
        with httpx2.stream(
            "GET", f"{url}/tasks/{created['id']}/stream", headers=headers, timeout=30
        ) as stream:
            lines = stream.iter_lines()
            assert json.loads(next(lines))["id"] == created["id"]  # the stream is open
            proc.send_signal(signal.SIGINT)
            # Generous: a hang, not a slow exit, is what fails here (an open stream used to
            # keep the server from ever exiting).
            proc.wait(timeout=20)
            with contextlib.suppress(httpx2.HTTPError):
                rest = [json.loads(line) for line in lines if line]
                assert all(line["status"] != 10 for line in rest if "status" in line)
    finally:
        if proc.poll() is None:
            proc.kill()
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr


def test_the_access_log_never_shows_upload_tokens_or_keys() -> None:
    proc, url = start_serve("--api-key", "sk-cli-secret-key")
    try:
        with inference("sk-cli-secret-key", base_url=url) as client:
            created = client.files.upload(b"some bytes", filename="a.bin")
            assert created.uri
        token_url = httpx2.post(
            url + "/files",
            json={"files": [{"filename": "b.bin", "size": 1}]},
            headers={"authorization": "Bearer sk-cli-secret-key"},
        ).json()["data"][0]["upload_url"]
        token = token_url.split("token=", 1)[1]
        assert httpx2.put(token_url, content=b"x").status_code == 200
        httpx2.get(url + "/tasks/x?api_key=sk-cli-secret-key&access_token=abc123secret")
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    log = stdout + stderr  # uvicorn writes its access log to stdout
    assert "PUT /_uploads/" in log, log  # the access log is on
    assert token not in log
    assert "token=[redacted]" in log
    assert "sk-cli-secret-key" not in log and "abc123secret" not in log


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "70000"], "--port"),
        (["--port", "-1"], "--port"),
        (["--port", "http"], "--port"),
        (["--host", "no-such-host.invalid"], "no-such-host.invalid"),
        (["--host", "256.1.1.1"], "256.1.1.1"),
        (["--max-upload-size", "0"], "--max-upload-size"),
        (["--max-upload-size", "lots"], "--max-upload-size"),
        (["--max-body-size", "-5"], "--max-body-size"),
    ],
)
def test_bad_serve_options_are_one_line_and_a_failure(args: list[str], says: str) -> None:
    result = subprocess.run([*MAIN, "serve", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_port_in_use_is_one_line_and_a_failure() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*MAIN, "serve", "--port", str(port)], capture_output=True, text=True, timeout=60
        )
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert f"127.0.0.1:{port}" in line and "in use" in line.lower(), line


def test_serve_and_the_emulator_use_the_same_default_key() -> None:
    from inferencesh.local import DEFAULT_API_KEY, Emulator

    assert Emulator().api_key == DEFAULT_API_KEY
    proc = subprocess.Popen(
        [*MAIN, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(3)]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert banner[2].strip() == f"INFERENCE_API_KEY={DEFAULT_API_KEY}", banner


def test_python_dash_m_inferencesh_is_the_command() -> None:
    via_m = subprocess.run([*MAIN, "--version"], capture_output=True, text=True, timeout=60)
    assert via_m.returncode == 0 and via_m.stdout.startswith("inferencesh "), via_m
    usage = subprocess.run([*MAIN], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "inferencesh" in usage.stderr


BLOCK_LOCAL_EXTRA = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("starlette", "uvicorn"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
"""


def test_the_emulator_without_the_local_extra_says_how_to_install_it() -> None:
    code = BLOCK_LOCAL_EXTRA + (
        "try:\n"
        "    from inferencesh.local import Emulator\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
        "import inferencesh\n"  # the core still imports
        "print('core ok', inferencesh.Inference.__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'inferencesh[local]'" in result.stdout
    assert result.stdout.startswith(("ImportError", "ModuleNotFoundError"))
    assert "core ok Inference" in result.stdout


def test_serve_without_the_local_extra_is_one_line() -> None:
    code = BLOCK_LOCAL_EXTRA + (
        "import runpy\n"
        "sys.argv = ['inferencesh', 'serve', '--port', '0']\n"
        "runpy.run_module('inferencesh', run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "pip install 'inferencesh[local]'" in line
