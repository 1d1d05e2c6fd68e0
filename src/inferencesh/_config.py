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
    max_reconnects: int = 5
    """Reconnects in a row without progress before a task stream gives up."""
    stream_idle_timeout: float = 60.0
    """Seconds a stream may stay silent (heartbeats count) before it is reconnected."""
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
    ) -> ClientOptions:
        """Fill in defaults from the environment and check the combination makes sense."""
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
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
        if poll_interval <= 0:
            raise ConfigurationError(f"poll_interval must be > 0, got {poll_interval}")
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


def as_timeout(value: TimeoutTypes | NotGiven, default: httpx2.Timeout) -> httpx2.Timeout:
    """Turn what a caller passed as `timeout` into an `httpx2.Timeout`."""
    if isinstance(value, NotGiven):
        return default
    if isinstance(value, httpx2.Timeout):
        return value
    return httpx2.Timeout(value)
