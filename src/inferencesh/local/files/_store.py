"""The emulator's files: records, their bytes on disk, and single-use upload URLs.

`POST /files` creates a *pending* record with an upload URL on the emulator itself
(`/_uploads/<id>?token=...`, expiring after `upload_url_ttl` seconds of the emulator's clock).
Its `PUT` streams the body into a partial file under the data directory; only a complete body
(of the declared size, within `max_upload_size`, not empty) is moved into place and makes the
record complete, which uses up the URL. Anything else - a body too large, the wrong size, a
dropped connection - deletes the partial file and leaves the record pending, its URL usable
again until it expires (clients retry failed PUTs). Pending records are not listed, and once
their URL has expired they are dropped: an abandoned upload leaves nothing behind.

A complete file is served without authentication at its `uri` (`/_files/<id>/<name>`), as a
presigned download URL is; the random 64-bit id is its secret.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import tempfile
import threading
import typing
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from inferencesh.local.core._envelope import ApiError
from inferencesh.local.core._ids import Clock, new_id
from inferencesh.local.core._listing import paginate
from inferencesh.local.files._local_file import LocalFile
from inferencesh.local.files._names import disk_name, guess_type, parse_entry
from inferencesh.local.files._record import CONTENT_PREFIX, FileRecord, file_dto
from inferencesh.local.files._upload import Upload, check_body, check_start, url_expired

__all__ = [
    "CONTENT_PREFIX",
    "DEFAULT_MAX_UPLOAD_SIZE",
    "UPLOAD_PREFIX",
    "FileStore",
    "LocalFile",
    "Upload",
    "disk_name",
    "guess_type",
]

UPLOAD_PREFIX = "/_uploads/"
"""Where upload URLs point (no auth: the token grants the upload)."""
DEFAULT_MAX_UPLOAD_SIZE = 2 * 1024**3
_TOMBSTONES = 10_000  # expired upload ids remembered, to answer late PUTs with 410


class FileStore:
    """Every file of one emulator, and the directory their bytes live in (thread-safe).

    Args:
        clock: The emulator's clock (upload URLs expire by it).
        data_dir: Where bytes are stored; None makes a temporary directory on first use,
            removed by `close()` (or when the store is garbage collected, or at exit).
        max_upload_size: Largest accepted upload, in bytes.
        upload_url_ttl: Seconds an upload URL stays valid.
        on_change: Called after a record or a partial upload was added or removed, or a
            record's state changed (`Emulator.wait_until` waits on it).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        data_dir: str | os.PathLike[str] | None = None,
        max_upload_size: int = DEFAULT_MAX_UPLOAD_SIZE,
        upload_url_ttl: float = 900.0,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.clock = clock
        self._on_change = on_change
        self.max_upload_size = max_upload_size
        self.upload_url_ttl = upload_url_ttl
        self._configured = None if data_dir is None else Path(data_dir)
        self._root: Path | None = None
        self._cleanup: weakref.finalize[Any, Any] | None = None
        self._lock = threading.RLock()
        self._files: dict[str, FileRecord] = {}
        self._expired: OrderedDict[str, None] = OrderedDict()
        self._seq = 0

    # -- the data directory ---------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The data directory (created on first use)."""
        with self._lock:
            if self._root is None:
                if self._configured is not None:
                    self._configured.mkdir(parents=True, exist_ok=True)
                    self._root = self._configured
                else:
                    self._root = Path(tempfile.mkdtemp(prefix="inferencesh-emulator-"))
                    # Removed even if close() is never called (a test session's emulator).
                    self._cleanup = weakref.finalize(
                        self, shutil.rmtree, str(self._root), ignore_errors=True
                    )
                (self._root / "files").mkdir(exist_ok=True)
                (self._root / "partial").mkdir(exist_ok=True)
            return self._root

    def close(self) -> None:
        """Forget every file; a temporary data directory is deleted with its files."""
        with self._lock:
            self._files.clear()
            self._expired.clear()
            cleanup, self._cleanup = self._cleanup, None
            self._root = None
        if cleanup is not None:
            cleanup()
        self._on_change()

    # -- creating -------------------------------------------------------------------------

    def create(self, body: Mapping[str, Any], *, base_url: str) -> list[dict[str, Any]]:
        """Register the files of a `POST /files` body; their DTOs, each with an `upload_url`.

        Raises:
            ApiError: 400 `invalid_request` for a malformed body (nothing is registered).
        """
        entries = body.get("files")
        if not isinstance(entries, list) or not entries:
            raise ApiError(400, "invalid_request", "files must be a non-empty list of files")
        category = body.get("category") or ""
        if not isinstance(category, str):
            raise ApiError(400, "invalid_request", "category must be a string")
        specs = [parse_entry(i, e) for i, e in enumerate(typing.cast(list[Any], entries))]
        created: list[dict[str, Any]] = []
        with self._lock:
            self._purge()
            try:
                for spec in specs:
                    record = self._new_record(spec, category=category, base_url=base_url)
                    token = record.token
                    url = f"{base_url}{UPLOAD_PREFIX}{record.dto['id']}?token={token}"
                    created.append({**record.dto, "upload_url": url})
            except BaseException:
                for dto in created:  # all or none, even when the emulator itself fails
                    self._files.pop(dto["id"], None)
                raise
        self._on_change()
        return created

    def _new_record(self, spec: Mapping[str, Any], *, category: str, base_url: str) -> FileRecord:
        file_id = new_id("file")
        now = self.clock.now()
        name = spec["filename"]
        dto = file_dto(
            file_id,
            now=now,
            name=name,
            disk=disk_name(name),
            content_type=spec["content_type"],
            size=spec["size"] or 0,
            base_url=base_url,
            output=False,
            visibility="public" if spec["public"] else "private",
            path=spec["path"],
            category=category,
        )
        self._seq += 1
        record = FileRecord(
            dto,
            token=secrets.token_urlsafe(24),
            expires=now + timedelta(seconds=self.upload_url_ttl),
            seq=self._seq,
        )
        record.declared_size = spec["size"]
        self._files[file_id] = record
        return record

    # -- reading --------------------------------------------------------------------------

    def get(self, file_id: str) -> dict[str, Any] | None:
        """A copy of the file's DTO (pending files too), or None."""
        with self._lock:
            self._purge()
            record = self._files.get(file_id)
            return None if record is None else dict(record.dto)

    def snapshots(self, *, include_pending: bool = False) -> list[dict[str, Any]]:
        """Copies of the files' DTOs, oldest first; complete files only unless asked."""
        with self._lock:
            self._purge()
            return [
                dict(r.dto)
                for r in self._files.values()
                if include_pending or r.state == "complete"
            ]

    def list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A page of complete files (`CursorListResponse<FileDTO>`), newest first by default."""
        return paginate(self.snapshots(), body)

    def local_path(self, file_id: str) -> Path | None:
        """Where a complete file's bytes are; None if there is no such complete file."""
        with self._lock:
            record = self._files.get(file_id)
            if record is None or record.state != "complete":
                return None
            return record.path

    def content(self, file_id: str) -> tuple[Path, str]:
        """The path and content type to serve a file's bytes from.

        Raises:
            ApiError: 404 unknown or not yet uploaded.
        """
        with self._lock:
            self._purge()
            record = self._files.get(file_id)
            if record is None:
                raise ApiError(404, "not_found", f"file {file_id} not found")
            if record.state != "complete" or record.path is None:
                raise ApiError(
                    404, "not_found", f"file {file_id} has no content: its upload did not finish"
                )
            path, content_type = record.path, record.dto["content_type"]
        if not path.is_file():
            raise ApiError(
                404, "not_found", f"file {file_id} has no content: its bytes are gone from disk"
            )
        return path, content_type

    # -- deleting -------------------------------------------------------------------------

    def delete(self, file_id: str) -> bool:
        """Delete a file's record and bytes; False if there was no such file."""
        with self._lock:
            record = self._files.pop(file_id, None)
        if record is None:
            return False
        _remove_stored(record)
        self._on_change()
        return True

    def delete_for_task(self, task_id: str) -> int:
        """Delete the output files of a task; how many there were."""
        with self._lock:
            doomed = [r for r in self._files.values() if r.task_id == task_id]
            for record in doomed:
                del self._files[record.dto["id"]]
        for record in doomed:
            _remove_stored(record)
        if doomed:
            self._on_change()
        return len(doomed)

    # -- uploading ------------------------------------------------------------------------

    def begin_upload(self, file_id: str, token: str, length: int | None) -> Upload:
        """Start the `PUT` of a file's bytes.

        Args:
            file_id: From the upload URL.
            token: The URL's `token`.
            length: The request's `Content-Length`, if it has one.

        Raises:
            ApiError: 404 unknown file; 403 wrong token; 410 the URL expired; 409 the URL was
                used already, or another upload of it is in progress; 413 over the size
                limit; 400 a length other than the declared size, or an empty body.
        """
        with self._lock:
            self._purge()
            record = self._files.get(file_id)
            if record is None:
                if file_id in self._expired:
                    raise url_expired(file_id)
                raise ApiError(404, "not_found", f"file {file_id} not found (deleted?)")
            check_start(record, token, length, now=self.clock.now(), limit=self.max_upload_size)
            partial = self.root / "partial" / f"{file_id}.{secrets.token_hex(4)}.part"
            handle = partial.open("wb")
            record.state = "uploading"
        self._on_change()
        return Upload(self, record, partial, handle)

    def finish_upload(self, upload: Upload) -> None:
        """Move a complete upload into place (called by `Upload.finish`)."""
        record = upload.record
        file_id: str = record.dto["id"]
        check_body(record, upload.received)
        with self._lock:
            if self._files.get(file_id) is not record:
                raise ApiError(404, "not_found", f"file {file_id} was deleted during its upload")
            target = self.root / "files" / file_id / disk_name(record.dto["filename"])
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(upload.partial, target)
            except BaseException:
                shutil.rmtree(target.parent, ignore_errors=True)  # no empty folder stays
                raise
            record.path = target
            record.state = "complete"
            record.dto["size"] = upload.received
            record.dto["updated_at"] = self.clock.now_iso()
        self._on_change()

    def abort_upload(self, record: FileRecord, partial: Path) -> None:
        """Drop what a failed upload wrote (called by `Upload`); its URL may be used again."""
        # One step under the lock: once the partial file is gone the URL is usable again,
        # so a test waiting for the one can rely on the other.
        with self._lock:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            if record.state == "uploading":
                record.state = "pending"  # the URL may be used again until it expires
        self._on_change()

    # -- files of apps --------------------------------------------------------------------

    def add_local(self, file: LocalFile, *, base_url: str, task_id: str | None) -> dict[str, Any]:
        """Store a file an app returned; the output value `{uri, filename, content_type, size}`.

        Blocking (it copies the file): call it from a worker thread.

        Raises:
            FileNotFoundError: the path does not exist.
            IsADirectoryError: the path is a directory.
            OSError: the file cannot be read.
        """
        name = file.filename or (file.path.name if file.path is not None else "file")
        content_type = file.content_type or guess_type(name)
        file_id = new_id("file")
        disk = disk_name(name)
        target = self.root / "files" / file_id / disk
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if file.data is not None:
                target.write_bytes(file.data)
            else:
                assert file.path is not None
                if file.path.is_dir():
                    raise IsADirectoryError(errno.EISDIR, "a directory, not a file", str(file.path))
                shutil.copyfile(file.path, target)
            size = target.stat().st_size
        except BaseException:
            shutil.rmtree(target.parent, ignore_errors=True)
            raise
        now = self.clock.now()
        dto = file_dto(
            file_id,
            now=now,
            name=name,
            disk=disk,
            content_type=content_type,
            size=size,
            base_url=base_url,
            output=True,
        )
        with self._lock:
            self._seq += 1
            record = FileRecord(dto, token="", expires=now, seq=self._seq)
            record.state = "complete"
            record.path = target
            record.task_id = task_id
            self._files[file_id] = record
        self._on_change()
        return {"uri": dto["uri"], "filename": name, "content_type": content_type, "size": size}

    # -- internals ------------------------------------------------------------------------

    def _purge(self) -> None:
        """Drop pending records whose upload URL expired (called under the lock)."""
        now = self.clock.now()
        stale = [r for r in self._files.values() if r.state == "pending" and now >= r.expires]
        for record in stale:
            file_id = record.dto["id"]
            del self._files[file_id]
            self._expired[file_id] = None
            if len(self._expired) > _TOMBSTONES:
                self._expired.popitem(last=False)
        if stale:
            self._on_change()


def _remove_stored(record: FileRecord) -> None:
    if record.path is not None:
        shutil.rmtree(record.path.parent, ignore_errors=True)
