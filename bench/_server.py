"""A small, fast HTTP/1.1 server for the benchmarks (a raw asyncio protocol, loopback only).

Routes (the task id carries the parameters, so clients call the real API paths):

- `GET /tasks/{id}`         answers the task in the `{"success","status","data","messages"}`
                            envelope after `--delay-ms` (the "5 ms server").
- `GET /tasks/s{N}/stream`  NDJSON: N running-task lines, then a completed one. Chunked
                            transfer encoding, one chunk per line, one write per line; the
                            writer waits whenever the socket's buffer is full (the drain).

Run: `python bench/_server.py --port 0 --delay-ms 5`; it prints `READY <port>` when listening.
It only ever binds 127.0.0.1. Stop it with SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio  # noqa: TID251 - the benchmark server is asyncio-only on purpose
import json
import signal
import sys

_TASK = {
    "id": "",
    "status": 10,
    "app_id": "bench/echo",
    "input": {"text": "hello"},
    "output": {"text": "hello"},
    "error": None,
    "events": [],
    "logs": [],
    "created_at": "2025-01-01T00:00:00Z",
    "updated_at": "2025-01-01T00:00:01Z",
}

_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"content-type: application/x-ndjson\r\n"
    b"cache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n"
    b"\r\n"
)


def _line(task_id: str, i: int, n: int) -> bytes:
    """One running-task line, about 150 bytes, as the API streams them."""
    return (
        b'{"id":"%s","status":7,"progress":%.6f,"progress_message":"step %d of %d",'
        b'"updated_at":"2025-01-01T00:00:00.%06dZ"}\n'
        % (task_id.encode(), i / n, i, n, i % 1_000_000)
    )


def _final(task_id: str) -> bytes:
    return (
        b'{"id":"%s","status":10,"progress":1.0,"output":{"text":"done"},'
        b'"updated_at":"2025-01-01T00:00:01Z"}\n' % task_id.encode()
    )


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


_CACHE: dict[tuple[str, int], list[bytes]] = {}


def _chunks(task_id: str, n: int) -> list[bytes]:
    """The framed chunks of a stream, built once per (id, N) so that serving one costs the
    server little more than its writes: the fastest client must not be waiting for it."""
    key = (task_id, n)
    if key not in _CACHE:
        _CACHE[key] = [_chunk(_line(task_id, i, n)) for i in range(n)]
    return _CACHE[key]


def _response(status: str, body: bytes, *, close: bool) -> bytes:
    return b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s" % (
        status.encode(),
        len(body),
        b"connection: close\r\n" if close else b"",
        body,
    )


class _Http(asyncio.Protocol):
    delay = 0.005

    def __init__(self) -> None:
        self._t: asyncio.Transport | None = None
        self._buf = b""
        self._paused = False
        self._resumed: asyncio.Future[None] | None = None
        self._streaming = False

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._t = transport
        transport.set_write_buffer_limits(high=256 * 1024)

    def connection_lost(self, exc: Exception | None) -> None:
        self._t = None
        self._wake()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        while not self._streaming:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self._buf = self._buf[:end], self._buf[end + 4 :]
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            if len(parts) != 3:
                self._close()
                return
            method, target = parts[0], parts[1].split(b"?", 1)[0].decode()
            close = parts[2] == b"HTTP/1.0"
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"connection":
                    close = value.strip().lower() == b"close"
                elif name == b"content-length":
                    length = int(value)
            if length:
                self._buf = self._buf[length:]  # GET-only server: bodies are ignored
            self._route(method, target, close)

    # -- routes ----------------------------------------------------------------------------

    def _route(self, method: bytes, target: str, close: bool) -> None:
        parts = target.strip("/").split("/")
        if method == b"GET" and len(parts) == 3 and parts[0] == "tasks" and parts[2] == "stream":
            n = int(parts[1][1:]) if parts[1][:1] == "s" and parts[1][1:].isdigit() else 10
            self._streaming = True
            asyncio.get_running_loop().create_task(self._stream(parts[1], n, close))
        elif method == b"GET" and len(parts) == 2 and parts[0] == "tasks":
            body = json.dumps(
                {"success": True, "status": 200, "data": {**_TASK, "id": parts[1]}, "messages": []},
                separators=(",", ":"),
            ).encode()
            reply = _response("200 OK", body, close=close)
            if self.delay > 0:
                asyncio.get_running_loop().call_later(self.delay, self._send, reply, close)
            else:
                self._send(reply, close)
        else:
            self._send(_response("404 Not Found", b'{"detail":"not found"}', close=True), True)

    def _send(self, data: bytes, close: bool) -> None:
        if self._t is None or self._t.is_closing():
            return
        self._t.write(data)
        if close:
            self._close()

    def _close(self) -> None:
        if self._t is not None:
            self._t.close()

    def _wake(self) -> None:
        if self._resumed is not None and not self._resumed.done():
            self._resumed.set_result(None)

    async def _drain(self) -> None:
        while self._paused and self._t is not None:
            self._resumed = asyncio.get_running_loop().create_future()
            await self._resumed

    async def _stream(self, task_id: str, n: int, close: bool) -> None:
        t = self._t
        if t is None:
            return
        chunks = _chunks(task_id, n)
        t.write(_STREAM_HEAD)
        for chunk in chunks:
            t.write(chunk)  # one write per line ...
            if self._paused or self._t is None:  # ... and a drain while the buffer is full
                if self._t is None:
                    return
                await self._drain()
                if self._t is None:
                    return
        if self._t is None:
            return
        t.write(_chunk(_final(task_id)) + b"0\r\n\r\n")
        self._streaming = False
        if close:
            self._close()
        elif self._buf:
            self.data_received(b"")


async def serve(port: int, delay_ms: float) -> None:
    _Http.delay = delay_ms / 1000
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Http, "127.0.0.1", port, backlog=4096, reuse_address=True)
    sock = server.sockets[0]
    print(f"READY {sock.getsockname()[1]}", flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.delay_ms))
    sys.exit(0)


if __name__ == "__main__":
    main()
