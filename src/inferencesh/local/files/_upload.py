"""One upload in progress: the body of a `PUT` to an upload URL, streamed to a partial file."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import IO, TYPE_CHECKING

import anyio.to_thread

from inferencesh.local.core._envelope import ApiError

if TYPE_CHECKING:
    from inferencesh.local.files._store import FileRecord, FileStore

__all__ = ["Upload", "too_large"]

_WRITE_BATCH = 1024 * 1024  # bytes buffered before one write in a worker thread


class Upload:
    """One `PUT` in progress: bytes go to a partial file, moved into place when complete.

    Writes are batched and done in a worker thread, so memory stays flat and the event loop
    stays free whatever the size.
    """

    def __init__(
        self, store: FileStore, record: FileRecord, partial: Path, handle: IO[bytes]
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
        self.store._finish_upload(self)  # pyright: ignore[reportPrivateUsage]
        self._done = True

    def abort(self) -> None:
        """Throw the partial bytes away; the record stays pending (and is never listed)."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            self._handle.close()
        self.store._abort_upload(self.record, self.partial)  # pyright: ignore[reportPrivateUsage]

    async def _flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending, self._pending_size = self._pending, [], 0
        await anyio.to_thread.run_sync(self._handle.writelines, batch)


def too_large(size: int, limit: int, *, so_far: bool = False) -> ApiError:
    """The 413 of an upload over `limit` bytes (`so_far`: found while streaming)."""
    what = "the upload passed" if so_far else f"the upload has {size} bytes, over"
    return ApiError(
        413,
        "payload_too_large",
        f"{what} the emulator's limit of {limit} bytes (Emulator(max_upload_size=...))",
        headers={"connection": "close"},
    )
