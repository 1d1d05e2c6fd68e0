"""The file endpoints (files.md), the upload URLs and the download URLs.

`POST /files`, `POST /files/list`, `GET /files/{id}` and `DELETE /files/{id}` are API calls
(authenticated, enveloped). `PUT /_uploads/{id}?token=...` and `GET /_files/{id}/{name}` are
what the API hands out as `upload_url` and `uri`: no key needed, no envelope, as with presigned
storage URLs.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from inferencesh.local.core._envelope import ApiError, base_url_of, ok, read_json_object
from inferencesh.local.files._store import CONTENT_PREFIX, UPLOAD_PREFIX, FileStore

__all__ = ["PUBLIC_PREFIXES", "file_routes"]

PUBLIC_PREFIXES = (CONTENT_PREFIX, UPLOAD_PREFIX)
"""Paths served without the API key: the URLs themselves grant access."""


def file_routes(store: FileStore) -> list[BaseRoute]:
    """The routes of `/files...`, the upload URLs and the download URLs."""

    async def create(request: Request) -> Response:
        body = await read_json_object(request)
        return ok(request, store.create(body, base_url=base_url_of(request)))

    async def list_files(request: Request) -> Response:
        return ok(request, store.list(await read_json_object(request, required=False)))

    async def get(request: Request) -> Response:
        file_id = _file_id(request)
        dto = store.get(file_id)
        if dto is None:
            raise _not_found(file_id)
        return ok(request, dto)

    async def delete(request: Request) -> Response:
        file_id = _file_id(request)
        if not store.delete(file_id):
            raise _not_found(file_id)
        return ok(request, None, void=True)

    async def upload(request: Request) -> Response:
        upload = store.begin_upload(
            _file_id(request),
            request.query_params.get("token", ""),
            _content_length(request),
        )
        try:
            async for chunk in request.stream():
                await upload.write(chunk)
            await upload.finish()
        except ClientDisconnect:
            upload.abort()  # the client went away mid-body: nothing is kept
            return Response(status_code=400)  # never delivered
        except BaseException:
            upload.abort()
            raise
        return Response(status_code=200)

    async def content(request: Request) -> Response:
        path, content_type = store.content(_file_id(request))
        return _FileResponse(path, media_type=content_type)

    return [
        Route("/files", create, methods=["POST"]),
        Route("/files/list", list_files, methods=["POST"]),
        Route("/files/{file_id}", get, methods=["GET"]),
        Route("/files/{file_id}", delete, methods=["DELETE"]),
        Route(UPLOAD_PREFIX + "{file_id}", upload, methods=["PUT"]),
        Route(CONTENT_PREFIX + "{file_id}", content, methods=["GET"]),
        Route(CONTENT_PREFIX + "{file_id}/{name:path}", content, methods=["GET"]),
    ]


class _FileResponse(FileResponse):
    # Starlette reads 64 KiB at a time; larger reads double the download rate of big files.
    chunk_size = 1024 * 1024


def _file_id(request: Request) -> str:
    return str(request.path_params["file_id"])


def _content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise ApiError(400, "invalid_request", f"invalid Content-Length: {raw!r}")
    return int(raw)


def _not_found(file_id: str) -> ApiError:
    return ApiError(404, "not_found", f"file {file_id} not found")
