"""`asgi_proxy()` and `wsgi_proxy()`: the two ways to build the proxy."""

from __future__ import annotations

from collections.abc import Iterable

from inferencesh.proxy._asgi import AsgiProxy
from inferencesh.proxy._core import DEFAULT_MAX_BODY_SIZE, ApiKey, Authorizer, ProxyCore
from inferencesh.proxy._wsgi import WsgiProxy

__all__ = ["asgi_proxy", "wsgi_proxy"]


def asgi_proxy(
    *,
    api_key: ApiKey = None,
    allowed_hosts: Iterable[str] = (),
    api_base_url: str | None = None,
    authorize: Authorizer | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    timeout: float = 60.0,
) -> AsgiProxy:
    """An ASGI app that lets browsers use the JS SDK with `proxyUrl`, keeping the key here.

    Mount it at `/api/inference/proxy` (the JS SDK's default `proxyUrl` path), or serve it
    alone. It forwards GET, POST, PUT and DELETE to the URL in the browser's
    `x-inf-target-url` header (or `__inf_target` query parameter) with the server's key,
    and streams the answer back chunk by chunk.

    Example:
        ```python
        from starlette.applications import Starlette
        from starlette.routing import Route

        from inferencesh.proxy import METHODS, PROXY_PATH, asgi_proxy

        proxy = asgi_proxy()  # the key comes from INFERENCE_API_KEY
        app = Starlette(routes=[Route(PROXY_PATH, proxy, methods=list(METHODS))])
        ```

        (FastAPI: `app.include_router(inferencesh.proxy.fastapi.proxy_router())`.)

    Args:
        api_key: The server's key, or a function of the `ProxyRequest` returning it (sync or
            async; None falls back to the env var). Default: `INFERENCE_API_KEY`, read at
            each call.
        allowed_hosts: Exact `host:port` entries allowed besides inference.sh domains (which
            must be https on the default port), e.g. `("127.0.0.1:8787",)` for the emulator.
        api_base_url: Send every call here instead (scheme, host and port replaced; path
            and query kept), e.g. `http://127.0.0.1:8787`. Default: the
            `INFERENCE_API_BASE_URL` env var when set at construction.
        authorize: Called with the `ProxyRequest` before anything is sent (sync functions in
            a worker thread): return False to answer 403, or raise `ProxyRefused` to answer
            anything else (401, 429 with `Retry-After`, ...).
        max_body_size: Largest request body forwarded, in bytes (larger: 413).
        timeout: Seconds to wait for upstream to connect or send the next bytes.

    Raises:
        ConfigurationError: a malformed `allowed_hosts` entry, `api_base_url` or `api_key`.
    """
    return AsgiProxy(
        ProxyCore(
            framework="asgi",
            api_key=api_key,
            allowed_hosts=allowed_hosts,
            api_base_url=api_base_url,
            authorize=authorize,
            max_body_size=max_body_size,
            timeout=timeout,
        )
    )


def wsgi_proxy(
    *,
    api_key: ApiKey = None,
    allowed_hosts: Iterable[str] = (),
    api_base_url: str | None = None,
    authorize: Authorizer | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    timeout: float = 60.0,
) -> WsgiProxy:
    """A WSGI app that lets browsers use the JS SDK with `proxyUrl`, keeping the key here.

    The same proxy as `asgi_proxy()` (same arguments) for WSGI servers such as gunicorn;
    async `authorize` and key functions run on a short-lived event loop per call. Mount it
    at `/api/inference/proxy`, e.g. with werkzeug's `DispatcherMiddleware`, or use the Flask
    and Django helpers (`inferencesh.proxy.flask`, `inferencesh.proxy.django`).

    Example:
        ```python
        from inferencesh.proxy import wsgi_proxy

        application = wsgi_proxy()  # gunicorn module:application
        ```

    Raises:
        ConfigurationError: a malformed `allowed_hosts` entry, `api_base_url` or `api_key`.
    """
    return WsgiProxy(
        ProxyCore(
            framework="wsgi",
            api_key=api_key,
            allowed_hosts=allowed_hosts,
            api_base_url=api_base_url,
            authorize=authorize,
            max_body_size=max_body_size,
            timeout=timeout,
        )
    )
