"""`LocalFile`: a file an app returns, by path or as bytes."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["LocalFile"]


class LocalFile:
    """A file an app returns: registered with the emulator, sent as `{uri, filename, ...}`.

    A `pathlib.Path` in an app's output is registered the same way; use `LocalFile` to set
    the name or the content type, or to return bytes made in memory.

    Example:
        ```python
        @emu.app("me/report")
        def report(ctx: AppContext, input: dict[str, Any]) -> dict[str, Any]:
            return {"pdf": LocalFile(b"%PDF-...", filename="report.pdf")}
        ```

    Args:
        source: A path (`str` or `PathLike`) to copy, or the file's bytes.
        filename: The name clients see; defaults to the path's name (`file` for bytes).
        content_type: Defaults to a guess from the name, else `application/octet-stream`.
    """

    __slots__ = ("content_type", "data", "filename", "path")

    def __init__(
        self,
        source: str | os.PathLike[str] | bytes,
        *,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> None:
        if isinstance(source, bytes | bytearray | memoryview):
            self.data: bytes | None = bytes(source)
            self.path: Path | None = None
        else:
            self.data = None
            self.path = Path(source)
        self.filename = filename
        self.content_type = content_type

    def __repr__(self) -> str:
        what = f"{len(self.data)} bytes" if self.data is not None else repr(str(self.path))
        return f"LocalFile({what}, filename={self.filename!r})"
