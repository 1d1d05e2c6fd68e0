"""Files: uploads with flat memory, downloads to disk, and automatic upload of inputs (async)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx2

from inferencesh._async import _io as io
from inferencesh._async._http import AsyncHTTP
from inferencesh._protocol import autoupload as inputs
from inferencesh._protocol import files as api
from inferencesh._protocol.endpoints import build
from inferencesh._protocol.envelope import read_data
from inferencesh._protocol.results import as_model, translate_transport_error
from inferencesh._types import ProgressCallback
from inferencesh.errors import APIError, APIResponseValidationError, UploadError

if TYPE_CHECKING:
    from inferencesh._protocol.deadline import Deadline
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
        return await self._upload(src, filename, content_type, public, on_progress, None)

    async def get(self, file_id: str) -> AsyncFile:
        """Fetch a file's record."""
        call = build(self._http.opts, "GET", f"/files/{_quote(file_id)}")
        return self._bind(await self._http.request_model(_file(), call))

    async def list(self, *, limit: int = 20, cursor: str | None = None) -> CursorPage[AsyncFile]:
        """One page of your files, newest first."""
        body: dict[str, Any] = {"limit": limit}
        if cursor:
            body["cursor"] = cursor
        call = build(self._http.opts, "POST", "/files/list", body=body, idempotent=True)
        from inferencesh.models.page import CursorPage

        page = await self._http.request_model(CursorPage[_file()], call)
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
        # The name is checked before anything is written: a server's ".." never leaves dest.
        target = await io.run_blocking(api.download_target, dest, ref.name)
        await io.make_dirs(target.parent)
        partial = api.partial_path(target)
        try:
            async with (
                await io.open_new(partial) as out,
                aclosing(self._chunks(ref.uri, on_progress)) as chunks,
            ):
                async for chunk in chunks:
                    await out.write(chunk)
            await io.replace(partial, target)
        finally:
            await io.remove(partial)
        return target

    async def read_bytes(self, file: FileRef | str) -> bytes:
        """A whole file in memory (use `download` for large files)."""
        uri = file if isinstance(file, str) else file.uri
        data = bytearray()
        async with aclosing(self._chunks(uri, None)) as chunks:
            async for chunk in chunks:
                data += chunk
        return bytes(data)

    # -- internals ------------------------------------------------------------------------

    async def _upload(
        self,
        src: object,
        filename: str | None,
        content_type: str | None,
        public: bool | None,
        on_progress: ProgressCallback | None,
        deadline: Deadline | None,
    ) -> AsyncFile:
        source = api.source_of(src, filename=filename, content_type=content_type)
        opts = self._http.opts
        call = api.create_request(opts, source, public=public).within(deadline)
        response = await self._http.send(call)
        try:
            record, url = api.parse_created(read_data(response))
        except ValueError as exc:
            raise APIResponseValidationError(f"POST /files: {exc}", response=response) from exc
        try:
            put = api.put_call(url, source, lambda: io.upload_body(source, on_progress), opts)
            await self._http.send(put.within(deadline))
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
            async with io.body_chunks(response, api.CHUNK_SIZE) as chunks:
                async for chunk in chunks:
                    done += len(chunk)
                    if on_progress is not None:
                        on_progress(done, total)
                    yield chunk
        except httpx2.TransportError as exc:
            raise translate_transport_error(exc, response.request) from exc
        finally:
            await response.aclose()

    async def _forget(self, file_id: object) -> None:
        if not isinstance(file_id, str):
            return
        try:
            await self.delete(file_id)
        except APIError as exc:  # the upload's own error is what the caller must see
            logger.warning("could not delete the half-uploaded file %s: %s", file_id, exc)

    async def upload_inputs(self, value: Any, deadline: Deadline | None = None) -> Any:
        """Upload every file inside a run's input; return a copy with their URIs in place."""
        found = inputs.find_uploads(value)
        if not found:
            return inputs.substitute(value, {})

        async def one(item: tuple[inputs.Location, object]) -> str:
            at, src = item
            logger.info("uploading %s for %s", _label(src), inputs.describe(at))
            return (await self._upload(src, None, None, None, None, deadline)).uri

        uris = await io.map_limited(one, found, MAX_PARALLEL_UPLOADS)
        return inputs.substitute(value, {at: uri for (at, _), uri in zip(found, uris, strict=True)})


def _length(response: httpx2.Response) -> int | None:
    raw = response.headers.get("content-length")
    return int(raw) if raw and raw.isdigit() else None


def _label(src: object) -> str:
    if isinstance(src, str):
        return "a data URI"
    if isinstance(src, os.PathLike):
        return str(cast("os.PathLike[str]", src))
    return type(src).__name__


def _quote(file_id: str) -> str:
    from urllib.parse import quote

    if not file_id:
        raise ValueError("file_id must be a non-empty string")
    return quote(file_id, safe="")
