"""A one-line progress display for task updates, without dependencies."""

from __future__ import annotations

from types import TracebackType
from typing import Self, TextIO

from inferencesh.models.task import TaskUpdate

WIDTH = 30


def bar(fraction: float, width: int = WIDTH) -> str:
    """`[#######-------]  45%` for a fraction in [0, 1]."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return f"[{'#' * filled}{'-' * (width - filled)}] {fraction * 100:3.0f}%"


class ProgressLine:
    """Redraws one line per update on a terminal; prints a line per change elsewhere."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._last = ""

    def update(self, update: TaskUpdate) -> None:
        """Show `update`."""
        text = f"{update.status.label:<10}"
        if update.progress is not None:
            text += " " + bar(update.progress)
        if update.progress_message:
            text += f"  {update.progress_message}"
        if text == self._last:
            return
        self._last = text
        if self._tty:
            self._out.write("\r\x1b[2K" + text)
        else:
            self._out.write(text.rstrip() + "\n")
        self._out.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tty and self._last:
            self._out.write("\n")
            self._out.flush()
