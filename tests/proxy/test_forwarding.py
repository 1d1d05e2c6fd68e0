"""What crosses the proxy: the JS SDK's headers and the server's key go up, the body and the
answer come back, and nothing of the browser's own credentials or the upstream's cookies
crosses."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from inferencesh.errors import ConfigurationError
from inferencesh.proxy import ProxyRefused, ProxyRequest, asgi_proxy, wsgi_proxy
from tests.proxy._servers import (
    KeepAlive,
    Upstream,
    free_port,
    serve_asgi,
    serve_gunicorn,
    serve_wsgi,
)
from tests.proxy.conftest import BROWSER_KEY, SERVER_KEY, options

BROWSER_HEADERS = {
    "authorization": f"Bearer {BROWSER_KEY}",
    "cookie": "session=abc; theme=dark",
    "origin": "https://app.example",
    "referer": "https://app.example/page",
    "x-forwarded-for": "10.0.0.1",
    "proxy-authorization": "Basic eDp5",
    "x-api-version": "2",
    "x-client-source": "inference-sdk-js/0.5.13",
    "x-inf-custom": "kept",
    "user-agent": "Mozilla/5.0 test",
    "accept": "application/x-ndjson",
    "content-type": "application/json",
    "te": "trailers",
}


def test_forwarded_request(
    proxy_url: str, upstream_url: str, upstream: Upstream, http: httpx2.Client
) -> None:
    target = f"{upstream_url}/tasks/list?cursor=a%2Fb%3D&limit=5"
    response = http.post(
        proxy_url,
        headers={**BROWSER_HEADERS, "x-inf-target-url": target},
        content=b'{"limit": 5}',
    )
    assert response.status_code == 200
    (seen,) = upstream.seen
    assert (seen.method, seen.path, seen.body) == (
        "POST",
        "/tasks/list?cursor=a%2Fb%3D&limit=5",
        b'{"limit": 5}',
    )
    assert seen.header("authorization") == f"Bearer {SERVER_KEY}"
    assert seen.header("x-inf-custom") == "kept"
    assert seen.header("x-api-version") == "2"
    assert seen.header("x-client-source") == "inference-sdk-js/0.5.13"
    assert seen.header("user-agent") == "Mozilla/5.0 test"
    assert seen.header("accept") == "application/x-ndjson"
    assert seen.header("content-type") == "application/json"
    assert (seen.header("x-inf-proxy") or "").startswith("inferencesh-py-proxy/")
    assert seen.header("accept-encoding") == "identity"
    assert seen.names() == {
        "host",
        "content-length",
        "authorization",
        "x-inf-custom",
        "x-api-version",
        "x-client-source",
        "user-agent",
        "accept",
        "content-type",
        "x-inf-proxy",
        "accept-encoding",
    }
    assert [v for k, v in seen.headers if k == "authorization"] == [f"Bearer {SERVER_KEY}"]


def test_defaults_for_a_bare_request(
    proxy_url: str, upstream_url: str, upstream: Upstream, http: httpx2.Client
) -> None:
    """As the JS proxy: JSON accept and content type by default; GET carries no body."""
    request = http.build_request(
        "GET",
        proxy_url,
        params={"__inf_target": f"{upstream_url}/tasks/t1"},
        headers={"content-type": ""},
        content=b"ignored",
    )
    del request.headers["accept"], request.headers["user-agent"]
    http.send(request)
    (seen,) = upstream.seen
    assert (seen.method, seen.path, seen.body) == ("GET", "/tasks/t1", b"")
    assert seen.header("accept") == "application/json"
    assert seen.header("content-type") == "application/json"
    assert seen.header("user-agent") == seen.header("x-inf-proxy")


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_put_and_delete_carry_their_body(
    method: str, proxy_url: str, upstream_url: str, upstream: Upstream, http: httpx2.Client
) -> None:
    http.request(
        method, proxy_url, headers={"x-inf-target-url": f"{upstream_url}/files/f1"}, content=b"{}"
    )
    (seen,) = upstream.seen
    assert (seen.method, seen.path, seen.body) == (method, "/files/f1", b"{}")


def test_the_answer_comes_back_without_site_acting_headers(
    proxy_url: str, upstream_url: str, upstream: Upstream, http: httpx2.Client
) -> None:
    response = http.get(proxy_url, headers={"x-inf-target-url": f"{upstream_url}/echo"})
    assert response.status_code == 200
    assert response.json() == {"method": "GET", "path": "/echo", "body": ""}
    assert response.headers["x-request-id"] == "req-123"
    assert response.headers["content-type"] == "application/json"
    for name in ("set-cookie", "strict-transport-security", "access-control-allow-origin", "x-hop"):
        assert name not in response.headers, name


def test_upstream_cookies_are_never_replayed(
    proxy_url: str, upstream_url: str, upstream: Upstream, http: httpx2.Client
) -> None:
    """The upstream sets a cookie on each answer; the next call carries none (any browser)."""
    for _ in range(2):
        http.get(proxy_url, headers={"x-inf-target-url": f"{upstream_url}/echo"})
    assert [s.header("cookie") for s in upstream.seen] == [None, None]


def test_error_statuses_pass_through(
    proxy_url: str, upstream_url: str, upstream: Upstream, http: httpx2.Client
) -> None:
    for status in (404, 412, 429, 500, 503):
        response = http.get(
            proxy_url, headers={"x-inf-target-url": f"{upstream_url}/status/{status}"}
        )
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "no"


def test_upstream_down_is_a_502(proxy_url: str, http: httpx2.Client) -> None:
    """An allowed host with nothing listening: the proxy's own error, no key in it."""
    port = free_port()
    with serve_asgi(asgi_proxy(api_key=SERVER_KEY, allowed_hosts=(f"127.0.0.1:{port}",))) as url:
        response = http.get(url, headers={"x-inf-target-url": f"http://127.0.0.1:{port}/x"})
    assert response.status_code == 502
    assert response.json() == {"error": "Upstream call failed: could not connect"}


