"""Files: uploaded inputs and app outputs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, cast

from pydantic import PrivateAttr

from inferencesh.errors import InferenceError
from inferencesh.models._base import APIModel

__all__ = ["AsyncFile", "File", "FileRef", "ProgressCallback"]

ProgressCallback = Callable[[int, int | None], object]
"""Called as `(bytes_done, bytes_total)`; the total is None when the server did not say."""


class _Fetcher(Protocol):
    def download(
        self, file: FileRef, dest: Any, *, on_progress: ProgressCallback | None = None
    ) -> Path: ...

    def read_bytes(self, file: FileRef) -> bytes: ...


class _AsyncFetcher(Protocol):
    async def download(
        self, file: FileRef, dest: Any, *, on_progress: ProgressCallback | None = None
    ) -> Path: ...

    async def read_bytes(self, file: FileRef) -> bytes: ...


class FileRef(APIModel):
    """A file the API knows: its `uri` is what app inputs reference."""

    uri: str
    """Where the bytes are; put this in an app's input to pass the file."""
    id: str | None = None
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None
    path: str | None = None
    created_at: datetime | None = None

    @property
    def name(self) -> str:
        """A file name to save under: `filename`, else the last part of the URI."""
        if self.filename:
            return Path(self.filename).name
        if self.uri.startswith("data:"):
            return "download"
        tail = self.uri.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        return tail or "download"


class File(FileRef):
    """A file, with sync helpers to fetch its bytes (from the sync client)."""

    _files: _Fetcher | None = PrivateAttr(default=None)

    def download(
        self, dest: str | Path = ".", *, on_progress: ProgressCallback | None = None
    ) -> Path:
        """Stream the file to `dest` (a directory, or a file path); return the path written.

        The bytes go to a temporary file next to the destination, renamed into place when
        complete, so a failed download never leaves a partial file behind.
        """
        return self._client().download(self, dest, on_progress=on_progress)

    def read_bytes(self) -> bytes:
        """The whole file in memory (use `download` for large files)."""
        return self._client().read_bytes(self)

    def _client(self) -> _Fetcher:
        if self._files is None:
            raise InferenceError(
                "this File was not returned by a client; use client.files.download(file)"
            )
        return self._files


class AsyncFile(FileRef):
    """A file, with async helpers to fetch its bytes (from the async client)."""

    _files: _AsyncFetcher | None = PrivateAttr(default=None)

    async def download(
        self, dest: str | Path = ".", *, on_progress: ProgressCallback | None = None
    ) -> Path:
        """Stream the file to `dest` (a directory, or a file path); return the path written.

        The bytes go to a temporary file next to the destination, renamed into place when
        complete, so a failed download never leaves a partial file behind.
        """
        return await self._client().download(self, dest, on_progress=on_progress)

    async def read_bytes(self) -> bytes:
        """The whole file in memory (use `download` for large files)."""
        return await self._client().read_bytes(self)

    def _client(self) -> _AsyncFetcher:
        if self._files is None:
            raise InferenceError(
                "this File was not returned by a client; use client.files.download(file)"
            )
        return self._files


def looks_like_file(value: Any) -> bool:
    """Whether an output value is a file object as apps serialize them (`{uri, ...}`)."""
    if not isinstance(value, dict):
        return False
    data = cast("dict[str, Any]", value)
    uri = data.get("uri")
    return (
        isinstance(uri, str)
        and bool(uri)
        and any(k in data for k in ("content_type", "filename", "size", "path"))
    )
