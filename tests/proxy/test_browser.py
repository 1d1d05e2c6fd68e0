"""Headless Chromium with the official JS SDK, through the FastAPI example, to the emulator.

Debian's `chromium` (not a browser a test tool downloads), driven by playwright-core. The
page is the example's own: a streamed task, a file picked in its `<input type=file>` as a
person would, and an agent message whose client tool runs in the page. Outside CI a missing Chromium skips this test with what to install; under `CI=true`
it fails.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from inferencesh.local import RunningServer
from tests.conformance._clients import Installed
from tests.proxy import _js
from tests.proxy.conftest import Gates

pytestmark = pytest.mark.conformance
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f00f000301018e5fa3e90000000049454e44ae426082"
)
TERMINAL = {10, 11, 12}


def test_a_browser_page_streams_and_uploads_through_the_proxy(
    example_urls: dict[str, str],
    emulator_server: RunningServer,
    gates: Gates,
    proxy_js: Installed,
    tmp_path: Path,
) -> None:
    executable = _js.chromium()
    page_url = example_urls["fastapi"] + "/"
    png = tmp_path / "picked.png"
    png.write_bytes(PNG)
    gate = gates.new()
    env = _js.clean_env(
        PLAYWRIGHT_CORE=str(proxy_js.path / "node_modules" / "playwright-core" / "index.mjs")
    )
    proc = subprocess.Popen(
        ["node", str(_js.HERE / "browser.mjs"), page_url, str(png), executable, gate],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline() or '{"ok": false, "error": "no output"}')
        # The page showed the last progress update while the app still waits on the gate.
        (task,) = [t for t in emulator_server.emulator.tasks() if t["input"].get("gate") == gate]
        gates.open(gate)
        assert first.get("event") == "streamed-before-end", first
        assert task["status"] not in TERMINAL
        assert first["output"] is None
        out, err = proc.communicate(timeout=90)
    finally:
        gates.open(gate)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    assert report.get("ok"), f"{report}\n{err}"
    result = report["result"]
    demo = result["demo"]
    assert demo["errors"] == [], demo["errors"]
    assert demo["output"] == {"steps": 5}
    assert [u.get("progress_message") for u in first["updates"] if u.get("progress_message")][
        -1
    ] == "step 5"
    assert len(result["listed"]) == len(demo["updates"]) >= 2
    upload = demo["upload"]
    assert upload["file"]["filename"] == "picked.png" and upload["file"]["size"] == len(PNG)
    digest = hashlib.sha256(PNG).hexdigest()
    assert upload["output"]["file"] == {"size": len(PNG), "sha256": digest, "name": "picked.png"}
    assert digest in result["shown"]
    agent = demo["agent"]
    assert agent["calls"] == [{"name": "get_weather", "args": {"city": "Paris"}}]
    assert agent["roles"][:4] == ["user", "assistant", "tool", "assistant"]
    assert "72" in agent["reply"] and "sunny" in agent["reply"]
    assert result["reply"] == agent["reply"]
    # The key never reached the browser: no request carried one, no answer contained it.
    key = emulator_server.api_key
    assert all("authorization" not in r["headers"] for r in result["requests"])
    assert all(key not in json.dumps(r) for r in result["requests"])
    assert all(key not in body for body in result["bodies"])
    # API calls went to the page's own server; only the upload's bytes went elsewhere.
    page_origin = example_urls["fastapi"]
    api_calls = [r for r in result["requests"] if "/api/inference/proxy" in r["url"]]
    assert api_calls and all(r["url"].startswith(page_origin) for r in api_calls)
    elsewhere = {r["method"] for r in result["requests"] if not r["url"].startswith(page_origin)}
    assert elsewhere <= {"PUT", "OPTIONS"}, elsewhere
    assert result["consoleErrors"] == []


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_a_missing_chromium_says_what_to_install(
    ci: str, outcome: type[BaseException], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Skipped with the reason on a developer's machine; a failure under CI."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("INFERENCESH_CHROMIUM", raising=False)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="apt-get install chromium"):
        _js.chromium()
