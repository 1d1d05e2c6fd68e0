"""The `inferencesh` command: `serve`, `demo` and `run`."""

from __future__ import annotations

from inferencesh.cli._main import main as main

__all__ = ["main"]
