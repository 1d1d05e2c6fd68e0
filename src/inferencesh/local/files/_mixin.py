"""The file side of `Emulator`'s public API: the stored files, where they are, their limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inferencesh.local.files._store import FileStore

__all__ = ["FilesMixin"]


class FilesMixin:
    """Files of an emulator (`Emulator` inherits these)."""

    file_store: FileStore

    @property
    def max_upload_size(self) -> int:
        """Largest upload accepted, in bytes (settable); a larger `PUT` gets 413."""
        return self.file_store.max_upload_size

    @max_upload_size.setter
    def max_upload_size(self, value: int) -> None:
        if value < 1:
            raise ValueError(f"max_upload_size must be > 0, got {value}")
        self.file_store.max_upload_size = value

    @property
    def data_dir(self) -> Path:
        """The directory the files' bytes are stored in (created on first use)."""
        return self.file_store.root

    def files(self, *, include_pending: bool = False) -> list[dict[str, Any]]:
        """Copies of the registered files (FileDTOs), oldest first.

        Args:
            include_pending: Also files whose bytes have not been uploaded (yet).
        """
        return self.file_store.snapshots(include_pending=include_pending)

    def file_path(self, file_id: str) -> Path:
        """Where the bytes of a (complete) file are stored.

        Raises:
            KeyError: no such file, or its upload did not finish.
        """
        path = self.file_store.local_path(file_id)
        if path is None:
            raise KeyError(file_id)
        return path