# ------------------------------------------------------------------ options


@pytest.fixture(params=["asgi", "wsgi"])
def serve(request: pytest.FixtureRequest) -> Any:
    """Serve a proxy built with the given options, as ASGI or WSGI."""
    kind = str(request.param)

    @contextlib.contextmanager
    def make(**kwargs: Any) -> Iterator[str]:
        if kind == "asgi":
            with serve_asgi(asgi_proxy(**kwargs)) as url:  # its lifespan closes it
                yield url
            return
        app = wsgi_proxy(**kwargs)
        try:
            with serve_wsgi(app) as url:
                yield url
        finally:
            app.close()

    return make


@pytest.mark.parametrize("path", ["/sized", "/chunked"])
def test_one_upstream_connection_serves_calls_one_after_another(
    serve: Any, path: str, http: httpx2.Client
) -> None:
    """A body read to its end gives its connection back to the pool.

    (The WSGI proxy once opened a connection per call: `http.client` does not mark a
    `Content-Length` body finished when it is read in pieces to exactly its length.)
    """
    upstream = KeepAlive()
    try:
        with serve(api_key=SERVER_KEY, allowed_hosts=(upstream.host,)) as url:
            for _ in range(3):
                target = f"http://{upstream.host}{path}"
                response = http.get(url, headers={"x-inf-target-url": target})
                assert response.status_code == 200 and response.json() == {"ok": True}
        assert upstream.connections == 1
    finally:
        upstream.close()


def test_an_upstream_body_cut_short_is_not_passed_off_as_whole(
    serve: Any, http: httpx2.Client
) -> None:
    """The browser's connection breaks instead of ending: it knows the body is incomplete."""
    upstream = KeepAlive()
    try:
        with serve(api_key=SERVER_KEY, allowed_hosts=(upstream.host,)) as url:
            target = f"http://{upstream.host}/short"
            with pytest.raises(httpx2.RemoteProtocolError):
                http.get(url, headers={"x-inf-target-url": target})
    finally:
        upstream.close()


def test_under_gunicorn_a_cut_body_breaks_the_kept_alive_connection() -> None:
    """gunicorn keeps the browser's connection alive: a body that just stopped short of its
    `Content-Length` would leave the browser waiting (here until its 5 s read timeout, inside
    gunicorn's 30 s keep-alive), or read the next answer as its rest."""
    upstream = KeepAlive()
    env = {"PROXY_TEST_KEY": SERVER_KEY, "PROXY_TEST_ALLOWED": upstream.host}
    try:
        with (
            serve_gunicorn("tests.proxy.wsgi_app:app", env, "--keep-alive", "30") as url,
            httpx2.Client(timeout=5) as http,
        ):
            headers = {"x-inf-target-url": f"http://{upstream.host}/short"}
            with pytest.raises(httpx2.RemoteProtocolError):
                http.get(url, headers=headers)
    finally:
        upstream.close()


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("INFERENCE_API_KEY", raising=False)
    monkeypatch.delenv("INFERENCE_API_BASE_URL", raising=False)
    yield


