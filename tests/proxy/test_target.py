"""The target parser (no I/O): what it accepts, every HTTP client reads the same way.

The allow-list is checked on the parser's origin, while the bytes go out through httpx2,
aiohttp (yarl) or http.client (given host and port). A URL that one of them read with
another host, port or userinfo would be a way around the allow-list; generated URLs built
from the pieces such tricks use show that none exists.
"""

from __future__ import annotations

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from inferencesh.proxy import ProxyRefused
from inferencesh.proxy._target import DEFAULT_PORTS, Target, parse_target, resolve

PIECES = st.sampled_from(
    [
        "a",
        "api",
        "inference",
        "sh",
        "evil",
        "127",
        "0",
        "1",
        "0x7f",
        "localhost",
        "::1",
        "8787",
        "443",
        "80",
        ".",
        "..",
        ":",
        "@",
        "[",
        "]",
        "%",
        "%40",
        "%2e",
        "\\",
        "/",
        "?",
        "#",
        " ",
        "\t",
        "\r\n",
        "A",
        "-",
        "_",
        "~",
        "é",
        "http://",
        "https://",
    ]
)
RAW = st.one_of(
    st.builds(
        "".join,
        st.lists(PIECES, max_size=12).map(lambda parts: ["https://", *parts]),
    ),
    st.builds("".join, st.lists(PIECES, max_size=14)),
    st.text(max_size=40),
)


def assert_clients_agree(target: Target) -> None:
    origin = target.origin
    url = httpx2.URL(target.url)
    assert url.userinfo == b""
    assert (url.scheme, url.host, url.port or DEFAULT_PORTS[url.scheme]) == (
        origin.scheme,
        origin.bare_host,
        origin.port,
    )
    y = URL(target.url, encoded=True)
    assert y.raw_user is None and y.raw_password is None
    assert (y.scheme, y.raw_host, y.port) == (origin.scheme, origin.bare_host, origin.port)
    # http.client is handed the host and port themselves; its request line is the path.
    assert target.path.startswith("/") and target.url.endswith(target.path)


@settings(max_examples=600, deadline=None)
@given(RAW)
def test_every_accepted_url_reads_the_same_everywhere(raw: str) -> None:
    try:
        target = parse_target(raw)
    except ProxyRefused as refusal:
        assert refusal.status in (400, 412)
        return
    assert_clients_agree(target)


@pytest.mark.parametrize(
    ("raw", "origin", "path"),
    [
        ("https://api.inference.sh/apps/run", ("https", "api.inference.sh", 443), "/apps/run"),
        ("https://api.inference.sh:443/x?y=%2F", ("https", "api.inference.sh", 443), "/x?y=%2F"),
        ("http://127.0.0.1:8787/tasks/t1/stream", ("http", "127.0.0.1", 8787), "/tasks/t1/stream"),
        ("http://[::1]:8787/", ("http", "[::1]", 8787), "/"),
        ("https://api.inference.sh", ("https", "api.inference.sh", 443), "/"),
        ("https://api.inference.sh?x=1", ("https", "api.inference.sh", 443), "/?x=1"),
    ],
)
def test_canonical_urls(raw: str, origin: tuple[str, str, int], path: str) -> None:
    target = parse_target(raw)
    assert (target.origin.scheme, target.origin.host, target.origin.port) == origin
    assert target.path == path
    assert_clients_agree(target)


def test_resolve_with_a_base_keeps_path_and_query() -> None:
    base = parse_target("http://127.0.0.1:8787").origin
    target = resolve("https://api.inference.sh/tasks/t1?x=1", allowed_hosts=frozenset(), base=base)
    assert target.url == "http://127.0.0.1:8787/tasks/t1?x=1"
    with pytest.raises(ProxyRefused):
        resolve("https://a@api.inference.sh/x", allowed_hosts=frozenset(), base=base)
