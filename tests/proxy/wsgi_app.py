"""The WSGI proxy as gunicorn loads it in the streaming tests (configured by env vars)."""

import os

from inferencesh.proxy import wsgi_proxy

app = wsgi_proxy(
    api_key=os.environ["PROXY_TEST_KEY"],
    allowed_hosts=os.environ["PROXY_TEST_ALLOWED"].split(","),
)
