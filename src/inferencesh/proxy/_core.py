"""The proxy's decisions, shared by the ASGI and WSGI drivers (no I/O).

A call goes through these steps; the drivers only move bytes between them:

1. `ProxyCore.inspect`: method, target (header, else query), allow-list, declared body size.
2. `authorize(request)`, if configured (sync or async; the drivers call it).
3. The API key: `api_key` string, else `api_key(request)` resolver, else `INFERENCE_API_KEY`.
4. The body, read up to `max_body_size` bytes (`ProxyCore.check_body`).
5. `ProxyCore.upstream`: method, URL and headers of the upstream request.
6. `ProxyCore.answer`: the status and headers returned, or a refusal for a redirect.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias, TypedDict
from urllib.parse import parse_qsl

from inferencesh import __version__
from inferencesh.errors import ConfigurationError
from inferencesh.proxy._headers import TARGET_HEADER, request_headers, response_headers, valid_key
from inferencesh.proxy._request import ProxyRefused, ProxyRequest
from inferencesh.proxy._target import (
    DEFAULT_PORTS,
    Origin,
    Target,
    parse_allowed_host,
    parse_origin,
    resolve,
)

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "METHODS",
    "PROXY_PATH",
    "TARGET_PARAM",
    "ApiKey",
    "Authorizer",
    "Outgoing",
    "Pending",
    "ProxyCore",
    "ProxyOptions",
]

PROXY_PATH = "/api/inference/proxy"
TARGET_PARAM = "__inf_target"
METHODS = ("GET", "POST", "PUT", "DELETE")
DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024
MISSING_TARGET = f"Missing {TARGET_HEADER} header or {TARGET_PARAM} query param"
MISSING_KEY = "Missing INFERENCE_API_KEY environment variable"

ApiKey: TypeAlias = str | Callable[[ProxyRequest], "str | None | Awaitable[str | None]"] | None
"""The server's key, or a function of the request returning it (sync or async)."""
Authorizer: TypeAlias = Callable[[ProxyRequest], "bool | None | Awaitable[bool | None]"]
"""Allows a call (True or None), forbids it (False: 403), or raises `ProxyRefused`."""

logger = logging.getLogger("inferencesh.proxy")


class ProxyOptions(TypedDict, total=False):
    """The options every proxy factory and framework helper takes (see `asgi_proxy`)."""

    api_key: ApiKey
    allowed_hosts: Iterable[str]
    api_base_url: str | None
    authorize: Authorizer | None
    max_body_size: int
    timeout: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Pending:
    """A call that passed `inspect`: what to tell `authorize`, and what to forward later."""

    request: ProxyRequest
    target: Target
    incoming: list[tuple[str, str]]
    content_length: int | None


