"""Incremental decoding of task streams: any split of the bytes yields the same objects.

`NdjsonDecoder` turns bytes into one JSON object per line; `Dechunker` strips HTTP/1.1 chunked
framing, for the transports that read a stream's socket themselves (a task stream sends one
line per chunk: stripping the framing of every chunk a read brought, in one pass, is cheaper
than a parser handing over one chunk per call).

Lines are parsed with orjson when it is installed (a dependency on CPython), else with the
standard library's `json`: parsing is the largest cost per stream update (≈ 0.6 vs 2.2 µs for
a 150-byte line, bench/RESULTS.md). Both give the same objects. A line orjson refuses (it is
stricter: NaN, infinities, lone surrogates) is handed to `json`, which decides; and since
orjson reads an integer beyond 64 bits as a float, bytes holding a run of 19 or more digits
(such an integer has at least 19) are parsed by `json` (a C-speed check, ≈ 0.1 µs a line).
orjson is imported on the first line, so importing the SDK does not pay for it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["ChunkedEncodingError", "Dechunker", "NdjsonDecoder", "fast_loads", "loads"]

logger = logging.getLogger("inferencesh")

_loads: Callable[[bytes], Any] | None = None
_DIGITS = bytes(0x30 if 0x30 <= c <= 0x39 else 0x20 for c in range(256))
"""A `bytes.translate` table: every digit becomes "0", every other byte a space."""
_LONG_NUMBER = b"0" * 19


def fast_loads() -> Callable[[bytes], Any]:
    """The fastest `loads` installed (orjson, else `json`); failures are `ValueError`s."""
    global _loads
    if _loads is None:
        try:
            import orjson
        except ImportError:
            _loads = json.loads
        else:
            _loads = orjson.loads  # its JSONDecodeError is a ValueError, like json's
    return _loads


def loads(data: bytes) -> Any:
    """One JSON document's value, the same as `json.loads` makes it, parsed by orjson if it can.

    What orjson refuses, or might read differently (an integer beyond 64 bits), goes to `json`,
    which decides.

    Raises:
        ValueError: `data` is not JSON.
    """
    fast = fast_loads()
    if fast is json.loads or _LONG_NUMBER in data.translate(_DIGITS):
        return json.loads(data)
    try:
        return fast(data)
    except ValueError:
        return json.loads(data)


class NdjsonDecoder:
    """Feed it chunks as they arrive; it returns each complete line's JSON object.

    Blank lines are skipped. A line that is not a JSON object is logged and skipped (as the
    official Python SDK does) rather than ending the stream: one bad line must not lose the
    updates after it.
    """

    __slots__ = ("_buf", "_exact", "_loads")

    def __init__(self, loads: Callable[[bytes], Any] | None = None) -> None:
        """Make a decoder; `loads` parses one line (default: `fast_loads()`)."""
        self._buf = b""
        self._loads = loads or fast_loads()
        self._exact = self._loads is json.loads
        """Whether `_loads` keeps integers of any size (else long ones go to `json`)."""

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """Add bytes; return the objects of every line completed by them."""
        if b"\n" not in chunk:
            self._buf += chunk
            return []
        data = self._buf + chunk if self._buf else chunk
        *lines, self._buf = data.split(b"\n")
        loads = self._loads
        if not self._exact and _LONG_NUMBER in data.translate(_DIGITS):
            loads = json.loads  # maybe an integer beyond 64 bits, which orjson makes a float
        objects: list[dict[str, Any]] = []
        for line in lines:
            try:
                obj = loads(line)
            except ValueError:
                obj = _decode(line)  # blank, or refused by orjson: decided by `json`
            if type(obj) is dict:
                objects.append(obj)  # pyright: ignore[reportUnknownArgumentType]
            elif obj is not None:
                logger.warning("skipping a stream line that is not an object: %r", line[:200])
        return objects

    def flush(self) -> list[dict[str, Any]]:
        """The object of a last line that had no newline, at the end of the stream."""
        rest, self._buf = self._buf, b""
        obj = _decode(rest)
        if obj is not None and type(obj) is not dict:
            logger.warning("skipping a stream line that is not an object: %r", rest[:200])
            return []
        return [] if obj is None else [obj]


def _decode(line: bytes) -> Any:
    """A line's JSON value with the standard library, or None for a blank or broken line."""
    if not line or line.isspace():
        return None
    try:
        return json.loads(line)
    except ValueError:
        logger.warning("skipping a stream line that is not JSON: %r", line[:200])
        return None


class ChunkedEncodingError(ValueError):
    """The server broke HTTP/1.1's chunked framing (the transports raise a protocol error)."""


class Dechunker:
    """Incremental decoder of an HTTP/1.1 chunked body: framing in, data out (RFC 9112 §7.1)."""

    __slots__ = ("_buf", "_left", "done")

    MAX_LINE = 4096
    """The longest chunk-size or trailer line accepted."""

    def __init__(self) -> None:
        self._buf = b""
        self._left = 0
        """Data bytes left in the current chunk; -1 before its CRLF; -2 in the trailers."""
        self.done = False
        """Whether the last chunk and the trailers were read."""

    @property
    def rest(self) -> bytes:
        """What was fed after the body's end (a kept-alive connection must have nothing)."""
        return self._buf if self.done else b""

    def feed(self, data: bytes) -> bytes:
        """Add bytes of the body; return the data they complete (maybe b"")."""
        buf = self._buf + data if self._buf else data
        out: list[bytes] = []
        pos, end, left = 0, len(buf), self._left
        while pos < end and not self.done:
            if left > 0:  # inside a chunk's data
                stop = pos + left
                if stop > end:  # the chunk goes on in a later read
                    out.append(buf[pos:])
                    left = stop - end
                    pos = end
                    break
                out.append(buf[pos:stop])
                pos = stop
                left = -1
                continue
            if left == -1:  # the CRLF after a chunk's data
                if end - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise ChunkedEncodingError("chunk data not followed by CRLF")
                pos += 2
                left = 0
                continue
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                if end - pos > self.MAX_LINE:
                    raise ChunkedEncodingError("chunk-size line too long")
                break
            line = buf[pos:eol]
            pos = eol + 2
            if left == -2:  # a trailer line; the empty one ends the body
                self.done = not line
                continue
            try:
                size = int(line.split(b";", 1)[0], 16)
            except ValueError:
                raise ChunkedEncodingError(f"bad chunk size {line[:40]!r}") from None
            if size < 0:
                raise ChunkedEncodingError(f"bad chunk size {line[:40]!r}")
            left = size if size else -2
        self._left = left
        self._buf = buf[pos:]
        return b"".join(out) if len(out) != 1 else out[0]
