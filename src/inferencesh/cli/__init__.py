"""The `inferencesh` command: `run`, `tasks`, `files`, `chat`, `serve`, `demo`."""

from __future__ import annotations

from inferencesh.cli._main import main as main

__all__ = ["main"]
