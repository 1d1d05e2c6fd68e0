"""Install the official SDKs once (cached) and run their flow scripts against a server.

The official JS SDK (`@inferencesh/sdk`) and Python SDK (PyPI `inferencesh`) are pinned in
files next to this module: `js/package.json` + `js/package-lock.json` and
`py_official/requirements-official.txt`. Each install lands in
`<repo>/.cache/conformance/<kind>-<key>/`, where the key is a hash of the pin files (and of the
interpreter, for the venv), so a version bump installs afresh and an unchanged checkout reuses
the last install. A file lock keeps two pytest sessions in one checkout from installing into
the same directory at once; a marker file written last makes an interrupted install start over.

A flow script takes the base URL, the API key and a flow name, and prints one JSON line:
`{"flow": ..., "ok": true, "result": {...}}`, or `{"ok": false, "error": {...}}` when the flow
hit something it did not expect.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
JS_DIR = HERE / "js"
PY_DIR = HERE / "py_official"
JS_PINS = (JS_DIR / "package.json", JS_DIR / "package-lock.json")
PY_PINS = (PY_DIR / "requirements-official.txt",)
JS_SDK = "@inferencesh/sdk"
MARKER = ".complete.json"
INSTALL_TIMEOUT = 300.0
FLOW_TIMEOUT = 60.0


def cache_root() -> Path:
    """`<repo>/.cache/conformance`, or `$INFERENCESH_CONFORMANCE_CACHE` when set."""
    override = os.environ.get("INFERENCESH_CONFORMANCE_CACHE")
    return Path(override) if override else REPO / ".cache" / "conformance"


def cache_key(files: Sequence[Path], *extra: str) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for item in extra:
        digest.update(item.encode() + b"\0")
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_step(what: str, args: Sequence[str | Path], *, cwd: Path | None = None) -> None:
    """Run one install step; on failure end the session's use of the SDK with a clear reason."""
    argv = [str(a) for a in args]
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        pytest.fail(f"conformance: {what} failed: {argv[0]!r} is not installed", pytrace=False)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"conformance: {what} did not finish in {INSTALL_TIMEOUT:.0f} s "
            f"(is the package registry reachable?): {' '.join(argv)}",
            pytrace=False,
        )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        pytest.fail(
            f"conformance: {what} failed (exit {proc.returncode}; a network install needs the "
            f"package registry): {' '.join(argv)}\n{tail}",
            pytrace=False,
        )


@dataclass
class Installed:
    """What an install produced, and how long it took (0.0 when it came from the cache)."""

    path: Path
    seconds: float
    cached: bool
    info: dict[str, Any] = field(default_factory=dict[str, Any])


def cached_install(kind: str, key: str, build: Any) -> Installed:
    """Build `<cache>/<kind>-<key>` once with `build(target) -> info` under a lock."""
    root = cache_root()
    target = root / f"{kind}-{key}"
    with locked(root / f"{kind}-{key}.lock"):
        marker = target / MARKER
        if marker.is_file():
            return Installed(target, 0.0, True, json.loads(marker.read_text()))
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        started = time.perf_counter()
        info: dict[str, Any] = build(target)
        seconds = time.perf_counter() - started
        info["install_seconds"] = round(seconds, 2)
        marker.write_text(json.dumps(info))
        return Installed(target, seconds, False, info)


