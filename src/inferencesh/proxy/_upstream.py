"""The ASGI proxy's upstream HTTP clients: aiohttp on asyncio when installed, else httpx2.

aiohttp costs less per call and per chunk: its C parser decodes chunked bodies and hands
over everything buffered at once, so a proxy that falls behind catches up in big chunks,
where httpx2 yields one chunk per upstream write. It runs only on asyncio; on trio (or
without aiohttp) httpx2 carries the calls. Both refuse redirects, keep no cookies, ignore
proxy environment variables and `.netrc`, and leave bodies as they came (no decompression).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx2

from inferencesh._async._transport import aiohttp_available, on_asyncio
from inferencesh.proxy._core import Outgoing, ProxyCore
from inferencesh.proxy._request import ProxyRefused

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "AiohttpUpstream",
    "AsyncUpstream",
    "Backend",
    "Httpx2Upstream",
    "UpstreamBroke",
    "UpstreamResponse",
    "choose",
    "httpx2_failure",
    "httpx2_options",
]

Backend = Literal["auto", "aiohttp", "httpx2"]


class UpstreamBroke(Exception):
    """The upstream body broke off before its end (the connection failed mid-stream)."""


class UpstreamResponse(Protocol):
    """An upstream answer whose body has not been read yet."""

    status: int
    headers: list[tuple[str, str]]

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, bytes as sent.

        Raises:
            UpstreamBroke: the body broke off.
        """
        ...

    async def aclose(self) -> None:
        """Release the connection (closed if the body was not read to its end)."""
        ...


class AsyncUpstream(Protocol):
    """Sends a checked request upstream."""

    async def send(self, outgoing: Outgoing) -> UpstreamResponse:
        """Send and read the head of the answer.

        Raises:
            ProxyRefused: 502/504, no answer came.
        """
        ...

    async def aclose(self) -> None:
        """Close pooled connections."""
        ...


def choose(core: ProxyCore, backend: Backend) -> AsyncUpstream:
    """The upstream client for the running event loop (`backend="auto"`) or the one named."""
    if backend == "aiohttp" or (backend == "auto" and on_asyncio() and aiohttp_available()):
        return AiohttpUpstream(core)
    return Httpx2Upstream(core)


def _decoded(raw: Any) -> list[tuple[str, str]]:
    return [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in raw]


class _Httpx2Response:
    def __init__(self, response: httpx2.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers = _decoded(response.headers.raw)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx2.TransportError as exc:
            raise UpstreamBroke(type(exc).__name__) from exc

    async def aclose(self) -> None:
        await self._response.aclose()


class Httpx2Upstream:
    """httpx2's pooled async client (any event loop anyio runs on)."""

    def __init__(self, core: ProxyCore) -> None:
        self._core = core
        self._client = httpx2.AsyncClient(**httpx2_options(core))

    async def send(self, outgoing: Outgoing) -> UpstreamResponse:
        request = httpx2.Request(
            outgoing.method, outgoing.url, headers=outgoing.headers, content=outgoing.content
        )
        url = request.url
        outgoing.check_parsed(
            scheme=url.scheme, host=url.host, port=url.port, userinfo=url.userinfo
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx2.TransportError as exc:
            raise httpx2_failure(self._core, exc) from exc
        return _Httpx2Response(response)

    async def aclose(self) -> None:
        await self._client.aclose()


def httpx2_failure(core: ProxyCore, exc: httpx2.TransportError) -> ProxyRefused:
    """The refusal for an httpx2 call that got no answer."""
    timeout = isinstance(exc, httpx2.TimeoutException)
    return core.upstream_failed(exc, timeout=timeout, connect=isinstance(exc, httpx2.ConnectError))


def httpx2_options(core: ProxyCore) -> dict[str, Any]:
    """Options for an upstream httpx2 client (either flavour)."""
    return {
        "timeout": httpx2.Timeout(core.timeout, connect=core.connect_timeout),
        "follow_redirects": False,
        # No proxy variables or .netrc: the key goes to the target and nowhere else.
        "trust_env": False,
        "limits": httpx2.Limits(max_connections=None, max_keepalive_connections=100),
        # Upstream cookies belong to no browser in particular: never store or replay them.
        "cookies": CookieJar(DefaultCookiePolicy(allowed_domains=[])),
        # The system's trust store, as the other upstream clients use.
        "verify": ssl.create_default_context(),
    }


class _AiohttpResponse:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers = _decoded(response.raw_headers)
        self._done = False

    async def chunks(self) -> AsyncIterator[bytes]:
        import aiohttp

        try:
            # Everything buffered at once: a proxy that fell behind catches up in one write.
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise UpstreamBroke(type(exc).__name__) from exc
        self._done = True

    async def aclose(self) -> None:
        if self._done:
            self._response.release()
        else:
            self._response.close()


class AiohttpUpstream:
    """One aiohttp session (asyncio only), created on first use inside the loop."""

    def __init__(self, core: ProxyCore) -> None:
        self._core = core
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=0, limit_per_host=0, ssl=ssl.create_default_context()
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=self._core.connect_timeout,
                    sock_read=self._core.timeout,
                ),
            )
        return self._session

    async def send(self, outgoing: Outgoing) -> UpstreamResponse:
        import aiohttp
        from yarl import URL

        url = URL(outgoing.url, encoded=True)
        outgoing.check_parsed(
            scheme=url.scheme, host=url.raw_host or "", port=url.port, userinfo=url.raw_user
        )
        try:
            response = await self._get_session().request(
                outgoing.method,
                url,
                headers=outgoing.headers,
                data=outgoing.content or None,
                allow_redirects=False,
                skip_auto_headers=("Content-Type",),
            )
        except TimeoutError as exc:
            raise self._core.upstream_failed(exc, timeout=True) from exc
        except aiohttp.ClientConnectorError as exc:
            raise self._core.upstream_failed(exc, connect=True) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise self._core.upstream_failed(exc) from exc
        return _AiohttpResponse(response)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
