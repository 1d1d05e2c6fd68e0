"""Django: the proxy as a view and a URL pattern.

```python
# urls.py
from inferencesh.proxy.django import proxy_urlpattern

urlpatterns = [proxy_urlpattern()]  # serves /api/inference/proxy
```
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt
from typing_extensions import Unpack

from inferencesh.errors import ConfigurationError
from inferencesh.proxy._core import PROXY_PATH, ProxyCore, ProxyOptions
from inferencesh.proxy._wsgi import WsgiProxy

__all__ = ["proxy_urlpattern", "proxy_view"]

_STREAMS = ("application/x-ndjson", "text/event-stream")


def proxy_view(
    proxy: WsgiProxy | None = None,
    **options: Unpack[ProxyOptions],
) -> Callable[[HttpRequest], HttpResponse | StreamingHttpResponse]:
    """A view forwarding the JS SDK's proxied calls; route it at `api/inference/proxy`.

    The view is exempt from Django's CSRF check, which the JS SDK's requests cannot pass:
    the proxy refuses writes that lack its `x-inf-target-url` header, and a cross-site page
    cannot set that header without a CORS preflight, which the proxy never grants.
    `authorize` gets a `ProxyRequest` whose `native` is the `HttpRequest`
    (`request.user`, `request.session`).

    Args:
        proxy: A proxy from `wsgi_proxy()` to serve (you then close it); by default one is
            made from `options`, and lives as long as the process.
        **options: The options of `wsgi_proxy()` (`api_key`, `allowed_hosts`, `authorize`, ...).

    Raises:
        ConfigurationError: a malformed option (see `wsgi_proxy()`), or both `proxy` and
            options.
    """
    if proxy is None:
        proxy = WsgiProxy(ProxyCore(framework="django", **options))
    elif options:
        raise ConfigurationError("pass either a proxy or its options, not both")
    served = proxy

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        reply = served.handle(
            request.method or "GET",
            list(request.headers.items()),
            request.META.get("QUERY_STRING", ""),
            client=request.META.get("REMOTE_ADDR"),
            native=request,
            read=request.read,
        )
        content_type = next((v for k, v in reply.headers if k == "content-type"), "")
        if content_type.startswith(_STREAMS):
            # GZipMiddleware compresses a sync stream into one gzip member that it flushes
            # only at the end, which would hold task updates back; without the request's
            # Accept-Encoding it leaves the response alone.
            request.META.pop("HTTP_ACCEPT_ENCODING", None)
        response = StreamingHttpResponse(reply.body, status=reply.status)
        del response["Content-Type"]  # upstream's (or none) is the answer
        for key, value in reply.headers:
            response[key] = value
        return response

    return view


def proxy_urlpattern(
    route: str = PROXY_PATH.lstrip("/"),
    *,
    proxy: WsgiProxy | None = None,
    name: str = "inferencesh-proxy",
    **options: Unpack[ProxyOptions],
) -> URLPattern:
    """`path(route, proxy_view(**options), name=name)`, for a `urlpatterns` list.

    Args:
        route: The URL pattern (Django's, without a leading slash).
        proxy: A proxy from `wsgi_proxy()` to serve (see `proxy_view`).
        name: The URL pattern's name (for `reverse`).
        **options: The options of `wsgi_proxy()`.

    Raises:
        ConfigurationError: a malformed option (see `wsgi_proxy()`), or both `proxy` and
            options.
    """
    return path(route, proxy_view(proxy, **options), name=name)
