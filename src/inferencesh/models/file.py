"""Files: uploaded inputs and app outputs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import PrivateAttr

from inferencesh._types import ProgressCallback
from inferencesh.errors import UsageError
from inferencesh.models._base import APIModel

__all__ = ["AsyncFile", "File", "FileRef", "ProgressCallback"]


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
            # The last part, as sent: `Path` would turn "." into "" and hide what was sent.
            return self.filename.replace("\\", "/").rsplit("/", 1)[-1]
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
            raise UsageError(
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
            raise UsageError(
                "this File was not returned by a client; use client.files.download(file)"
            )
        return self._files
