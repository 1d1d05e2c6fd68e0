"""The proxy cannot be turned against anything but inference.sh and the hosts it allows.

Every refusal is a 4xx with a JSON `{"error": ...}` body, and nothing reaches the network: a
canary listening on loopback (127.0.0.1 and ::1) counts every connection, and the allowed
upstream records every request. Most targets below point at the canary or at the allowed
upstream under another spelling, so a proxy that parsed, normalised or resolved a host
differently from the allow-list would be caught by one of the two. Each case runs against the
proxy served as ASGI (uvicorn) and as WSGI (wsgiref), through a real socket.
"""

from __future__ import annotations

import io
import json
import socket
from typing import Any

import httpx2
import pytest

from inferencesh.proxy import asgi_proxy, wsgi_proxy
from tests.proxy._servers import Canary, Upstream
from tests.proxy.conftest import MAX_BODY, SERVER_KEY, options

# (target, status); {c} is the canary's port, {e} the allowed upstream's.
REFUSED: dict[str, list[tuple[str, int]]] = {
    "other hosts": [
        ("http://127.0.0.1:{c}/tasks/x", 412),
        ("https://example.com/apps/run", 412),
        ("https://inference.sh.example.com/x", 412),
        ("https://evilinference.sh/x", 412),
        ("https://api.inference.sh.127.0.0.1.nip.io/x", 412),
    ],
    "IPv4 literals": [
        ("http://2130706433:{c}/", 412),
        ("http://2130706433:{e}/", 412),
        ("http://0x7f000001:{c}/", 412),
        ("http://0x7f.0.0.1:{e}/", 412),
        ("http://0177.0.0.1:{c}/", 412),
        ("http://0177.0.0.01:{e}/", 412),
        ("http://127.1:{c}/", 412),
        ("http://127.0.1:{e}/", 412),
        ("http://127.000.000.001:{e}/", 412),
        ("http://0:{c}/", 412),
        ("http://0:{e}/", 412),
        ("http://0.0.0.0:{c}/", 412),
        ("http://0.0.0.0:{e}/", 412),
    ],
    "IPv6 literals": [
        ("http://[::1]:{c}/", 412),
        ("http://[::1]:{e}/", 412),
        ("http://[::ffff:127.0.0.1]:{e}/", 412),
        ("http://[::ffff:7f00:1]:{c}/", 412),
        ("http://[0:0:0:0:0:0:0:1]:{c}/", 412),
        ("http://[::]:{c}/", 412),
        ("http://[::1%25lo]:{c}/", 412),
        ("http://[::1:{c}/", 412),
    ],
    "localhost aliases": [
        ("http://localhost:{c}/", 412),
        ("http://localhost:{e}/", 412),
        ("http://localhost.:{e}/", 412),
        ("http://ip6-localhost:{c}/", 412),
        ("http://localhost.localdomain:{c}/", 412),
        ("http://sub.localhost:{e}/", 412),
    ],
    "userinfo": [
        ("https://api.inference.sh@127.0.0.1:{c}/", 400),
        ("https://api.inference.sh:443@127.0.0.1:{c}/", 400),
        ("http://127.0.0.1:{e}@127.0.0.1:{c}/", 400),
        ("http://user:pass@127.0.0.1:{e}/", 400),
        ("http://@127.0.0.1:{c}/", 400),
        ("https://api.inference.sh\\@127.0.0.1:{c}/", 400),
        ("https://127.0.0.1:{c}\\.api.inference.sh/", 400),
        ("https://api.inference.sh#@127.0.0.1:{c}/", 400),
        ("https://api.inference.sh%40127.0.0.1:{c}/", 412),
        ("https://127.0.0.1:{c}?.inference.sh", 412),
        ("https://127.0.0.1:{c}/.inference.sh", 412),
    ],
    "schemes": [
        ("ftp://api.inference.sh/x", 400),
        ("file:///etc/passwd", 400),
        ("gopher://127.0.0.1:{c}/", 400),
        ("ws://127.0.0.1:{e}/", 400),
        ("wss://api.inference.sh/", 400),
        ("javascript:alert(1)", 400),
        ("data:text/plain,hi", 400),
        ("HTTP://127.0.0.1:{e}/", 400),
        ("Https://api.inference.sh/", 400),
        ("//127.0.0.1:{c}/", 400),
        ("http:/127.0.0.1:{c}/", 400),
        ("http:127.0.0.1:{c}/", 400),
        ("127.0.0.1:{c}/x", 400),
        ("", 400),
    ],
    "percent-encoded hosts": [
        ("http://127.0.0.%31:{e}/", 412),
        ("http://%31%32%37.0.0.1:{c}/", 412),
        ("https://api%2Einference.sh/", 412),
        ("http://127.0.0.1%3A{c}/", 412),
    ],
    "mixed-case hosts": [
        ("http://LocalHost:{c}/", 412),
        ("https://API.Inference.SH/x", 412),
        ("https://api.INFERENCE.sh/", 412),
    ],
    "trailing dots": [
        ("http://127.0.0.1.:{e}/", 412),
        ("http://127.0.0.1.:{c}/", 412),
        ("https://api.inference.sh./x", 412),
        ("https://inference.sh../", 412),
    ],
    "allowed host, other port": [
        ("http://127.0.0.1:{c}/", 412),
        ("http://127.0.0.1/x", 412),
        ("http://127.0.0.1:0{e}/", 412),
        ("http://127.0.0.1:{e}:{e}/", 412),
        ("http://127.0.0.1:99999/", 412),
        ("https://api.inference.sh:8443/", 412),
        ("http://api.inference.sh/x", 412),
    ],
    "control characters": [
        ("http://127.0.0.1:{e}/x\r\nX-Injected: 1", 400),
        ("http://127.0.0.1:{e}/x\ny", 400),
        ("http://127.0.0.1:{e}/x\ty", 400),
        ("http://127.0.0.1:{e}/x\x00", 400),
        ("http://127.0.0.1:{e}/x y", 400),
        ("http://127.0.0.1:{e}/caf\u00e9", 400),
        (" http://127.0.0.1:{e}/", 400),
    ],
}
CASES = [(kind, target, status) for kind, cases in REFUSED.items() for target, status in cases]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def assert_refused(
    response: httpx2.Response, status: int, canary: Canary, upstream: Upstream, hits: int
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"error"} and body["error"]
    assert SERVER_KEY not in response.text
    assert canary.hits == hits, "a refused call reached the canary"
    assert upstream.seen == [], "a refused call reached the upstream"
    return body


