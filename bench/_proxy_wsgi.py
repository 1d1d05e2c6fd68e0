"""The WSGI proxy as gunicorn loads it in `bench_proxy.py` (configured by env vars)."""

import os

from inferencesh.proxy import wsgi_proxy

app = wsgi_proxy(
    api_key=os.environ["BENCH_PROXY_KEY"],
    allowed_hosts=os.environ["BENCH_PROXY_ALLOWED"].split(","),
)
