"""Uploads: one `PUT` in progress, and the rules of an upload URL.

`Upload` streams the body of a `PUT` to a partial file; `check_start` and `check_body` say when
a `PUT` may start and when its body may make the file complete.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

import anyio.to_thread

from inferencesh.local.core._envelope import ApiError
from inferencesh.local.files._record import FileRecord

__all__ = ["Upload", "UploadOwner", "check_body", "check_start", "too_large", "url_expired"]


class UploadOwner(Protocol):
    """Where an upload's file goes when it completes (the store), or is dropped if it fails."""

    @property
    def max_upload_size(self) -> int:
        """The largest body accepted, in bytes."""
        ...

    def finish_upload(self, upload: Upload) -> None:
        """Move the complete upload's file into place."""
        ...

    def abort_upload(self, record: FileRecord, partial: Path) -> None:
        """Drop what a failed upload wrote."""
        ...


_WRITE_BATCH = 1024 * 1024  # bytes buffered before one write in a worker thread


class Upload:
    """One `PUT` in progress: bytes go to a partial file, moved into place when complete.

    Writes are batched and done in a worker thread, so memory stays flat and the event loop
    stays free whatever the size.
    """

    def __init__(
        self, store: UploadOwner, record: FileRecord, partial: Path, handle: IO[bytes]
    ) -> None:
        self.store = store
        self.record = record
        self.partial = partial
        self.received = 0
        self._handle = handle
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._done = False

    async def write(self, chunk: bytes) -> None:
        """Add a chunk of the body.

        Raises:
            ApiError: 413 the body grew past the size limit.
        """
        if not chunk:
            return
        self.received += len(chunk)
        limit = self.store.max_upload_size
        if self.received > limit:
            raise too_large(self.received, limit, so_far=True)
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size >= _WRITE_BATCH:
            await self._flush()

    async def finish(self) -> None:
        """The body is complete: check it and make the file complete.

        Raises:
            ApiError: 400 wrong size or empty; 404 the file was deleted meanwhile.
        """
        await self._flush()
        await anyio.to_thread.run_sync(self._handle.close)
        self.store.finish_upload(self)
        self._done = True

    def abort(self) -> None:
        """Throw the partial bytes away; the record stays pending (and is never listed)."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            self._handle.close()
        self.store.abort_upload(self.record, self.partial)

    async def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending, self._pending_size = self._pending, [], 0
        await anyio.to_thread.run_sync(self._handle.writelines, batch)


def check_start(
    record: FileRecord, token: str, length: int | None, *, now: datetime, limit: int
) -> None:
    """Check that a `PUT` of `length` bytes (None: unknown) may start on a record's URL.

    Raises:
        ApiError: 403 wrong token; 409 the URL was used already, or another upload of it is in
            progress; 410 the URL expired; 413 over `limit`; 400 a length other than the
            declared size, or an empty body.
    """
    file_id: str = record.dto["id"]
    if not secrets.compare_digest(token.encode(), record.token.encode()):
        raise ApiError(403, "forbidden", "invalid upload URL: the token does not match")
    if record.state == "complete":
        raise ApiError(
            409,
            "upload_url_used",
            f"the upload URL of file {file_id} was used already; upload URLs are "
            "single use (create a new file with POST /files)",
        )
    if now >= record.expires:
        raise url_expired(file_id)
    if record.state == "uploading":
        raise ApiError(409, "upload_in_progress", f"file {file_id} is being uploaded already")
    declared = record.declared_size
    for size in (length, declared):
        if size is not None and size > limit:
            raise too_large(size, limit)
    if length is not None and declared is not None and length != declared:
        raise ApiError(
            400,
            "size_mismatch",
            f"file {file_id} was declared with {declared} bytes, the upload has {length}",
        )
    if length == 0:
        raise _empty(file_id)


def check_body(record: FileRecord, received: int) -> None:
    """Check that a body of `received` bytes, now complete, may make the file complete.

    Raises:
        ApiError: 400 a size other than the declared one, or an empty body.
    """
    file_id: str = record.dto["id"]
    declared = record.declared_size
    if declared is not None and received != declared:
        raise ApiError(
            400,
            "size_mismatch",
            f"file {file_id} was declared with {declared} bytes, {received} arrived",
        )
    if received == 0:
        raise _empty(file_id)


def url_expired(file_id: str) -> ApiError:
    """The 410 of an upload URL used after it expired."""
    return ApiError(
        410,
        "upload_url_expired",
        f"the upload URL of file {file_id} has expired (create a new file with POST /files)",
    )


def _empty(file_id: str) -> ApiError:
    return ApiError(400, "empty_upload", f"the upload of file {file_id} is empty")


def too_large(size: int, limit: int, *, so_far: bool = False) -> ApiError:
    """The 413 of an upload over `limit` bytes (`so_far`: found while streaming)."""
    what = "the upload passed" if so_far else f"the upload has {size} bytes, over"
    return ApiError(
        413,
        "payload_too_large",
        f"{what} the emulator's limit of {limit} bytes (Emulator(max_upload_size=...))",
        headers={"connection": "close"},
    )