@pytest.mark.parametrize(("kind", "target", "status"), CASES, ids=[f"{k}:{t}" for k, t, _ in CASES])
def test_refused_targets(
    kind: str,
    target: str,
    status: int,
    front_proxy_url: str,
    upstream_url: str,
    canary: Canary,
    upstream: Upstream,
    http: httpx2.Client,
) -> None:
    proxy_url = front_proxy_url
    url = target.format(c=canary.port, e=port_of(upstream_url))
    hits = canary.hits
    # As the JS SDK sends it: the query form (EventSource) and, when it is a valid header
    # value, the header form for a read and a write.
    attempts = [http.get(proxy_url, params={"__inf_target": url})]
    if url == url.strip() and url.isascii() and url.isprintable():
        attempts.append(http.get(proxy_url, headers={"x-inf-target-url": url}))
        attempts.append(http.post(proxy_url, headers={"x-inf-target-url": url}, json={"a": 1}))
    for response in attempts:
        assert_refused(response, status, canary, upstream, hits)


def test_the_error_bodies_are_the_js_proxys(
    proxy_url: str, canary: Canary, upstream: Upstream, http: httpx2.Client
) -> None:
    hits = canary.hits
    missing = http.get(proxy_url)
    body = assert_refused(missing, 400, canary, upstream, hits)
    assert body == {"error": "Missing x-inf-target-url header or __inf_target query param"}
    other = http.get(proxy_url, headers={"x-inf-target-url": f"http://127.0.0.1:{canary.port}/x"})
    body = assert_refused(other, 412, canary, upstream, hits)
    assert body == {"error": f"Target must be an inference.sh domain, got: 127.0.0.1:{canary.port}"}
    invalid = http.get(proxy_url, headers={"x-inf-target-url": "not a url"})
    assert assert_refused(invalid, 400, canary, upstream, hits) == {"error": "Invalid target URL"}


