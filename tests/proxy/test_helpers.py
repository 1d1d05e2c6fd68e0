"""The framework helpers: FastAPI's router (uvicorn), Flask's blueprint and Django's URL
pattern (each WSGI app under wsgiref), with a real call, a streamed task and a refusal."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from inferencesh.errors import ConfigurationError
from inferencesh.local import RunningServer
from inferencesh.proxy import ProxyRequest, wsgi_proxy
from tests.proxy._flows import stream_gated_task
from tests.proxy._servers import serve_asgi, serve_wsgi
from tests.proxy.conftest import Gates, hosts

PATH = "/api/inference/proxy"


def check(proxy_url: str, server: RunningServer, gates: Gates) -> None:
    """A JSON call, a streamed task, and a refused target, through `proxy_url`."""
    with httpx2.Client(timeout=10, trust_env=False) as http:
        run = http.post(
            proxy_url,
            headers={"x-inf-target-url": f"{server.base_url}/apps/run"},
            json={
                "app": "infsh/text-templating",
                "input": {"template": "Hi {1}", "strings": ["x"]},
            },
        )
        assert run.status_code == 200, run.text
        assert run.json()["data"]["app_id"]
        refused = http.get(proxy_url, headers={"x-inf-target-url": "http://127.0.0.1:1/x"})
        assert refused.status_code == 412
        assert refused.headers["content-type"] == "application/json"
        assert refused.json() == {
            "error": "Target must be an inference.sh domain, got: 127.0.0.1:1"
        }
    assert stream_gated_task(proxy_url, server, gates, steps=10).before_end >= 1


def test_fastapi_router(emulator_server: RunningServer, gates: Gates) -> None:
    from fastapi import FastAPI

    from inferencesh.proxy.fastapi import proxy_router

    app = FastAPI()
    app.include_router(
        proxy_router(api_key=emulator_server.api_key, allowed_hosts=hosts(emulator_server.base_url))
    )
    assert PATH not in app.openapi()["paths"]
    with serve_asgi(app) as url:
        check(url + PATH, emulator_server, gates)


def test_flask_blueprint(emulator_server: RunningServer, gates: Gates) -> None:
    from flask import Flask

    from inferencesh.proxy.flask import proxy_blueprint

    proxy = wsgi_proxy(
        api_key=emulator_server.api_key, allowed_hosts=hosts(emulator_server.base_url)
    )
    app = Flask(__name__)
    app.register_blueprint(proxy_blueprint(proxy))
    with serve_wsgi(app) as url:
        check(url + PATH, emulator_server, gates)
    proxy.close()
    with pytest.raises(ConfigurationError):
        proxy_blueprint(proxy, api_key="sk-x")


@pytest.fixture(scope="module")
def django_app(emulator_server: RunningServer) -> Iterator[tuple[Any, list[Any]]]:
    """A Django project with CSRF and GZip middleware and the proxy's URL pattern."""
    import django
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.http import HttpRequest

    from inferencesh.proxy.django import proxy_urlpattern

    seen: list[Any] = []

    def authorize(request: ProxyRequest) -> bool:
        seen.append(request.native)
        return isinstance(request.native, HttpRequest)

    urls = types.ModuleType("proxy_test_urls")
    proxy = wsgi_proxy(
        api_key=emulator_server.api_key,
        allowed_hosts=hosts(emulator_server.base_url),
        authorize=authorize,
    )
    urls.urlpatterns = [proxy_urlpattern(proxy=proxy)]  # type: ignore[attr-defined]
    sys.modules[urls.__name__] = urls
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="proxy-tests-only",
            ALLOWED_HOSTS=["127.0.0.1"],
            ROOT_URLCONF=urls.__name__,
            MIDDLEWARE=[
                "django.middleware.security.SecurityMiddleware",
                "django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
                "django.middleware.gzip.GZipMiddleware",
            ],
            INSTALLED_APPS=[],
            USE_TZ=True,
        )
        django.setup()
    yield WSGIHandler(), seen
    del sys.modules[urls.__name__]
    proxy.close()


def test_django_urlpattern(
    django_app: tuple[Any, list[Any]], emulator_server: RunningServer, gates: Gates
) -> None:
    handler, seen = django_app
    with serve_wsgi(handler) as url:
        check(url + PATH, emulator_server, gates)
    assert seen and all(type(r).__name__ == "WSGIRequest" for r in seen)
