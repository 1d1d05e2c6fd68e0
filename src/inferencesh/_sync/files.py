"""Files: uploads with flat memory, downloads to disk, and automatic upload of inputs (sync)."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx2

from inferencesh._protocol import files as api
from inferencesh._protocol.endpoints import build
from inferencesh._protocol.envelope import error_from_response, read_data
from inferencesh._protocol.results import as_model, translate_transport_error
from inferencesh._protocol.retry import RetryPolicy
from inferencesh._sync._http import HTTP
from inferencesh._types import ProgressCallback
from inferencesh.errors import APIError, APIResponseValidationError, UploadError

if TYPE_CHECKING:
    from inferencesh.models.file import File, FileRef
    from inferencesh.models.page import CursorPage

__all__ = ["Files"]

logger = logging.getLogger("inferencesh")

MAX_PARALLEL_UPLOADS = 4


def _file() -> type[File]:
    from inferencesh.models.file import File  # built on first use, see inferencesh.models

    return File


class Files:
    """Upload, look up, download and delete files: `client.files`."""

    def __init__(self, http: HTTP) -> None:
        self._http = http

    def upload(
        self,
        src: str | os.PathLike[str] | bytes | Any,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        public: bool | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> File:
        """Upload a path, bytes, a binary file object or a data URI; return the file.

        Files are streamed from disk in 1 MiB chunks, so memory stays flat at any size. The
        content type comes from `content_type`, else the file name, else the first bytes,
        else `application/octet-stream`.

        Raises:
            MissingFileError: the path does not exist.
            FileInputError: a directory, an empty or unreadable file, a bad data URI.
            UploadError: the bytes could not be sent; the file record was deleted again.
        """
        source = api.source_of(src, filename=filename, content_type=content_type)
        opts = self._http.opts
        response = self._http.send(api.create_request(opts, source, public=public))
        try:
            record, url = api.parse_created(read_data(response))
        except ValueError as exc:
            raise APIResponseValidationError(f"POST /files: {exc}", response=response) from exc
        try:
            self._put(url, source, on_progress)
        except (APIError, OSError) as exc:
            file_id = record.get("id")
            self._forget(file_id)
            raise UploadError(
                f"uploading {source.filename} failed: {exc}; the file record was deleted, "
                "nothing was kept",
                file_id=file_id if isinstance(file_id, str) else None,
            ) from exc
        record.pop("upload_url", None)
        return self._bind(as_model(_file(), record, response))

    def get(self, file_id: str) -> File:
        """Fetch a file's record."""
        call = build(self._http.opts, "GET", f"/files/{_quote(file_id)}")
        return self._bind(as_model(_file(), self._http.request(call)))

    def list(self, *, limit: int = 20, cursor: str | None = None) -> CursorPage[File]:
        """One page of your files, newest first."""
        body: dict[str, Any] = {"limit": limit}
        if cursor:
            body["cursor"] = cursor
        call = build(self._http.opts, "POST", "/files/list", body=body, idempotent=True)
        from inferencesh.models.page import CursorPage

        page = as_model(CursorPage[_file()], self._http.request(call))
        for item in page.items:
            self._bind(item)
        return page

    def delete(self, file_id: str) -> None:
        """Delete a file."""
        self._http.request(api.delete_request(self._http.opts, file_id))

    def download(
        self,
        file: FileRef | str,
        dest: str | os.PathLike[str] = ".",
        *,
        on_progress: ProgressCallback | None = None,
    ) -> Path:
        """Stream a file (or a URI) to `dest` (a directory, or a file path); return the path.

        The bytes go to a temporary file next to the destination, renamed into place when
        complete, so a failed download never leaves a partial file behind.
        """
        from inferencesh.models.file import FileRef

        ref = file if isinstance(file, FileRef) else FileRef(uri=file)
        target = api.download_target(dest, ref.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with partial.open("wb") as out:
                for chunk in self._chunks(ref.uri, on_progress):
                    out.write(chunk)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return target

    def read_bytes(self, file: FileRef | str) -> bytes:
        """A whole file in memory (use `download` for large files)."""
        uri = file if isinstance(file, str) else file.uri
        return b"".join(self._chunks(uri, None))

    # -- internals ------------------------------------------------------------------------

    def _bind(self, file: File) -> File:
        file._files = self  # pyright: ignore[reportPrivateUsage]
        return file

    def _chunks(self, uri: str, on_progress: ProgressCallback | None) -> Iterator[bytes]:
        if uri.startswith("data:"):
            data = api.decode_data_uri(uri)
            if on_progress is not None:
                on_progress(len(data), len(data))
            yield data
            return
        response = self._http.send(api.download_request(self._http.opts, uri), stream=True)
        try:
            total = _length(response)
            done = 0
            for chunk in response.iter_bytes(api.CHUNK_SIZE):
                done += len(chunk)
                if on_progress is not None:
                    on_progress(done, total)
                yield chunk
        except httpx2.TransportError as exc:
            raise translate_transport_error(exc, response.request) from exc
        finally:
            response.close()

    def _put(
        self, url: str, source: api.UploadSource, on_progress: ProgressCallback | None
    ) -> None:
        opts = self._http.opts
        policy = RetryPolicy(max_retries=opts.max_retries)
        start = source.fileobj.tell() if source.fileobj is not None else 0
        attempt = 0
        while True:
            attempt += 1
            if source.fileobj is not None:
                source.fileobj.seek(start)
            request = api.put_request(url, source, _progress(source, on_progress), opts)
            try:
                response = self._http.client.send(request)
            except httpx2.TransportError as exc:
                delay = policy.delay_after_error(attempt, exc, idempotent=True)
                if delay is None:
                    raise translate_transport_error(exc, request) from exc
                time.sleep(delay)
                continue
            if response.is_success:
                return
            delay = policy.delay_after_response(attempt, response, idempotent=True)
            if delay is None:
                raise error_from_response(response)
            time.sleep(delay)

    def _forget(self, file_id: object) -> None:
        if not isinstance(file_id, str):
            return
        try:
            self.delete(file_id)
        except APIError as exc:  # the upload's own error is what the caller must see
            logger.warning("could not delete the half-uploaded file %s: %s", file_id, exc)

    def upload_inputs(self, value: Any) -> Any:
        """Upload every file inside a run's input; return a copy with their URIs in place."""
        found = api.find_uploads(value)
        if not found:
            return api.substitute(value, {})

        def one(item: tuple[api.Location, object]) -> tuple[api.Location, str]:
            at, src = item
            logger.info("uploading %s for %s", _label(src), api.describe(at))
            return at, self.upload(src).uri

        if len(found) == 1:
            uris = dict([one(found[0])])
        else:
            with ThreadPoolExecutor(min(MAX_PARALLEL_UPLOADS, len(found))) as pool:
                uris = dict(pool.map(one, found))
        return api.substitute(value, uris)


def _progress(source: api.UploadSource, on_progress: ProgressCallback | None) -> Iterator[bytes]:
    done = 0
    for chunk in api.read_chunks(source):
        done += len(chunk)
        yield chunk
        if on_progress is not None:
            on_progress(done, source.size)


def _length(response: httpx2.Response) -> int | None:
    raw = response.headers.get("content-length")
    return int(raw) if raw and raw.isdigit() else None


def _label(src: object) -> str:
    if isinstance(src, str) and not src.startswith("data:"):
        return src
    if isinstance(src, os.PathLike):
        return str(cast("os.PathLike[str]", src))
    return type(src).__name__


def _quote(file_id: str) -> str:
    from urllib.parse import quote

    if not file_id:
        raise ValueError("file_id must be a non-empty string")
    return quote(file_id, safe="")