def test_writes_need_the_header_not_the_query(
    proxy_url: str, upstream_url: str, canary: Canary, upstream: Upstream, http: httpx2.Client
) -> None:
    """A cross-site form can POST to a URL but cannot set a custom header without a preflight."""
    hits = canary.hits
    target = f"{upstream_url}/apps/run"
    for method in ("POST", "PUT", "DELETE"):
        response = http.request(method, proxy_url, params={"__inf_target": target}, content=b"{}")
        body = assert_refused(response, 400, canary, upstream, hits)
        assert body == {"error": f"{method} needs the x-inf-target-url header"}


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "TRACE"])
def test_other_methods_are_refused(
    method: str,
    proxy_url: str,
    upstream_url: str,
    canary: Canary,
    upstream: Upstream,
    http: httpx2.Client,
) -> None:
    hits = canary.hits
    response = http.request(method, proxy_url, headers={"x-inf-target-url": f"{upstream_url}/x"})
    assert_refused(response, 405, canary, upstream, hits)
    assert response.headers["allow"] == "GET, POST, PUT, DELETE"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_upstream_redirects_are_not_followed(
    status: int,
    proxy_url: str,
    upstream_url: str,
    canary: Canary,
    upstream: Upstream,
    http: httpx2.Client,
) -> None:
    hits = canary.hits
    to = f"http://127.0.0.1:{canary.port}/stolen"
    target = f"{upstream_url}/redirect/{status}?to={to}"
    for response in (
        http.get(proxy_url, headers={"x-inf-target-url": target}),
        http.post(proxy_url, headers={"x-inf-target-url": target}, json={"secret": 1}),
    ):
        assert response.status_code == 412, response.text
        assert "redirect" in response.json()["error"]
        assert "location" not in response.headers
        assert SERVER_KEY not in response.text
    assert canary.hits == hits
    assert [s.path for s in upstream.seen] == [f"/redirect/{status}?to={to}"] * 2


def test_oversize_bodies(
    proxy_url: str, upstream_url: str, canary: Canary, upstream: Upstream, http: httpx2.Client
) -> None:
    hits = canary.hits
    headers = {"x-inf-target-url": f"{upstream_url}/apps/run"}
    declared = http.post(proxy_url, headers=headers, content=b"x" * (MAX_BODY + 1))
    body = assert_refused(declared, 413, canary, upstream, hits)
    assert body == {"error": f"Request body larger than {MAX_BODY} bytes"}
    fits = http.post(proxy_url, headers=headers, content=b"x" * MAX_BODY)
    assert fits.status_code == 200
    assert len(upstream.seen) == 1 and len(upstream.seen[0].body) == MAX_BODY


def test_oversize_chunked_body(
    proxy_url: str, upstream_url: str, canary: Canary, upstream: Upstream, http: httpx2.Client
) -> None:
    """No Content-Length: the body is counted as it arrives (or refused when it cannot be)."""
    hits = canary.hits
    chunks = iter([b"x" * 600, b"x" * 600])
    response = http.post(
        proxy_url, headers={"x-inf-target-url": f"{upstream_url}/apps/run"}, content=chunks
    )
    assert response.status_code in (411, 413), response.text
    assert_refused(response, response.status_code, canary, upstream, hits)


