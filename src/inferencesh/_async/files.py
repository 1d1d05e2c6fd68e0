"""Files: uploads with flat memory, downloads to disk, and automatic upload of inputs (async)."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anyio
import anyio.to_thread
import httpx2

from inferencesh._async._http import AsyncHTTP, body_chunks
from inferencesh._protocol import files as api
from inferencesh._protocol.endpoints import build
from inferencesh._protocol.envelope import error_from_response, read_data
from inferencesh._protocol.results import as_model, translate_transport_error
from inferencesh._protocol.retry import RetryPolicy
from inferencesh._types import ProgressCallback
from inferencesh.errors import APIError, APIResponseValidationError, UploadError

if TYPE_CHECKING:
    from inferencesh.models.file import AsyncFile, FileRef
    from inferencesh.models.page import CursorPage

__all__ = ["AsyncFiles"]

logger = logging.getLogger("inferencesh")

MAX_PARALLEL_UPLOADS = 4


def _file() -> type[AsyncFile]:
    from inferencesh.models.file import AsyncFile  # built on first use, see inferencesh.models

    return AsyncFile


class AsyncFiles:
    """Upload, look up, download and delete files: `client.files`."""

    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    async def upload(
        self,
        src: str | os.PathLike[str] | bytes | Any,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        public: bool | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> AsyncFile:
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
        response = await self._http.send(api.create_request(opts, source, public=public))
        try:
            record, url = api.parse_created(read_data(response))
        except ValueError as exc:
            raise APIResponseValidationError(f"POST /files: {exc}", response=response) from exc
        try:
            await self._put(url, source, on_progress)
        except (APIError, OSError) as exc:
            file_id = record.get("id")
            await self._forget(file_id)
            raise UploadError(
                f"uploading {source.filename} failed: {exc}; the file record was deleted, "
                "nothing was kept",
                file_id=file_id if isinstance(file_id, str) else None,
            ) from exc
        record.pop("upload_url", None)
        return self._bind(as_model(_file(), record, response))

    async def get(self, file_id: str) -> AsyncFile:
        """Fetch a file's record."""
        call = build(self._http.opts, "GET", f"/files/{_quote(file_id)}")
        return self._bind(as_model(_file(), await self._http.request(call)))

    async def list(self, *, limit: int = 20, cursor: str | None = None) -> CursorPage[AsyncFile]:
        """One page of your files, newest first."""
        body: dict[str, Any] = {"limit": limit}
        if cursor:
            body["cursor"] = cursor
        call = build(self._http.opts, "POST", "/files/list", body=body, idempotent=True)
        from inferencesh.models.page import CursorPage

        page = as_model(CursorPage[_file()], await self._http.request(call))
        for item in page.items:
            self._bind(item)
        return page

    async def delete(self, file_id: str) -> None:
        """Delete a file."""
        await self._http.request(api.delete_request(self._http.opts, file_id))

    async def download(
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
        target = await anyio.to_thread.run_sync(api.download_target, dest, ref.name)
        await anyio.Path(target.parent).mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            async with (
                await anyio.open_file(partial, "wb") as out,
                aclosing(self._chunks(ref.uri, on_progress)) as chunks,
            ):
                async for chunk in chunks:
                    await out.write(chunk)
            await anyio.Path(partial).replace(target)
        finally:
            await anyio.Path(partial).unlink(missing_ok=True)
        return target

    async def read_bytes(self, file: FileRef | str) -> bytes:
        """A whole file in memory (use `download` for large files)."""
        uri = file if isinstance(file, str) else file.uri
        async with aclosing(self._chunks(uri, None)) as chunks:
            return b"".join([chunk async for chunk in chunks])

    # -- internals ------------------------------------------------------------------------

    def _bind(self, file: AsyncFile) -> AsyncFile:
        file._files = self  # pyright: ignore[reportPrivateUsage]
        return file

    async def _chunks(
        self, uri: str, on_progress: ProgressCallback | None
    ) -> AsyncGenerator[bytes]:
        if uri.startswith("data:"):
            data = api.decode_data_uri(uri)
            if on_progress is not None:
                on_progress(len(data), len(data))
            yield data
            return
        response = await self._http.send(api.download_request(self._http.opts, uri), stream=True)
        try:
            total = _length(response)
            done = 0
            async with body_chunks(response, api.CHUNK_SIZE) as chunks:
                async for chunk in chunks:
                    done += len(chunk)
                    if on_progress is not None:
                        on_progress(done, total)
                    yield chunk
        except httpx2.TransportError as exc:
            raise translate_transport_error(exc, response.request) from exc
        finally:
            await response.aclose()

    async def _put(
        self, url: str, source: api.UploadSource, on_progress: ProgressCallback | None
    ) -> None:
        opts = self._http.opts
        policy = RetryPolicy(max_retries=opts.max_retries)
        start = source.fileobj.tell() if source.fileobj is not None else 0
        attempt = 0
        while True:
            attempt += 1
            if source.fileobj is not None:
                await anyio.to_thread.run_sync(source.fileobj.seek, start)
            request = api.put_request(url, source, _progress(source, on_progress), opts)
            try:
                response = await self._http.client.send(request)
            except httpx2.TransportError as exc:
                delay = policy.delay_after_error(attempt, exc, idempotent=True)
                if delay is None:
                    raise translate_transport_error(exc, request) from exc
                await anyio.sleep(delay)
                continue
            if response.is_success:
                return
            delay = policy.delay_after_response(attempt, response, idempotent=True)
            if delay is None:
                raise error_from_response(response)
            await anyio.sleep(delay)

    async def _forget(self, file_id: object) -> None:
        if not isinstance(file_id, str):
            return
        try:
            await self.delete(file_id)
        except APIError as exc:  # the upload's own error is what the caller must see
            logger.warning("could not delete the half-uploaded file %s: %s", file_id, exc)

    async def upload_inputs(self, value: Any) -> Any:
        """Upload every file inside a run's input; return a copy with their URIs in place."""
        found = api.find_uploads(value)
        if not found:
            return api.substitute(value, {})

        uris: dict[api.Location, str] = {}
        failures: list[Exception] = []
        limiter = anyio.CapacityLimiter(MAX_PARALLEL_UPLOADS)

        async def one(at: api.Location, src: object) -> None:
            async with limiter:
                logger.info("uploading %s for %s", _label(src), api.describe(at))
                try:
                    uris[at] = (await self.upload(src)).uri
                except Exception as exc:
                    # Raised as itself below, as the sync client does, not in an ExceptionGroup.
                    failures.append(exc)
                    group.cancel_scope.cancel()

        async with anyio.create_task_group() as group:
            for at, src in found:
                group.start_soon(one, at, src)
        if failures:
            raise failures[0]
        return api.substitute(value, uris)


async def _progress(
    source: api.UploadSource, on_progress: ProgressCallback | None
) -> AsyncGenerator[bytes]:
    # Disk reads happen in a worker thread so a slow disk never blocks the event loop.
    chunks = api.read_chunks(source)  # a generator: closed below even if abandoned
    done = 0
    try:
        while chunk := await anyio.to_thread.run_sync(next, chunks, b""):
            done += len(chunk)
            yield chunk
            if on_progress is not None:
                on_progress(done, source.size)
    finally:
        chunks.close()


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
