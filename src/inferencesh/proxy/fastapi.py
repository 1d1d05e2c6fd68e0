"""FastAPI (and Starlette): the proxy as a router to include in your app.

```python
from fastapi import FastAPI

from inferencesh.proxy.fastapi import proxy_router

app = FastAPI()
app.include_router(proxy_router())  # serves /api/inference/proxy
```
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter
from starlette.routing import Route
from typing_extensions import Unpack

from inferencesh.errors import ConfigurationError
from inferencesh.proxy._asgi import AsgiProxy
from inferencesh.proxy._core import METHODS, PROXY_PATH, ProxyCore, ProxyOptions

__all__ = ["proxy_router"]


def proxy_router(
    proxy: AsgiProxy | None = None, *, path: str = PROXY_PATH, **options: Unpack[ProxyOptions]
) -> APIRouter:
    """A router serving the proxy at `path`; include it with `app.include_router(...)`.

    The route is left out of the OpenAPI schema. The app's shutdown closes the proxy's
    upstream connections.

    Args:
        proxy: A proxy from `asgi_proxy()` to serve; by default one is made from `options`.
        path: Where the JS SDK's `proxyUrl` points (its default is `/api/inference/proxy`).
        **options: The options of `asgi_proxy()` (`api_key`, `allowed_hosts`, `authorize`, ...).

    Raises:
        ConfigurationError: a malformed option (see `asgi_proxy()`), or both `proxy` and
            options.
    """
    if proxy is None:
        proxy = AsgiProxy(ProxyCore(framework="fastapi", **options))
    elif options:
        raise ConfigurationError("pass either a proxy or its options, not both")
    served = proxy

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncGenerator[None]:
        yield
        await served.aclose()

    router = APIRouter(lifespan=lifespan)
    # An ASGI app as a route's endpoint is called as it is: the body streams both ways.
    router.routes.append(
        Route(path, endpoint=served, methods=list(METHODS), include_in_schema=False)
    )
    return router
