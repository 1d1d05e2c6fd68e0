"""Client options, resolved once from arguments and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import httpx2

from inferencesh._types import NOT_GIVEN, NotGiven, StreamMode, TimeoutTypes
from inferencesh.errors import ConfigurationError

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "ClientOptions"]

DEFAULT_BASE_URL = "https://api.inference.sh"
DEFAULT_TIMEOUT = httpx2.Timeout(60.0, connect=10.0)
DEFAULT_STREAM_IDLE_TIMEOUT = 45.0
"""Three missed heartbeats: the API sends one every 15 s on a quiet stream."""
DEFAULT_MAX_RECONNECTS = 3
DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_MAX_RETRY_AFTER = 60.0
API_KEY_ENV = "INFERENCE_API_KEY"
BASE_URL_ENV = "INFERENCE_BASE_URL"


@dataclass(frozen=True, kw_only=True)
class ClientOptions:
    """Everything a client needs to build requests. The key is kept out of `repr`."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    proxy_url: str | None = None
    timeout: httpx2.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    max_retries: int = 2
    stream_mode: StreamMode = "stream"
    poll_interval: float = 1.0
    """Seconds between `/status` polls in poll mode."""
    max_reconnects: int = DEFAULT_MAX_RECONNECTS
    """Reconnects in a row without progress before a task stream gives up."""
    stream_idle_timeout: float = DEFAULT_STREAM_IDLE_TIMEOUT
    """Seconds a stream may stay silent (heartbeats count) before it is reconnected."""
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    """Connections the pool keeps open at most (requests beyond wait for one)."""
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    """The longest `Retry-After` honoured; a longer one is raised at once."""
    headers: tuple[tuple[str, str], ...] = ()
    auto_upload: bool = True
    """Upload paths, binary files, bytes and data URIs found in run inputs."""

    @classmethod
    def resolve(
        cls,
        api_key: str | None,
        *,
        base_url: str | None,
        proxy_url: str | None,
        timeout: TimeoutTypes | NotGiven,
        max_retries: int,
        stream_mode: StreamMode,
        poll_interval: float,
        headers: dict[str, str] | None,
        auto_upload: bool = True,
        stream_idle_timeout: float = DEFAULT_STREAM_IDLE_TIMEOUT,
        max_reconnects: int = DEFAULT_MAX_RECONNECTS,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    ) -> ClientOptions:
        """Fill in defaults from the environment and check the combination makes sense."""
        if api_key is not None:
            key: str | None = _checked_key(api_key, "api_key")
        else:
            key = os.environ.get(API_KEY_ENV) or None
            if key is not None:
                key = _checked_key(key, API_KEY_ENV)
        if key is None and proxy_url is None:
            raise ConfigurationError(
                f"no API key: pass api_key=... or set {API_KEY_ENV}. "
                "(Browser-style setups without a key pass proxy_url=... instead.)"
            )
        url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        for name, value in (("base_url", url), ("proxy_url", proxy_url)):
            if value is not None and not value.startswith(("http://", "https://")):
                raise ConfigurationError(
                    f"{name} must start with http:// or https://, got {value!r}"
                )
        if max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0, got {max_retries}")
        if stream_mode not in ("stream", "poll"):
            raise ConfigurationError(f"stream_mode must be 'stream' or 'poll', got {stream_mode!r}")
        for name, value in (
            ("poll_interval", poll_interval),
            ("stream_idle_timeout", stream_idle_timeout),
        ):
            if not value > 0:  # also refuses NaN
                raise ConfigurationError(f"{name} must be > 0, got {value}")
        if max_reconnects < 0:
            raise ConfigurationError(f"max_reconnects must be >= 0, got {max_reconnects}")
        if max_connections < 1:
            raise ConfigurationError(f"max_connections must be >= 1, got {max_connections}")
        if not max_retry_after >= 0:
            raise ConfigurationError(f"max_retry_after must be >= 0, got {max_retry_after}")
        return cls(
            api_key=key,
            base_url=url,
            proxy_url=proxy_url,
            timeout=as_timeout(timeout, DEFAULT_TIMEOUT),
            max_retries=max_retries,
            stream_mode=stream_mode,
            poll_interval=poll_interval,
            headers=tuple((headers or {}).items()),
            auto_upload=auto_upload,
            stream_idle_timeout=stream_idle_timeout,
            max_reconnects=max_reconnects,
            max_connections=max_connections,
            max_retry_after=max_retry_after,
        )

    def with_call(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> ClientOptions:
        """These options with a single call's overrides applied."""
        if isinstance(timeout, NotGiven) and isinstance(max_retries, NotGiven):
            return self
        return replace(
            self,
            timeout=as_timeout(timeout, self.timeout),
            max_retries=self.max_retries if isinstance(max_retries, NotGiven) else max_retries,
        )


def _checked_key(key: str, source: str) -> str:
    """The key, if an HTTP header can carry it; a `ConfigurationError` saying why not."""
    if not key.strip():
        raise ConfigurationError(
            f"{source} is empty: pass your API key, or proxy_url=... for a server proxy"
        )
    if not (key.isascii() and key.isprintable()) or any(c.isspace() for c in key):
        raise ConfigurationError(
            f"{source} holds whitespace, control or non-ASCII characters; "
            "an API key is one token (check for a stray newline or quote)"
        )
    return key


def as_timeout(value: TimeoutTypes | NotGiven, default: httpx2.Timeout) -> httpx2.Timeout:
    """Turn what a caller passed as `timeout` into an `httpx2.Timeout`."""
    if isinstance(value, NotGiven):
        return default
    if isinstance(value, httpx2.Timeout):
        return value
    return httpx2.Timeout(value)
