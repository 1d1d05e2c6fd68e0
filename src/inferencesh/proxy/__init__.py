"""A server-side proxy for browser apps that use the official JS SDK with `proxyUrl`.

The browser never holds the API key: it sends each call to your server, which forwards it
to inference.sh with the key and streams the answer back. Only inference.sh hosts (and the
exact `host:port` entries you allow, such as a local emulator) can be reached through it.

```python
from inferencesh.proxy import asgi_proxy, wsgi_proxy

app = asgi_proxy(allowed_hosts=("127.0.0.1:8787",))  # ASGI: FastAPI, Starlette, uvicorn
application = wsgi_proxy()  # WSGI: gunicorn, Flask, Django
```

Helpers: `inferencesh.proxy.fastapi.proxy_router`, `inferencesh.proxy.flask.proxy_blueprint`,
`inferencesh.proxy.django.proxy_urlpattern`. Install with `pip install 'inferencesh[proxy]'`.
"""

from __future__ import annotations

from typing import Any

from inferencesh.proxy._asgi import AsgiProxy as AsgiProxy
from inferencesh.proxy._core import METHODS as METHODS
from inferencesh.proxy._core import PROXY_PATH as PROXY_PATH
from inferencesh.proxy._core import TARGET_PARAM as TARGET_PARAM
from inferencesh.proxy._core import ApiKey as ApiKey
from inferencesh.proxy._core import Authorizer as Authorizer
from inferencesh.proxy._core import ProxyOptions as ProxyOptions
from inferencesh.proxy._factories import asgi_proxy as asgi_proxy
from inferencesh.proxy._factories import wsgi_proxy as wsgi_proxy
from inferencesh.proxy._headers import TARGET_HEADER as TARGET_HEADER
from inferencesh.proxy._request import ProxyRefused as ProxyRefused
from inferencesh.proxy._request import ProxyRequest as ProxyRequest
from inferencesh.proxy._wsgi import WsgiProxy as WsgiProxy

__all__ = [
    "METHODS",
    "PROXY_PATH",
    "TARGET_HEADER",
    "TARGET_PARAM",
    "ApiKey",
    "AsgiProxy",
    "Authorizer",
    "ProxyOptions",
    "ProxyRefused",
    "ProxyRequest",
    "WsgiProxy",
    "asgi_proxy",
    "wsgi_proxy",
]


def _publish(*objects: Any) -> None:
    # Reprs, tracebacks and docs then name the public path, not the private module.
    for obj in objects:
        obj.__module__ = __name__


_publish(AsgiProxy, ProxyRefused, ProxyRequest, WsgiProxy, asgi_proxy, wsgi_proxy)
del _publish
