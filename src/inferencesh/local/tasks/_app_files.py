"""Files crossing into and out of apps: uris become local paths, returned paths become files.

In: a file uri of this emulator anywhere in a run's input (or setup) reaches the app as the
stored file's local path, so a `Path` field of its input model gets a path it can open; a file
object (`{"uri": ..., ...}`) gets its `path` set, as the platform does for its apps. The task
keeps the uris the client sent.

Out: a `pathlib.Path` or a `LocalFile` anywhere in what an app returns (also inside models and
dataclasses) is stored as a file of the emulator and replaced by `{uri, filename,
content_type, size}`, which clients read as a file.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from inferencesh.local.core._envelope import ApiError
from inferencesh.local.files._store import CONTENT_PREFIX, FileStore, LocalFile

__all__ = ["has_files", "host_of", "local_inputs", "replace_files"]

_URI = re.compile(
    r"^https?://(?P<host>[^/?#]+)" + re.escape(CONTENT_PREFIX) + r"(?P<id>file_[0-9a-f]{16})(?:/|$)"
)


def local_inputs(value: Any, files: FileStore, *, where: str, host: str) -> Any:
    """A copy of `value` where this emulator's file uris are local paths.

    Args:
        value: The request's `input` (or `setup`).
        files: The emulator's files.
        where: `input` or `setup`, for error messages.
        host: The host the request was sent to: a uri of that host naming a file that is
            not (or no longer, or not yet) there is an error rather than a plain string.

    Raises:
        ApiError: 422 `validation_error` for a uri of this emulator without a stored file.
    """

    def path_of(uri: str, at: str) -> str | None:
        match = _URI.match(uri)
        if match is None:
            return None
        path = files.local_path(match["id"])
        if path is not None:
            return str(path)
        if match["host"] == host:
            raise ApiError(
                422,
                "validation_error",
                f"invalid {where}: {at}: file {match['id']} is not available (deleted, or its "
                "upload did not finish)",
                extra={"invalid_params": [{"name": at, "reason": "file not available"}]},
            )
        return None

    def walk(item: Any, at: str) -> Any:
        if isinstance(item, str):
            return path_of(item, at) or item
        if isinstance(item, list):
            items = typing.cast(list[Any], item)
            return [walk(v, f"{at}.{i}") for i, v in enumerate(items)]
        if isinstance(item, dict):
            mapping = typing.cast(dict[str, Any], item)
            uri = mapping.get("uri")
            if isinstance(uri, str):
                path = path_of(uri, f"{at}.uri")
                if path is not None:
                    return {**mapping, "path": path}
            return {k: walk(v, f"{at}.{k}") for k, v in mapping.items()}
        return item

    return walk(value, where)


def has_files(value: Any) -> bool:
    """Whether an app's result holds a `Path` or a `LocalFile` anywhere."""
    if isinstance(value, PurePath | LocalFile):
        return True
    if isinstance(value, Mapping):
        return any(has_files(v) for v in typing.cast(Mapping[Any, Any], value).values())
    if isinstance(value, list | tuple):
        return any(has_files(v) for v in typing.cast(list[Any], value))
    if isinstance(value, BaseModel):
        return any(has_files(v) for v in value.__dict__.values())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(has_files(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def replace_files(value: Any, store: Callable[[LocalFile], dict[str, Any]]) -> Any:
    """A copy of an app's result with each `Path`/`LocalFile` replaced by `store(file)`.

    Models and dataclasses become plain dicts on the way (as they would for JSON anyway).
    """
    if isinstance(value, LocalFile):
        return store(value)
    if isinstance(value, PurePath):
        return store(LocalFile(value))
    if isinstance(value, BaseModel):
        return replace_files(value.model_dump(mode="python"), store)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        plain = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return replace_files(plain, store)
    if isinstance(value, Mapping):
        mapping = typing.cast(Mapping[Any, Any], value)
        return {k: replace_files(v, store) for k, v in mapping.items()}
    if isinstance(value, list | tuple):
        return [replace_files(v, store) for v in typing.cast(list[Any], value)]
    return value


def host_of(url: str) -> str:
    """The `host[:port]` of a base URL."""
    return urlsplit(url).netloc