class ProxyCore:
    """The configuration of one proxy and the decisions made with it."""

    def __init__(
        self,
        *,
        framework: str,
        api_key: ApiKey = None,
        allowed_hosts: Iterable[str] = (),
        api_base_url: str | None = None,
        authorize: Authorizer | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        timeout: float = 60.0,
    ) -> None:
        if isinstance(allowed_hosts, str):
            raise ConfigurationError("allowed_hosts takes a sequence of 'host:port' strings")
        if max_body_size < 0:
            raise ConfigurationError(f"max_body_size must be >= 0, got {max_body_size}")
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be > 0, got {timeout}")
        if isinstance(api_key, str) and not valid_key(api_key):
            raise ConfigurationError("api_key must be a non-empty token without spaces")
        self.allowed_hosts = frozenset(parse_allowed_host(h) for h in allowed_hosts)
        base = (
            api_base_url if api_base_url is not None else os.environ.get("INFERENCE_API_BASE_URL")
        )
        self.base: Origin | None = parse_origin(base, what="api_base_url") if base else None
        self.api_key = api_key
        self.authorize = authorize
        self.max_body_size = max_body_size
        self.timeout = timeout
        """Seconds to wait for upstream to send its next bytes."""
        self.connect_timeout = min(timeout, 10.0)
        """Seconds to wait for a connection to upstream."""
        self.agent = f"inferencesh-py-proxy/{__version__} ({framework})"

    def inspect(
        self,
        method: str,
        headers: list[tuple[str, str]],
        query_string: str,
        *,
        client: str | None,
        native: Any,
    ) -> Pending:
        """Steps 1 and the size check: a call to forward once authorized, or a refusal.

        Raises:
            ProxyRefused: 405, 400 (no or malformed target), 412 (host not allowed),
                413 (declared body too large).
        """
        if method not in METHODS:
            raise ProxyRefused(
                405, f"Method {method} not allowed", headers={"allow": ", ".join(METHODS)}
            )
        first: dict[str, str] = {}
        for name, value in headers:
            first.setdefault(name.lower(), value)
        raw = first.get(TARGET_HEADER)
        if raw is None:
            if method != "GET":
                # The query form exists for EventSource, which only GETs. Requiring the header
                # otherwise means a cross-site page cannot send a write without a CORS
                # preflight, which the proxy never grants.
                if _query_target(query_string) is not None:
                    raise ProxyRefused(400, f"{method} needs the {TARGET_HEADER} header")
                raise ProxyRefused(400, MISSING_TARGET)
            raw = _query_target(query_string)
            if raw is None:
                raise ProxyRefused(400, MISSING_TARGET)
        target = resolve(raw, allowed_hosts=self.allowed_hosts, base=self.base)
        length = _content_length(first.get("content-length"))
        if length is not None and length > self.max_body_size:
            raise ProxyRefused(413, f"Request body larger than {self.max_body_size} bytes")
        request = ProxyRequest(
            method=method,
            target=target.url,
            path=target.path,
            headers=first,
            client=client,
            native=native,
        )
        return Pending(request=request, target=target, incoming=headers, content_length=length)

    def fixed_key(self) -> str | None:
        """The key when `api_key` is not a resolver: the string, else `INFERENCE_API_KEY`."""
        if isinstance(self.api_key, str):
            return self.api_key
        return self.env_key()

    def env_key(self) -> str | None:
        """`INFERENCE_API_KEY`, read at each call as the JS proxy does (None if unset)."""
        return os.environ.get("INFERENCE_API_KEY") or None

    def check_key(self, key: object) -> str:
        """Step 3's result: the key, or 401 when none was found.

        Raises:
            ProxyRefused: 401, no key; 500, the resolver returned something unusable.
        """
        if key is None or key == "":
            raise ProxyRefused(401, MISSING_KEY)
        if not isinstance(key, str) or not valid_key(key):
            logger.error("the proxy's API key resolver returned an unusable key")
            raise ProxyRefused(500, "The proxy's API key is misconfigured")
        return key

    def forbid(self, allowed: object) -> None:
        """Step 2's result: `False` from `authorize` forbids the call.

        Raises:
            ProxyRefused: 403.
        """
        if allowed is False:
            raise ProxyRefused(403, "Forbidden")

    def check_body(self, size: int) -> None:
        """Step 4: a body of `size` bytes (or more) may be forwarded.

        Raises:
            ProxyRefused: 413.
        """
        if size > self.max_body_size:
            raise ProxyRefused(413, f"Request body larger than {self.max_body_size} bytes")

    def upstream(self, pending: Pending, key: str, body: bytes) -> Outgoing:
        """Step 5: the request to send (GET carries no body, as in the JS proxy).

        Raises:
            ProxyRefused: 400, a header to forward is malformed.
        """
        return Outgoing(
            method=pending.request.method,
            url=pending.target.url,
            origin=pending.target.origin,
            path=pending.target.path,
            headers=request_headers(pending.incoming, api_key=key, agent=self.agent),
            content=b"" if pending.request.method == "GET" else body,
        )

    def answer(self, status: int, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Step 6: the headers the browser gets, or a refusal of a redirect.

        Raises:
            ProxyRefused: 412, upstream answered with a redirect (never followed).
        """
        if 300 <= status < 400:
            raise ProxyRefused(
                412,
                f"Upstream answered with a redirect ({status}), which the proxy does not follow",
            )
        return response_headers(headers)

    def upstream_failed(
        self, exc: BaseException, *, timeout: bool = False, connect: bool = False
    ) -> ProxyRefused:
        """The refusal for an upstream call that failed before an answer: 504 or 502."""
        logger.warning("proxy: upstream call failed (%s)", type(exc).__name__)
        if timeout:
            return ProxyRefused(504, "Upstream did not answer in time")
        if connect:
            return ProxyRefused(502, "Upstream call failed: could not connect")
        return ProxyRefused(502, "Upstream call failed: the connection broke")


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """The upstream request, for whichever HTTP client sends it."""

    method: str
    url: str
    origin: Origin
    path: str
    """The path and query, as sent in the request line."""
    headers: list[tuple[str, str]]
    content: bytes

    def check_parsed(self, *, scheme: str, host: str, port: int | None, userinfo: object) -> None:
        """Guard against parser drift: the client's parse of `url` is the checked origin.

        Raises:
            ProxyRefused: 500, the HTTP client read another host out of the URL (never
                expected: the URL is canonical by the time it gets here).
        """
        origin = self.origin
        if (
            userinfo
            or scheme != origin.scheme
            or host != origin.bare_host
            or (port or DEFAULT_PORTS[origin.scheme]) != origin.port
        ):
            raise ProxyRefused(500, "The target URL did not parse back to the checked host")


def _query_target(query_string: str) -> str | None:
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if name == TARGET_PARAM:
            return value
    return None


def _content_length(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None  # WSGI servers may pass an empty CONTENT_LENGTH for "none"
    value = value.strip()
    if not value.isdigit():
        raise ProxyRefused(400, "Invalid Content-Length")
    return int(value)