def test_no_key_is_a_401(
    serve: Any, no_env_key: None, upstream_url: str, upstream: Upstream, http: httpx2.Client
) -> None:
    """Even when the browser sends its own key: the server's key is the only one used."""
    opts = {**options(upstream_url), "api_key": None}
    with serve(**opts) as url:
        response = http.get(
            url,
            headers={
                "x-inf-target-url": f"{upstream_url}/x",
                "authorization": f"Bearer {BROWSER_KEY}",
            },
        )
    assert response.status_code == 401
    assert response.json() == {"error": "Missing INFERENCE_API_KEY environment variable"}
    assert upstream.seen == []


def test_the_env_key_is_read_at_each_call(
    serve: Any,
    no_env_key: None,
    monkeypatch: pytest.MonkeyPatch,
    upstream_url: str,
    upstream: Upstream,
    http: httpx2.Client,
) -> None:
    opts = {**options(upstream_url), "api_key": None}
    with serve(**opts) as url:
        for key in ("sk-env-one", "sk-env-two"):
            monkeypatch.setenv("INFERENCE_API_KEY", key)
            http.get(url, headers={"x-inf-target-url": f"{upstream_url}/x"})
    assert [s.header("authorization") for s in upstream.seen] == [
        "Bearer sk-env-one",
        "Bearer sk-env-two",
    ]


def test_key_resolvers(
    serve: Any,
    no_env_key: None,
    monkeypatch: pytest.MonkeyPatch,
    upstream_url: str,
    upstream: Upstream,
    http: httpx2.Client,
) -> None:
    """Sync or async, given the request; None falls back to the env var; junk is a 500."""
    monkeypatch.setenv("INFERENCE_API_KEY", "sk-from-env")

    def per_team(request: ProxyRequest) -> str | None:
        return {"a": "sk-team-a", "bad": "not a key"}.get(request.cookies.get("team", ""))

    async def per_team_async(request: ProxyRequest) -> str | None:
        return per_team(request)

    for resolver in (per_team, per_team_async):
        upstream.clear()
        with serve(**{**options(upstream_url), "api_key": resolver}) as url:
            target = {"x-inf-target-url": f"{upstream_url}/x"}
            http.get(url, headers={**target, "cookie": "team=a"})
            http.get(url, headers=target)
            bad = http.get(url, headers={**target, "cookie": "team=bad"})
        assert [s.header("authorization") for s in upstream.seen] == [
            "Bearer sk-team-a",
            "Bearer sk-from-env",
        ]
        assert bad.status_code == 500
        assert bad.json() == {"error": "The proxy's API key is misconfigured"}


def test_authorize(serve: Any, upstream_url: str, upstream: Upstream, http: httpx2.Client) -> None:
    """False forbids (403); ProxyRefused answers its own status and headers; None allows."""
    calls: list[tuple[str, str, str | None]] = []

    def authorize(request: ProxyRequest) -> bool | None:
        calls.append((request.method, request.path, request.cookies.get("session")))
        session = request.cookies.get("session")
        if session is None:
            raise ProxyRefused(401, "Sign in first")
        if session == "slow-down":
            raise ProxyRefused(429, "Too many calls", headers={"Retry-After": "30"})
        return None if session == "ok" else False

    with serve(**{**options(upstream_url), "authorize": authorize}) as url:
        target = {"x-inf-target-url": f"{upstream_url}/apps/run"}
        anonymous = http.post(url, headers=target, content=b"{}")
        limited = http.post(url, headers={**target, "cookie": "session=slow-down"}, content=b"{}")
        banned = http.post(url, headers={**target, "cookie": "session=banned"}, content=b"{}")
        ok = http.post(url, headers={**target, "cookie": "session=ok"}, content=b"{}")
    assert (anonymous.status_code, anonymous.json()) == (401, {"error": "Sign in first"})
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "30")
    assert (banned.status_code, banned.json()) == (403, {"error": "Forbidden"})
    assert ok.status_code == 200
    assert calls == [
        ("POST", "/apps/run", None),
        ("POST", "/apps/run", "slow-down"),
        ("POST", "/apps/run", "banned"),
        ("POST", "/apps/run", "ok"),
    ]
    assert len(upstream.seen) == 1


