"""A Flask app whose page runs inference.sh apps from the browser; the key stays here.

The same page as proxy_fastapi.py, served by Flask with the proxy's blueprint:

    python examples/proxy_flask.py --sdk-bundle sdk.js              # a local emulator
    INFERENCE_API_KEY=... python examples/proxy_flask.py --sdk-bundle sdk.js \
        --upstream https://api.inference.sh                           # the real API

In production, serve `create_app(...)` with a WSGI server such as gunicorn.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from flask import Flask, Response, send_file
from werkzeug.serving import make_server

from inferencesh.proxy.flask import proxy_blueprint

PAGE = Path(__file__).with_name("proxy_page.html")


def create_app(*, sdk_bundle: Path, api_base_url: str | None, api_key: str | None) -> Flask:
    app = Flask(__name__)
    app.register_blueprint(proxy_blueprint(api_key=api_key, api_base_url=api_base_url))

    @app.get("/")
    def page() -> Response:
        return send_file(PAGE, mimetype="text/html")

    @app.get("/sdk.js")
    def sdk() -> Response:
        if not sdk_bundle.is_file():
            return Response(f"no SDK bundle at {sdk_bundle}: see docs/proxy.md", 404)
        return send_file(sdk_bundle.resolve(), mimetype="text/javascript")

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
        server = make_server("127.0.0.1", args.port, app, threaded=True)
        print(
            f"Serving on http://127.0.0.1:{server.server_port} (calls go to {base_url})", flush=True
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


if __name__ == "__main__":
    main()
