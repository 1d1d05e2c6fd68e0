"""A FastAPI app whose page runs inference.sh apps from the browser; the key stays here.

The page (proxy_page.html) uses the official JS SDK with `proxyUrl`; this server mounts the
proxy at /api/inference/proxy and serves the SDK bundle you built (see docs/proxy.md):

    python examples/proxy_fastapi.py --sdk-bundle sdk.js            # a local emulator
    INFERENCE_API_KEY=... python examples/proxy_fastapi.py --sdk-bundle sdk.js \
        --upstream https://api.inference.sh                           # the real API

Then open the URL it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import FileResponse, PlainTextResponse, Response

from inferencesh.proxy.fastapi import proxy_router

PAGE = Path(__file__).with_name("proxy_page.html")


def create_app(*, sdk_bundle: Path, api_base_url: str | None, api_key: str | None) -> FastAPI:
    app = FastAPI()
    # The key: `api_key`, else INFERENCE_API_KEY. Calls go to inference.sh, or to
    # `api_base_url` when set (the browser keeps the SDK's default base URL).
    app.include_router(proxy_router(api_key=api_key, api_base_url=api_base_url))

    @app.get("/")
    def page() -> FileResponse:
        return FileResponse(PAGE, media_type="text/html")

    @app.get("/sdk.js")
    def sdk() -> Response:
        if not sdk_bundle.is_file():
            return PlainTextResponse(f"no SDK bundle at {sdk_bundle}: see docs/proxy.md", 404)
        return FileResponse(sdk_bundle, media_type="text/javascript")

    return app


@contextlib.contextmanager
def upstream(url: str | None) -> Iterator[tuple[str | None, str | None]]:
    """The API to use, and its key: `url` with INFERENCE_API_KEY, else a local emulator."""
    if url is not None:
        yield url, None
        return
    from inferencesh.local import Emulator, running

    with running(Emulator()) as emulator:
        yield emulator.base_url, emulator.api_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--sdk-bundle", type=Path, default=Path("sdk.js"))
    parser.add_argument("--upstream", help="the API's base URL (default: a local emulator)")
    args = parser.parse_args()
    with upstream(args.upstream) as (base_url, key):
        app = create_app(sdk_bundle=args.sdk_bundle, api_base_url=base_url, api_key=key)
        # IPPROTO_TCP: asyncio then turns off Nagle's algorithm, which would hold small
        # responses back for the peer's delayed ACK (40 ms).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", args.port))
        print(
            f"Serving on http://127.0.0.1:{sock.getsockname()[1]} (calls go to {base_url})",
            flush=True,
        )
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    main()
