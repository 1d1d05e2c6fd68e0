"""Test your own code against the local emulator: a pytest plugin and its fixtures.

Installed with the package (the `local` extra brings the server), the plugin offers:

- `inferencesh_emulator`: a fresh `Emulator` for the test, to register your own apps on;
- `inferencesh_server`: that emulator served on 127.0.0.1 for the test;
- `inferencesh_client` / `inferencesh_async_client`: clients pointed at it.

```python
def test_my_pipeline(inferencesh_emulator, inferencesh_client):
    @inferencesh_emulator.app("me/upper")
    def upper(ctx, input: dict) -> dict:
        return {"text": input["text"].upper()}

    assert inferencesh_client.run("me/upper", {"text": "hi"}).output == {"text": "HI"}
```

Nothing is imported until a fixture is used, so the plugin costs nothing otherwise.
"""

from inferencesh.testing.plugin import inferencesh_async_client as inferencesh_async_client
from inferencesh.testing.plugin import inferencesh_client as inferencesh_client
from inferencesh.testing.plugin import inferencesh_emulator as inferencesh_emulator
from inferencesh.testing.plugin import inferencesh_server as inferencesh_server

__all__ = [
    "inferencesh_async_client",
    "inferencesh_client",
    "inferencesh_emulator",
    "inferencesh_server",
]
