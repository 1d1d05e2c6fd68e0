"""Imports point one way: the core never imports the emulator, the tools never do HTTP."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "inferencesh"


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def files(*parts: str) -> list[Path]:
    base = SRC.joinpath(*parts)
    return sorted(base.rglob("*.py")) if base.is_dir() else [base]


CORE = [
    *files("_protocol"),
    *files("_sync"),
    *files("_async"),
    *files("models"),
    SRC / "errors.py",
    SRC / "_redact.py",
    SRC / "_config.py",
    SRC / "_types.py",
]


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(SRC)))
def test_core_never_imports_the_emulator_cli_or_servers(path: Path) -> None:
    banned = (
        "inferencesh.local",
        "inferencesh.cli",
        "inferencesh.proxy",
        "starlette",
        "uvicorn",
        "asyncio",
        "requests",
        "httpx",
    )
    for name in imports_of(path):
        assert not any(name == b or name.startswith(b + ".") for b in banned), name


@pytest.mark.parametrize(
    "path",
    [*files("_protocol"), *files("models"), *files("tools")],
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_sans_io_and_tools_never_import_the_drivers(path: Path) -> None:
    for name in imports_of(path):
        assert not name.startswith(("inferencesh._sync", "inferencesh._async")), name


@pytest.mark.parametrize(
    "path", [*files("tools"), *files("agent")], ids=lambda p: str(p.relative_to(SRC))
)
def test_tools_and_the_agent_core_never_do_http(path: Path) -> None:
    banned = ("httpx2", "inferencesh._sync", "inferencesh._async", "inferencesh.local")
    assert not any(n.startswith(banned) for n in imports_of(path))


def test_import_is_lazy() -> None:
    code = (
        "import sys, inferencesh; "
        "heavy = [m for m in ('httpx2', 'pydantic', 'anyio', 'starlette', 'uvicorn', 'aiohttp') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_client_import_does_not_load_servers_or_aiohttp() -> None:
    code = (
        "import sys; from inferencesh import inference, async_inference; "
        "print(','.join(m for m in ('starlette', 'uvicorn', 'aiohttp', 'inferencesh.local', 'inferencesh.proxy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_proxy_import_loads_no_framework() -> None:
    """`inferencesh.proxy` runs on the core alone; its helpers import their framework."""
    code = (
        "import sys, inferencesh.proxy; "
        "print(','.join(m for m in ('starlette', 'fastapi', 'flask', 'django', 'uvicorn', 'inferencesh.local') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
