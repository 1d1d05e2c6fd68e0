"""Which headers cross the proxy, in each direction (no I/O).

Upstream gets a short allow-list of the browser's headers (the ones the JS SDK sends, and
`x-inf-*`), then the proxy's own: the server's key as `authorization`, always, whatever the
browser sent. The browser's cookies, its `Authorization`, `Origin`, hop-by-hop headers and
everything else stay behind. Back to the browser go the upstream response headers except
hop-by-hop ones and those that would act on the proxy's own site (cookies, HSTS, CORS).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from inferencesh.proxy._request import ProxyRefused

__all__ = ["TARGET_HEADER", "request_headers", "response_headers", "valid_key"]

TARGET_HEADER = "x-inf-target-url"
PROXY_HEADER = "x-inf-proxy"

# The headers the JS SDK sends (0.6.54 forwards x-api-version and x-client-source too),
# plus the two a reconnecting stream uses.
_FORWARD = frozenset(
    {
        "accept",
        "content-type",
        "user-agent",
        "x-api-version",
        "x-client-source",
        "cache-control",
        "last-event-id",
    }
)
_OWN = frozenset({TARGET_HEADER, PROXY_HEADER})
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Upstream headers that would act on the proxy's own site, or that the serving server sets.
_NOT_RETURNED = _HOP_BY_HOP | {
    "set-cookie",
    "set-cookie2",
    "strict-transport-security",
    "alt-svc",
    "clear-site-data",
    "server",
    "date",
}
# Visible ASCII, spaces and tabs, and obs-text bytes: no CR, LF, NUL or other controls.
_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def request_headers(
    incoming: Iterable[tuple[str, str]], *, api_key: str, agent: str
) -> list[tuple[str, str]]:
    """The headers to send upstream for the browser's `incoming` ones.

    Raises:
        ProxyRefused: 400 when a header the proxy would forward holds a control character.
    """
    seen: dict[str, str] = {}
    for raw_name, value in incoming:
        name = raw_name.lower()
        if name in seen or name in _OWN:
            continue
        if name in _FORWARD or name.startswith("x-inf-"):
            if not _VALUE.fullmatch(value):
                raise ProxyRefused(400, f"Invalid value in header {name}")
            seen[name] = value
    # `incoming || default`, as the JS proxy: an empty value gets the default too.
    for name, default in (
        ("accept", "application/json"),
        ("content-type", "application/json"),
        ("user-agent", agent),
    ):
        if not seen.get(name):
            seen[name] = default
    seen[PROXY_HEADER] = agent
    # Bytes pass through untouched; asking for none compressed keeps streams line by line.
    seen["accept-encoding"] = "identity"
    seen["authorization"] = f"Bearer {api_key}"
    return list(seen.items())


def response_headers(upstream: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The upstream response headers the browser gets."""
    pairs = [(name.lower(), value) for name, value in upstream]
    dropped = set(_NOT_RETURNED)
    for name, value in pairs:
        if name == "connection":  # it may name more hop-by-hop headers
            dropped.update(token.strip().lower() for token in value.split(","))
    return [
        (name, value)
        for name, value in pairs
        if name not in dropped and not name.startswith("access-control-")
    ]


def valid_key(key: str) -> bool:
    """Whether `key` can go in a header as it is (no spaces or control characters)."""
    return bool(key) and bool(re.fullmatch(r"[\x21-\x7e]+", key))