def test_async_authorize(
    serve: Any, upstream_url: str, upstream: Upstream, http: httpx2.Client
) -> None:
    async def authorize(request: ProxyRequest) -> bool:
        return request.headers.get("x-inf-user") == "alice"

    with serve(**{**options(upstream_url), "authorize": authorize}) as url:
        target = {"x-inf-target-url": f"{upstream_url}/x"}
        assert http.get(url, headers={**target, "x-inf-user": "alice"}).status_code == 200
        assert http.get(url, headers={**target, "x-inf-user": "mallory"}).status_code == 403
    assert len(upstream.seen) == 1


def test_api_base_url_override(
    serve: Any,
    no_env_key: None,
    monkeypatch: pytest.MonkeyPatch,
    upstream_url: str,
    upstream: Upstream,
    http: httpx2.Client,
) -> None:
    """The browser keeps the default base URL; the server decides where calls go."""
    with serve(api_key=SERVER_KEY, api_base_url=upstream_url) as url:
        http.get(url, headers={"x-inf-target-url": "https://api.inference.sh/tasks/t1?x=1"})
        bad = http.get(url, headers={"x-inf-target-url": "https://api.inference.sh@evil/x"})
    monkeypatch.setenv("INFERENCE_API_BASE_URL", upstream_url)
    with serve(api_key=SERVER_KEY) as url:
        http.get(url, headers={"x-inf-target-url": "https://api.inference.sh/tasks/t2"})
    assert bad.status_code == 400
    assert [(s.path, s.header("host")) for s in upstream.seen] == [
        ("/tasks/t1?x=1", upstream_url.removeprefix("http://")),
        ("/tasks/t2", upstream_url.removeprefix("http://")),
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"allowed_hosts": ["localhost"]},
        {"allowed_hosts": ["LOCALHOST:8787"]},
        {"allowed_hosts": ["http://localhost:8787"]},
        {"allowed_hosts": ["127.1:8787"]},
        {"allowed_hosts": ["[0::1]:8787"]},
        {"allowed_hosts": ["localhost:08787"]},
        {"allowed_hosts": "localhost:8787"},
        {"api_base_url": "localhost:8787"},
        {"api_base_url": "http://localhost:8787/v1"},
        {"api_base_url": "ftp://localhost:8787"},
        {"api_key": "sk with space"},
        {"api_key": "sk\r\nx"},
        {"max_body_size": -1},
        {"timeout": 0},
    ],
)
@pytest.mark.parametrize("factory", [asgi_proxy, wsgi_proxy])
def test_bad_configuration(factory: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        factory(**kwargs)


def test_good_configuration() -> None:
    for entry in ("localhost:8787", "127.0.0.1:8787", "[::1]:8787", "emulator.internal:80"):
        wsgi_proxy(allowed_hosts=[entry]).close()
    wsgi_proxy(api_base_url="http://127.0.0.1:8787/").close()


# ------------------------------------------------------------------ the key never leaks


def test_the_key_never_appears_in_answers_or_logs(
    proxy_url: str,
    upstream_url: str,
    upstream: Upstream,
    http: httpx2.Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    down = free_port()
    targets = [
        f"{upstream_url}/echo",
        f"{upstream_url}/status/401",
        f"{upstream_url}/redirect/302?to=http://127.0.0.1:{down}/",
        f"http://127.0.0.1:{down}/x",
        "http://2130706433/x",
        "https://api.inference.sh@127.0.0.1/x",
        "gopher://x/",
    ]
    seen: list[str] = []
    for target in targets:
        for response in (
            http.get(proxy_url, headers={"x-inf-target-url": target}),
            http.post(proxy_url, headers={"x-inf-target-url": target}, content=b"x" * 5000),
        ):
            seen.append(json.dumps(dict(response.headers)) + response.text)
    with serve_asgi(asgi_proxy(api_key=SERVER_KEY, allowed_hosts=(f"127.0.0.1:{down}",))) as url:
        seen.append(http.get(url, headers={"x-inf-target-url": f"http://127.0.0.1:{down}/x"}).text)
    assert all(SERVER_KEY not in text for text in seen)
    assert caplog.records, "nothing was logged: the check below would be empty"
    for record in caplog.records:
        assert SERVER_KEY not in record.getMessage()
        assert SERVER_KEY not in str(record.args)
