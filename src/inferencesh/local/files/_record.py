"""A file's record: its DTO (as the API shows it) and what the emulator keeps beside it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from inferencesh.local.core._ids import TEAM_ID, USER_ID, iso

__all__ = ["CONTENT_PREFIX", "FileRecord", "FileState", "file_dto"]

CONTENT_PREFIX = "/_files/"
"""Where complete files are served (no auth)."""
FileState = Literal["pending", "uploading", "complete"]


class FileRecord:
    """A file plus what the emulator keeps beside it."""

    __slots__ = ("declared_size", "dto", "expires", "path", "seq", "state", "task_id", "token")

    def __init__(self, dto: dict[str, Any], *, token: str, expires: datetime, seq: int) -> None:
        self.dto = dto
        self.token = token
        self.expires = expires
        """When the upload URL stops working (emulator clock)."""
        self.seq = seq
        self.state: FileState = "pending"
        self.declared_size: int | None = None
        self.path: Path | None = None
        """The stored bytes, once complete."""
        self.task_id: str | None = None
        """The task whose output this file is."""


def file_dto(
    file_id: str,
    *,
    now: datetime,
    name: str,
    disk: str,
    content_type: str,
    size: int,
    base_url: str,
    output: bool,
    visibility: str = "private",
    path: str = "",
    category: str = "",
) -> dict[str, Any]:
    """The `FileDTO` of a new file, uploaded by a client or (`output`) returned by an app.

    Args:
        file_id: The new file's id.
        now: Its creation time (emulator clock).
        name: The file name the client or app gave.
        disk: `name` as stored on disk (and in its URLs).
        content_type: Its media type.
        size: Its size in bytes (0 while an upload's size is unknown).
        base_url: The emulator's URL, the start of the file's `uri`.
        output: An app's output (stored under `outputs/`), not an upload (`uploads/`).
        visibility: `public` or `private`.
        path: The client's folder path.
        category: The client's category.
    """
    folder = "outputs" if output else "uploads"
    return {
        "id": file_id,
        "short_id": file_id.removeprefix("file_")[:8],
        "created_at": iso(now),
        "updated_at": iso(now),
        "user_id": USER_ID,
        "team_id": TEAM_ID,
        "visibility": visibility,
        "path": path,
        "remote_path": f"{folder}/{TEAM_ID}/{file_id}/{disk}",
        "upload_url": "",
        "uri": f"{base_url}{CONTENT_PREFIX}{file_id}/{quote(disk)}",
        "content_type": content_type,
        "size": size,
        "filename": name,
        "category": category,
        "rating": "safe",
    }
