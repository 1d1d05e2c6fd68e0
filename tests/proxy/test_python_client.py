"""This SDK's own client in proxy mode (`proxy_url=`) goes through the same proxy."""

from __future__ import annotations

import pytest

from inferencesh import APIStatusError, TaskStatus, async_inference, inference
from inferencesh.local import RunningServer


def test_sync_client_through_the_proxy(served_proxy: str, emulator_server: RunningServer) -> None:
    with inference(proxy_url=served_proxy, base_url=emulator_server.base_url) as client:
        task = client.run("infsh/text-templating", {"template": "Hi {1}", "strings": ["proxy"]})
        assert task.output == {"text": "Hi proxy"}
        with client.run("infsh/slow", {"steps": 3, "interval": 0.05}, stream=True) as updates:
            statuses = [u.status for u in updates]
        assert statuses[-1] == TaskStatus.COMPLETED and TaskStatus.RUNNING in statuses
        uploaded = client.files.upload(b"through the proxy", filename="note.txt")
        assert client.files.get(uploaded.id).filename == "note.txt"


@pytest.mark.anyio
async def test_async_client_through_the_proxy(
    served_proxy: str, emulator_server: RunningServer
) -> None:
    async with async_inference(proxy_url=served_proxy, base_url=emulator_server.base_url) as client:
        task = await client.run("infsh/text-templating", {"template": "Hi {1}", "strings": ["x"]})
        assert task.output == {"text": "Hi x"}
        async with await client.run(
            "infsh/slow", {"steps": 2, "interval": 0.05}, stream=True
        ) as updates:
            statuses = [u.status async for u in updates]
        assert statuses[-1] == TaskStatus.COMPLETED


def test_a_refusal_reaches_the_client_as_a_typed_error(served_proxy: str) -> None:
    with inference(proxy_url=served_proxy, base_url="http://127.0.0.1:1") as client:
        with pytest.raises(APIStatusError) as caught:
            client.tasks.get("t1")
    assert caught.value.status_code == 412
    assert "Target must be an inference.sh domain" in str(caught.value)
