"""The async client's own pool over https, as against the real API: the server's certificate is
verified against the system's trust store (a test CA named by `SSL_CERT_FILE`), an untrusted one
is refused before any byte of the request leaves, and a verified connection is kept alive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from inferencesh._async._pool import PooledTransport
from inferencesh._protocol.retry import SENT
from tests.proxy._servers import Upstream
from tests.proxy.test_tls import certificates, tls_upstream

__all__ = ["certificates", "tls_upstream"]  # the fixtures, shared with the proxy's TLS tests

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_https_verified_kept_alive_and_refused_when_untrusted(
    tls_upstream: tuple[str, Upstream],
    certificates: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, upstream = tls_upstream
    connects: list[Any] = []
    connect_tcp = anyio.connect_tcp

    async def counted(*args: Any, **kwargs: Any) -> Any:
        connects.append(args)
        return await connect_tcp(*args, **kwargs)

    monkeypatch.setattr(anyio, "connect_tcp", counted)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    upstream.clear()
    untrusted = PooledTransport()
    request = httpx2.Request("POST", f"{base}/echo", content=b"{}")
    with pytest.raises(httpx2.ConnectError):
        await untrusted.handle_async_request(request)
    assert request.extensions[SENT] is False and upstream.seen == []
    await untrusted.aclose()

    monkeypatch.setenv("SSL_CERT_FILE", str(certificates / "ca.pem"))
    connects.clear()
    async with httpx2.AsyncClient(transport=PooledTransport()) as http:
        answers = [await http.post(f"{base}/echo", content=b'{"n": %d}' % i) for i in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["body"] for a in answers] == ['{"n": 0}', '{"n": 1}', '{"n": 2}']
    assert len(connects) == 1  # one verified connection, kept alive for the three
