"""Upstream over https, as with the real API: each upstream client verifies the server's
certificate against the system's trust store (here a test CA named by `SSL_CERT_FILE`),
sends the key only over the verified connection, and refuses an untrusted one with 502."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn

from inferencesh.proxy import AsgiProxy, wsgi_proxy
from inferencesh.proxy._core import ProxyCore
from tests.proxy._servers import Upstream, _bind, _Uvicorn, serve_asgi, serve_wsgi
from tests.proxy.conftest import SERVER_KEY

EXTENSIONS = """\
subjectAltName = DNS:localhost, IP:127.0.0.1
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
"""


def openssl(*args: str, cwd: Path) -> None:
    tool = shutil.which("openssl")
    if tool is None:
        pytest.fail("the TLS tests make their certificates with the `openssl` command")
    subprocess.run([tool, *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA and a certificate it signed for localhost and 127.0.0.1."""
    where = tmp_path_factory.mktemp("tls")
    (where / "server.ext").write_text(EXTENSIONS)
    openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
        *("-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=proxy tests CA"),
        *("-addext", "basicConstraints=critical,CA:TRUE"),
        *("-addext", "keyUsage=critical,keyCertSign,cRLSign"),
        cwd=where,
    )
    openssl(
        *("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key"),
        *("-out", "server.csr", "-subj", "/CN=localhost"),
        cwd=where,
    )
    openssl(
        *("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key"),
        *("-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext"),
        cwd=where,
    )
    return where


@pytest.fixture(scope="module")
def tls_upstream(certificates: Path) -> Iterator[tuple[str, Upstream]]:
    """The recording upstream served over https on localhost."""
    app = Upstream()
    sock = _bind()
    config = uvicorn.Config(
        app,
        log_level="warning",
        log_config=None,
        lifespan="off",
        ssl_certfile=str(certificates / "server.pem"),
        ssl_keyfile=str(certificates / "server.key"),
    )
    ready = threading.Event()
    server = _Uvicorn(config, ready)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        # Listening only once uvicorn has started: a request before that would be refused.
        if not ready.wait(10) or not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"https://localhost:{sock.getsockname()[1]}", app
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextlib.contextmanager
def proxy(kind: str, host: str) -> Iterator[str]:
    options: dict[str, Any] = {"api_key": SERVER_KEY, "allowed_hosts": (host,)}
    if kind == "wsgi":
        app = wsgi_proxy(**options)
        with serve_wsgi(app) as url:
            yield url
        app.close()
        return
    upstream = "aiohttp" if kind == "asgi" else "httpx2"
    with serve_asgi(AsgiProxy(ProxyCore(framework="asgi", **options), upstream=upstream)) as url:
        yield url


@pytest.mark.parametrize("kind", ["asgi", "asgi_httpx2", "wsgi"])
def test_https_upstream(
    kind: str,
    tls_upstream: tuple[str, Upstream],
    certificates: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, upstream = tls_upstream
    host = base.removeprefix("https://")
    with httpx2.Client(timeout=10, trust_env=False) as http:
        # Not trusted yet: refused before a byte of the request (or the key) is sent.
        upstream.seen.clear()
        with proxy(kind, host) as url:
            untrusted = http.get(url, headers={"x-inf-target-url": f"{base}/echo"})
        assert untrusted.status_code == 502, untrusted.text
        assert untrusted.json() == {"error": "Upstream call failed: could not connect"}
        assert upstream.seen == []
        # Trusted through the system's store (SSL_CERT_FILE), as a real CA would be.
        monkeypatch.setenv("SSL_CERT_FILE", str(certificates / "ca.pem"))
        with proxy(kind, host) as url:
            ok = http.post(url, headers={"x-inf-target-url": f"{base}/echo"}, content=b"{}")
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"method": "POST", "path": "/echo", "body": "{}"}
    (seen,) = upstream.seen
    assert seen.header("authorization") == f"Bearer {SERVER_KEY}"
    assert seen.header("host") == host
