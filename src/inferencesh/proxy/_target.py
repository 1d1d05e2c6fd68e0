"""Which URL a proxied call goes to, and whether the proxy may call it (no I/O).

The JS SDK puts the real URL, built with `new URL(...)`, in the `x-inf-target-url` header
(or the `__inf_target` query parameter). Such a URL is canonical: lower-case scheme and host,
no userinfo, no default port, ASCII only. The parser here accepts exactly that shape and
refuses everything else, so no spelling of a host (an IP literal in decimal or hex, a
trailing dot, percent-encoding, userinfo before an `@`) can reach a host the allow-list does
not name: hosts are compared as exact strings, never resolved or normalised first.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from inferencesh.errors import ConfigurationError
from inferencesh.proxy._request import ProxyRefused

__all__ = [
    "DEFAULT_PORTS",
    "INVALID_TARGET",
    "Origin",
    "Target",
    "parse_allowed_host",
    "parse_origin",
    "parse_target",
    "resolve",
]

INVALID_TARGET = "Invalid target URL"
DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_URL = 16 * 1024
# One DNS label: lower-case letters, digits and inner hyphens (what `new URL` produces).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<rest>[/?][^#]*)?")
# Printable ASCII without space and backslash (browsers read `\` as `/`; a parser might not).
_SAFE = re.compile(r"[\x21-\x5b\x5d-\x7e]*")


@dataclass(frozen=True, slots=True)
class Origin:
    """A scheme, host and port: where a call goes."""

    scheme: str
    host: str
    """As written in a URL: a DNS name, a dotted IPv4 address or a bracketed IPv6 address."""
    port: int

    @property
    def authority(self) -> str:
        """`host[:port]`, the port left out when it is the scheme's default."""
        if self.port == DEFAULT_PORTS[self.scheme]:
            return self.host
        return f"{self.host}:{self.port}"

    @property
    def host_port(self) -> str:
        """`host:port` with the port always written: the form `allowed_hosts` uses."""
        return f"{self.host}:{self.port}"

    @property
    def bare_host(self) -> str:
        """The host without IPv6 brackets, as HTTP libraries report it."""
        return self.host[1:-1] if self.host.startswith("[") else self.host


@dataclass(frozen=True, slots=True)
class Target:
    """A validated URL to call: its origin and its path with the query."""

    origin: Origin
    path: str

    @property
    def url(self) -> str:
        """The absolute URL."""
        return f"{self.origin.scheme}://{self.origin.authority}{self.path}"


def _split_authority(authority: str, scheme: str) -> Origin | None:
    """`host[:port]` into an origin; None when it is not in the canonical shape."""
    if "@" in authority or not authority:
        return None
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            return None
        host, rest = authority[: end + 1], authority[end + 1 :]
        if not _canonical_ipv6(host[1:-1]):
            return None
    else:
        host, _, port_text = authority.partition(":")
        rest = f":{port_text}" if ":" in authority else ""
        if not _NAME.fullmatch(host):
            return None
    port = DEFAULT_PORTS[scheme]
    if rest:
        port_text = rest[1:]
        if not rest.startswith(":") or not re.fullmatch(r"[1-9][0-9]{0,4}", port_text):
            return None
        port = int(port_text)
        if port > 65535:
            return None
    return Origin(scheme, host, port)


def _canonical_ipv6(text: str) -> bool:
    try:
        return str(ipaddress.IPv6Address(text)) == text
    except ValueError:
        return False


def _looks_like_ipv4(host: str) -> bool:
    # Any host whose last label is a number is an IPv4 address to a URL parser (`127.1`,
    # `0x7f.1`, `2130706433`); only the dotted-quad spelling may appear in an allow-list.
    last = host.rsplit(".", 1)[-1]
    return last.isdigit() or bool(re.fullmatch(r"0x[0-9a-f]*", last))