# ---------------------------------------------------------------- JS


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("conformance: `node` is not on PATH (Node.js >= 18 is needed)", pytrace=False)
    return subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def build_js(target: Path) -> dict[str, Any]:
    """`npm ci` the pinned SDK and esbuild, then bundle the SDK into one ESM file."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("conformance: `npm` is not on PATH", pytrace=False)
    for pin in JS_PINS:
        shutil.copy2(pin, target / pin.name)
    run_step(
        f"npm ci of {JS_SDK}",
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=target,
    )
    manifest = target / "node_modules" / JS_SDK / "package.json"
    installed = json.loads(manifest.read_text())["version"]
    wanted = json.loads(JS_PINS[0].read_text())["dependencies"][JS_SDK]
    if installed != wanted:
        pytest.fail(f"conformance: npm installed {JS_SDK}@{installed}, wanted {wanted}")
    # The published dist imports its own files without extensions, which node's ESM loader
    # refuses; one bundle fixes that without touching the SDK's code.
    run_step(
        f"esbuild bundle of {JS_SDK}",
        [
            "node",
            target / "node_modules" / "esbuild" / "bin" / "esbuild",
            target / "node_modules" / JS_SDK / "dist" / "index.js",
            "--bundle",
            "--format=esm",
            "--platform=node",
            "--log-level=warning",
            f"--outfile={target / 'sdk.mjs'}",
        ],
        cwd=target,
    )
    return {"sdk_version": installed, "bundle": "sdk.mjs"}


def install_js() -> Installed:
    return cached_install("js", cache_key(JS_PINS, node_version()), build_js)


# ---------------------------------------------------------------- Python


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def build_py(target: Path) -> dict[str, Any]:
    """A bare venv, then this interpreter's pip installs the pins into it (skips ensurepip)."""
    run_step(
        "creating the official SDK's virtual environment",
        [sys.executable, "-m", "venv", "--without-pip", target],
    )
    python = venv_python(target)
    run_step(
        "pip install of the official Python SDK",
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--only-binary=:all:",
            "-r",
            PY_PINS[0],
        ],
    )
    probe = subprocess.run(
        [python, "-I", "-c", "import importlib.metadata as m; print(m.version('inferencesh'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return {"sdk_version": probe.stdout.strip()}


def install_py() -> Installed:
    interpreter = f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}"
    return cached_install("py", cache_key(PY_PINS, interpreter), build_py)


# ---------------------------------------------------------------- running flows


@dataclass
class FlowRunner:
    """Runs one SDK's flow script as a subprocess and returns the JSON it printed."""

    name: str
    argv: list[str]
    env: dict[str, str]
    base_url: str
    api_key: str
    installed: Installed

    def against(self, server: Any) -> FlowRunner:
        """The same SDK pointed at another running emulator."""
        return dataclasses.replace(self, base_url=server.base_url, api_key=server.api_key)

    def with_key(self, api_key: str) -> FlowRunner:
        """The same SDK sending another API key."""
        return dataclasses.replace(self, api_key=api_key)

    def __call__(self, flow: str, *, timeout: float = FLOW_TIMEOUT) -> dict[str, Any]:
        """Run `flow`; the flow's own `result` when it succeeded, else fail the test."""
        report = self.report(flow, timeout=timeout)
        if not report.get("ok"):
            pytest.fail(
                f"{self.name} flow {flow!r} raised: {json.dumps(report.get('error'), indent=2)}",
                pytrace=False,
            )
        result: dict[str, Any] = report["result"]
        return result

    def report(self, flow: str, *, timeout: float = FLOW_TIMEOUT) -> dict[str, Any]:
        """Run `flow` and return the whole JSON line it printed (`ok`, `result`/`error`)."""
        argv = [*self.argv, self.base_url, self.api_key, flow]
        try:
            proc = subprocess.run(
                argv,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
            pytest.fail(
                f"{self.name} flow {flow!r} did not finish in {timeout:.0f} s\n"
                f"stdout:\n{out}\nstderr:\n{err}",
                pytrace=False,
            )
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        try:
            report: dict[str, Any] = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            pytest.fail(
                f"{self.name} flow {flow!r} printed no JSON result (exit {proc.returncode})\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}",
                pytrace=False,
            )
        assert report.get("flow") == flow, report
        if report.get("ok") and proc.returncode != 0:
            pytest.fail(f"{self.name} flow {flow!r} reported ok but exited {proc.returncode}")
        return report


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a flow: no inherited Python/Node settings or API keys."""
    drop = ("PYTHON", "VIRTUAL_ENV", "NODE_OPTIONS", "NODE_PATH", "INFERENCE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env
