"""Flask: the proxy as a blueprint to register on your app.

```python
from flask import Flask

from inferencesh.proxy.flask import proxy_blueprint

app = Flask(__name__)
app.register_blueprint(proxy_blueprint())  # serves /api/inference/proxy
```
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from typing_extensions import Unpack

from inferencesh.errors import ConfigurationError
from inferencesh.proxy._core import METHODS, PROXY_PATH, ProxyCore, ProxyOptions
from inferencesh.proxy._wsgi import WsgiProxy

__all__ = ["proxy_blueprint"]


def proxy_blueprint(
    proxy: WsgiProxy | None = None,
    *,
    path: str = PROXY_PATH,
    name: str = "inferencesh_proxy",
    **options: Unpack[ProxyOptions],
) -> Blueprint:
    """A blueprint serving the proxy at `path`; register it with `app.register_blueprint`.

    Responses stream (Flask passes the iterable through); `authorize` gets a `ProxyRequest`
    whose `native` is the WSGI environ, and can use `flask.request` and `flask.session` as
    in any view.

    Args:
        proxy: A proxy from `wsgi_proxy()` to serve (you then close it); by default one is
            made from `options`, and lives as long as the process.
        path: Where the JS SDK's `proxyUrl` points (its default is `/api/inference/proxy`).
        name: The blueprint's name.
        **options: The options of `wsgi_proxy()` (`api_key`, `allowed_hosts`, `authorize`, ...).

    Raises:
        ConfigurationError: a malformed option (see `wsgi_proxy()`), or both `proxy` and
            options.
    """
    proxy = _proxy(proxy, options)
    blueprint = Blueprint(name, __name__)

    def view() -> Response:
        reply = proxy.handle(
            request.method,
            list(request.headers.items()),
            request.query_string.decode("latin-1"),
            client=request.remote_addr,
            native=request.environ,
            read=request.stream.read,
        )
        response = Response(reply.body, status=reply.status)
        response.headers.clear()  # no default Content-Type: upstream's (or none) is the answer
        for key, value in reply.headers:
            response.headers.add(key, value)
        return response

    blueprint.add_url_rule(path, endpoint="proxy", view_func=view, methods=list(METHODS))
    return blueprint


def _proxy(proxy: WsgiProxy | None, options: ProxyOptions) -> WsgiProxy:
    if proxy is None:
        return WsgiProxy(ProxyCore(framework="flask", **options))
    if options:
        raise ConfigurationError("pass either a proxy or its options, not both")
    return proxy
