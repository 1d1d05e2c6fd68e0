"""The official JS SDK and playwright-core for the proxy's end-to-end tests, installed once.

Pinned in `js/package.json` + `js/package-lock.json` and cached like the conformance suite's
installs (`.cache/conformance/proxy-js-<key>/`, see `tests/conformance/_clients.py`): the SDK
is bundled twice with esbuild, for node (`sdk.mjs`) and for browsers (`sdk.browser.js`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conformance._clients import (
    JS_SDK,
    Installed,
    cache_key,
    cached_install,
    clean_env,
    node_version,
    run_step,
)

HERE = Path(__file__).resolve().parent / "js"
PINS = (HERE / "package.json", HERE / "package-lock.json")


def _bundle(target: Path, platform: str, out: str) -> None:
    run_step(
        f"esbuild {platform} bundle of {JS_SDK}",
        [
            "node",
            target / "node_modules" / "esbuild" / "bin" / "esbuild",
            target / "node_modules" / JS_SDK / "dist" / "index.js",
            "--bundle",
            "--format=esm",
            f"--platform={platform}",
            "--log-level=warning",
            f"--outfile={target / out}",
        ],
        cwd=target,
    )


def _build(target: Path) -> dict[str, Any]:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("proxy e2e: `npm` is not on PATH (Node.js with npm is needed)", pytrace=False)
    for pin in PINS:
        shutil.copy2(pin, target / pin.name)
    run_step(
        "npm ci of the proxy's end-to-end packages",
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=target,
    )
    _bundle(target, "node", "sdk.mjs")
    _bundle(target, "browser", "sdk.browser.js")
    version = json.loads((target / "node_modules" / JS_SDK / "package.json").read_text())
    return {"sdk_version": version["version"]}


def install() -> Installed:
    return cached_install("proxy-js", cache_key(PINS, node_version()), _build)


def node(script: str, installed: Installed, *args: str, timeout: float = 60.0) -> dict[str, Any]:
    """Run `js/<script>` with node; the JSON object of its last output line."""
    env = clean_env(
        INFERENCESH_JS_SDK=str(installed.path / "sdk.mjs"),
        PLAYWRIGHT_CORE=str(installed.path / "node_modules" / "playwright-core" / "index.mjs"),
    )
    proc = subprocess.run(
        ["node", str(HERE / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if not lines:
        pytest.fail(f"node {script} printed nothing (exit {proc.returncode})\n{proc.stderr}")
    report: dict[str, Any] = json.loads(lines[-1])
    if not report.get("ok"):
        pytest.fail(f"node {script} {args}: {json.dumps(report, indent=2)}\n{proc.stderr}")
    return report["result"]


def chromium() -> str:
    """Debian's Chromium (or `$INFERENCESH_CHROMIUM`); under CI a missing one fails the run."""
    found = os.environ.get("INFERENCESH_CHROMIUM") or shutil.which("chromium")
    found = found or shutil.which("chromium-browser")
    if found:
        return found
    reason = (
        "the browser test needs a system Chromium: `apt-get install chromium` (Debian/Ubuntu), "
        "or set INFERENCESH_CHROMIUM to a Chromium or Chrome binary"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