def parse_target(raw: str) -> Target:
    """Parse a URL the way the proxy accepts it: `http(s)://host[:port]/path?query`.

    Raises:
        ProxyRefused: 400, the URL is not of that shape (userinfo, a fragment, a scheme
            other than http(s), non-ASCII or control characters, a malformed host or port).
    """
    if len(raw) > _MAX_URL or not _SAFE.fullmatch(raw):
        raise ProxyRefused(400, INVALID_TARGET)
    match = _URL.fullmatch(raw)
    if match is None:
        raise ProxyRefused(400, INVALID_TARGET)
    scheme = match["scheme"]
    if scheme not in DEFAULT_PORTS:
        raise ProxyRefused(400, f"{INVALID_TARGET}: the scheme must be http or https")
    if "@" in match["authority"]:
        raise ProxyRefused(400, f"{INVALID_TARGET}: userinfo is not allowed")
    origin = _split_authority(match["authority"], scheme)
    if origin is None:
        # Well-formed for a browser (upper case, a trailing dot, %-escapes...), but not the
        # canonical spelling the SDK sends: refused as a host the proxy does not serve.
        raise ProxyRefused(412, f"Target must be an inference.sh domain, got: {match['authority']}")
    rest = match["rest"] or "/"
    # `https://host?q` means path `/` (as `new URL` writes it); a request line needs the `/`.
    return Target(origin, rest if rest.startswith("/") else "/" + rest)


def parse_origin(url: str, *, what: str) -> Origin:
    """A configured base URL (`scheme://host[:port]`, no path) as an origin.

    Raises:
        ConfigurationError: `url` is not such a base URL.
    """
    try:
        target = parse_target(url.rstrip("/"))
    except ProxyRefused as exc:
        raise ConfigurationError(f"{what} must look like https://host[:port], got {url!r}") from exc
    if target.path != "/":
        raise ConfigurationError(f"{what} must have no path or query, got {url!r}")
    return target.origin


def parse_allowed_host(entry: str) -> str:
    """Check one `allowed_hosts` entry: an exact, canonical `host:port`.

    Raises:
        ConfigurationError: the entry has no port, or is not canonical (upper case, a
            non-canonical IP address, a scheme or path).
    """
    origin = _split_authority(entry, "http")
    if origin is None or not entry.endswith(f":{origin.port}") or origin.host_port != entry:
        raise ConfigurationError(
            f"allowed_hosts entries are exact 'host:port' strings in lower case, such as "
            f"'127.0.0.1:8787' or '[::1]:8787'; got {entry!r}"
        )
    if _looks_like_ipv4(origin.host):
        try:
            canonical = str(ipaddress.IPv4Address(origin.host)) == origin.host
        except ValueError:
            canonical = False
        if not canonical:
            raise ConfigurationError(
                f"allowed_hosts: write IPv4 addresses as four decimal numbers, got {entry!r}"
            )
    return entry


def _is_inference_sh(origin: Origin) -> bool:
    host = origin.host
    return (
        origin.scheme == "https"
        and origin.port == 443
        and (host == "inference.sh" or host.endswith(".inference.sh"))
    )


def resolve(raw: str, *, allowed_hosts: frozenset[str], base: Origin | None) -> Target:
    """The target to call for the URL a browser sent, or a refusal.

    With `base` (the `api_base_url` override), the browser's scheme and host are replaced by
    the base's, which the operator configured and so is allowed; the path and query stay.
    Otherwise the host must be an inference.sh domain over https on the default port, or
    exactly one of `allowed_hosts`.

    Raises:
        ProxyRefused: 400 for a malformed URL, 412 for a host that is not allowed.
    """
    target = parse_target(raw)
    if base is not None:
        return Target(base, target.path)
    origin = target.origin
    if _is_inference_sh(origin) or origin.host_port in allowed_hosts:
        return target
    if origin.scheme == "http" and _is_inference_sh(Origin("https", origin.host, 443)):
        raise ProxyRefused(412, "Target must use https for inference.sh domains")
    raise ProxyRefused(412, f"Target must be an inference.sh domain, got: {origin.authority}")