def raw_request(proxy_url: str, head: bytes) -> bytes:
    """Send bytes as they are (no client library would send these) and read the answer."""
    host, port = proxy_url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data


@pytest.mark.parametrize(
    "header",
    [
        b"x-inf-target-url: http://127.0.0.1:{e}/x\rX-Injected: 1",
        b"x-inf-extra: a\rX-Injected: 1",
        b"x-inf-extra: a\r\n X-Injected: 1",
        b"x-inf-extra: a\x00b",
        b"x-inf-extra: a\x7fb",
    ],
    ids=["bare CR in target", "bare CR", "folded line", "NUL", "DEL"],
)
def test_control_characters_in_raw_headers(
    header: bytes, proxy_url: str, upstream_url: str, canary: Canary, upstream: Upstream
) -> None:
    """Bytes no client library would send, straight down a socket.

    The HTTP server parses them first: it may refuse them, or read a bare CR or a fold as a
    line break. Either way no control character and no injected header reaches upstream, and
    what the proxy itself is handed with one is refused (see the next test).
    """
    hits = canary.hits
    e = str(port_of(upstream_url)).encode()
    target = b"x-inf-target-url: " + upstream_url.encode() + b"/x\r\n"
    head = (
        b"GET /api/inference/proxy HTTP/1.1\r\nHost: proxy\r\nConnection: close\r\n"
        + (b"" if header.startswith(b"x-inf-target-url") else target)
        + header.replace(b"{e}", e)
        + b"\r\n\r\n"
    )
    answer = raw_request(proxy_url, head)
    status = int(answer.split(b" ", 2)[1])
    assert SERVER_KEY.encode() not in answer
    assert canary.hits == hits
    if 400 <= status < 500:
        assert upstream.seen == []
        return
    assert status == 200, answer[:200]
    (seen,) = upstream.seen
    assert "x-injected" not in seen.names()
    for name, value in seen.headers:
        assert value.isprintable() and "\x7f" not in value, (name, value)


BAD_VALUES = ["a\r\nX-Injected: 1", "a\rb", "a\nb", "a\x00b", "a\x7fb", "a\x1bb"]


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize("name", ["x-inf-extra", "x-inf-target-url", "accept", "user-agent"])
@pytest.mark.anyio
async def test_control_characters_handed_to_the_asgi_app(
    name: str, value: str, upstream_url: str, canary: Canary, upstream: Upstream
) -> None:
    """Servers differ in what they let through; the proxy refuses it whatever they do."""
    hits = canary.hits
    target = f"{upstream_url}/x" + (value if name == "x-inf-target-url" else "")
    headers = [(b"x-inf-target-url", target.encode("latin-1"))]
    if name != "x-inf-target-url":
        headers.append((name.encode(), value.encode("latin-1")))
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    app = asgi_proxy(**options(upstream_url))
    scope = {"type": "http", "method": "GET", "headers": headers, "query_string": b""}
    await app(scope, receive, send)
    await app.aclose()
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"])["error"]
    assert canary.hits == hits and upstream.seen == []


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize("name", ["x-inf-extra", "x-inf-target-url", "accept", "user-agent"])
def test_control_characters_handed_to_the_wsgi_app(
    name: str, value: str, upstream_url: str, canary: Canary, upstream: Upstream
) -> None:
    hits = canary.hits
    target = f"{upstream_url}/x" + (value if name == "x-inf-target-url" else "")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": "",
        "wsgi.input": io.BytesIO(),
        "HTTP_X_INF_TARGET_URL": target,
    }
    if name != "x-inf-target-url":
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    statuses: list[str] = []
    app = wsgi_proxy(**options(upstream_url))
    body = b"".join(app(environ, lambda status, headers: statuses.append(status)))
    app.close()
    assert statuses == ["400 Bad Request"]
    assert json.loads(body)["error"]
    assert canary.hits == hits and upstream.seen == []
