"""The live view of a task on stderr: status, progress bar, the tail of its logs.

On a terminal it redraws in place (rich's `Live`) and leaves one summary line; anywhere else
(a pipe, a CI log) it prints a line per status change, per new log line and per new progress
message, so nothing is printed twice. `--json` turns it off.
"""

from __future__ import annotations

import time
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from inferencesh import TaskStatus, TaskUpdate

__all__ = ["LogTracker", "TaskDisplay"]

LOG_TAIL = 6
_STYLES = {"completed": "green", "failed": "red", "rejected": "red", "cancelled": "yellow"}


class TaskDisplay:
    """Shows the updates of one task; a context manager that draws while it is open."""

    def __init__(self, console: Console, *, app: str | None = None, enabled: bool = True) -> None:
        self._console = console
        self._app = app
        self._enabled = enabled
        self._live_mode = enabled and console.is_terminal
        self._live: Live | None = None
        self._started = time.monotonic()
        self.task_id: str | None = None
        """The task's id, once an update named it."""
        self._status = ""
        self._progress: float | None = None
        self._message: str | None = None
        self._logs = LogTracker()
        self._tail: deque[str] = deque(maxlen=LOG_TAIL)
        self._streamed = ""

    # -- updates --------------------------------------------------------------------------

    def started(self, task_id: str) -> None:
        """The task is known by `task_id` from now on (it is shown at once)."""
        self.task_id = task_id
        if self._enabled and not self._live_mode:
            self._line(f"task {task_id}" + (f" ({self._app})" if self._app else ""))
        if self._live is not None:
            self._live.refresh()

    def update(self, update: TaskUpdate) -> None:
        """Take in one update and show what changed."""
        status = update.status.label
        if status != self._status:
            self._status = status
            if self._enabled and not self._live_mode:
                self._line(f"  status: {status}")
        for line in self._logs.new_lines(update.data.get("logs")):
            self._tail.append(line)
            if self._enabled and not self._live_mode:
                self._line(f"  | {line}")
        self._progress = update.progress
        message = update.progress_message
        if message != self._message:
            self._message = message
            if self._enabled and not self._live_mode and message:
                self._line(f"  {_percent(self._progress)} {message}".rstrip())
        output = update.output
        if update.delta is not None and isinstance(output, dict):
            text = cast("dict[str, Any]", output).get("response")
            if isinstance(text, str):
                self._streamed = text
        if self._live is not None:
            self._live.refresh()

    # -- drawing --------------------------------------------------------------------------

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        head = Table.grid(padding=(0, 1))
        head.add_row(
            Spinner("dots", style="cyan"),
            Text(self._app or "task", style="bold"),
            Text(self.task_id or "starting...", style="dim"),
            Text(self._status or "sending", style=_STYLES.get(self._status, "cyan")),
            Text(f"{time.monotonic() - self._started:.0f}s", style="dim"),
        )
        rows: list[RenderableType] = [head]
        if self._progress is not None or self._message:
            bar = Table.grid(padding=(0, 1))
            bar.add_row(
                ProgressBar(total=1.0, completed=self._progress or 0.0, width=30),
                Text(_percent(self._progress)),
                Text(self._message or "", style="dim"),
            )
            rows.append(bar)
        rows.extend(Text(f"  | {line}", style="dim", no_wrap=True) for line in tuple(self._tail))
        if self._streamed:
            last = self._streamed.rstrip().rsplit("\n", 1)[-1]
            room = max(10, self._console.width - 5)  # the newest words, not the first ones
            rows.append(Text(f"  > {last[-room:]}", no_wrap=True))
        return Group(*rows)

    def finish(self, status: TaskStatus, error: str | None = None) -> None:
        """Stop drawing and leave one line saying how the task ended."""
        self.close()
        if not self._enabled:
            return
        label = status.label
        took = time.monotonic() - self._started
        text = f"{label} task {self.task_id} in {took:.1f}s"
        if error:
            text += f": {error}"
        if self._live_mode:
            mark = "✓" if label == "completed" else "✗"
            self._console.print(f"[{_STYLES.get(label, 'cyan')}]{mark}[/] {text}", markup=True)
            if label != "completed":  # the logs say why: keep them on screen
                for line in self._tail:
                    self._console.print(f"  | {line}", style="dim", markup=False)
        else:
            self._line(text)

    def close(self) -> None:
        """Stop drawing (the live view disappears; the summary is `finish`'s)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _line(self, text: str) -> None:
        self._console.print(text, markup=False, highlight=False, soft_wrap=True)

    def __enter__(self) -> Self:
        if self._live_mode:
            from rich.live import Live

            self._live = Live(
                self._render(),
                console=self._console,
                transient=True,
                refresh_per_second=8,
                get_renderable=self._render,
            )
            self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class LogTracker:
    """Which log text was shown already, so that each line is shown once."""

    def __init__(self) -> None:
        self._shown: dict[str, int] = {}  # log id -> characters already shown

    def new_lines(self, logs: Any) -> list[str]:
        """Log text not shown yet: new blocks, and text appended to known ones."""
        if not isinstance(logs, list):
            return []
        lines: list[str] = []
        for item in cast("list[Any]", logs):
            if not isinstance(item, dict):
                continue
            entry = cast("dict[str, Any]", item)
            content = entry.get("content")
            if not isinstance(content, str):
                continue
            key = str(entry.get("id") or len(self._shown))
            seen = self._shown.get(key, 0)
            if len(content) > seen:
                lines.extend(content[seen:].splitlines())
                self._shown[key] = len(content)
        return [line for line in lines if line.strip()]


def _percent(progress: float | None) -> str:
    return "" if progress is None else f"{progress * 100:3.0f}%"
