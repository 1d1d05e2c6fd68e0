"""File names: what a client's name becomes on disk, and the checks of a `POST /files` entry."""

from __future__ import annotations

import mimetypes
import typing
import unicodedata
from typing import Any

from inferencesh.local.core._envelope import ApiError

__all__ = ["OCTET_STREAM", "disk_name", "guess_type", "parse_entry"]

OCTET_STREAM = "application/octet-stream"
_MAX_NAME = 255
"""Bytes: the longest file name common file systems store (NAME_MAX)."""
_CONTROL = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Direction overrides: they make a name display as something else (`gpj.exe` as `exe.jpg`)."""


def parse_entry(index: int, raw: Any) -> dict[str, Any]:
    """Check one `PartialFile` of a `POST /files` body; explicit nulls mean absent."""
    where = f"files[{index}]"
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid_request", f"{where} must be an object")
    entry = {k: v for k, v in typing.cast(dict[str, Any], raw).items() if v is not None}
    for key in ("filename", "content_type", "path", "uri"):
        if key in entry and not isinstance(entry[key], str):
            raise ApiError(400, "invalid_request", f"{where}.{key} must be a string")
    size = entry.get("size")
    if size is not None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ApiError(
                400, "invalid_request", f"{where}.size must be a byte count, got {size!r}"
            )
        if size == 0:
            raise ApiError(
                400, "invalid_request", f"{where}.size is 0: an empty file cannot be uploaded"
            )
    public = entry.get("public", False)
    if not isinstance(public, bool):
        raise ApiError(400, "invalid_request", f"{where}.public must be a boolean")
    content_type: str | None = entry.get("content_type") or None
    filename: str | None = entry.get("filename") or None
    if filename is None:
        extension = mimetypes.guess_extension(content_type or "", strict=False) or ""
        filename = f"upload{extension}"
    return {
        "filename": filename,
        "content_type": content_type or guess_type(filename),
        "path": entry.get("path") or "",
        "size": size,
        "public": public,
    }


def guess_type(name: str) -> str:
    """The content type a file name suggests, else `application/octet-stream`."""
    return mimetypes.guess_type(name, strict=False)[0] or OCTET_STREAM


def disk_name(name: str) -> str:
    """A safe single path component for a client-given file name.

    The last component of the name (either slash), control characters and line separators
    replaced by `_` (they break URLs, logs and terminals), cut to `_MAX_NAME` bytes of UTF-8
    on a character boundary, keeping a short extension. `upload` if nothing is left.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join("_" if _is_control(ch) else ch for ch in base).strip()
    if base in ("", ".", ".."):
        return "upload"
    if len(base.encode()) <= _MAX_NAME:
        return base
    stem, dot, extension = base.rpartition(".")
    suffix = "." + extension if dot and stem and len(extension.encode()) <= 16 else ""
    head = stem if suffix else base
    return _cut(head, _MAX_NAME - len(suffix.encode())) + suffix


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in _CONTROL or ch in _BIDI


def _cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, never inside a character."""
    return text.encode()[:limit].decode(errors="ignore")
