"""Test your own code against the local emulator: a pytest plugin, fixtures and model scripts.

Installed with the package (the `local` extra brings the server), the plugin offers:

- `inferencesh_emulator`: a fresh `Emulator` for the test, to register your own apps on;
- `inferencesh_server`: that emulator served on 127.0.0.1 for the test;
- `inferencesh_client` / `inferencesh_async_client`: clients pointed at it;
- `inferencesh_model`: a `ScriptedModel` answering every agent of the test's emulator.

```python
def test_my_pipeline(inferencesh_emulator, inferencesh_client):
    @inferencesh_emulator.app("me/upper")
    def upper(ctx, input: dict) -> dict:
        return {"text": input["text"].upper()}

    assert inferencesh_client.run("me/upper", {"text": "hi"}).output == {"text": "HI"}
```

For agents, script the model: `reply(text)` and `call(name, **arguments)` make model turns;
`scripted_core_app(*turns)` sends them over the wire (the `local/scripted` core app), and
`ScriptedModel(*turns)` answers in Python and records what it was asked (registered with
`emulator.models.register(ref, model)`, or the `inferencesh_model` fixture).

Nothing is imported until a fixture or `ScriptedModel` is used, so the plugin costs nothing
otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inferencesh.testing._agents import call as call
from inferencesh.testing._agents import calls as calls
from inferencesh.testing._agents import reply as reply
from inferencesh.testing._agents import scripted_core_app as scripted_core_app

if TYPE_CHECKING:
    from inferencesh.local.models._base import ModelRequest as ModelRequest
    from inferencesh.local.models._scripted import ScriptedModel as ScriptedModel
    from inferencesh.testing.plugin import inferencesh_async_client as inferencesh_async_client
    from inferencesh.testing.plugin import inferencesh_client as inferencesh_client
    from inferencesh.testing.plugin import inferencesh_emulator as inferencesh_emulator
    from inferencesh.testing.plugin import inferencesh_model as inferencesh_model
    from inferencesh.testing.plugin import inferencesh_server as inferencesh_server

_FIXTURES = frozenset(
    {
        "inferencesh_async_client",
        "inferencesh_client",
        "inferencesh_emulator",
        "inferencesh_model",
        "inferencesh_server",
    }
)

__all__ = [
    "ModelRequest",
    "ScriptedModel",
    "call",
    "calls",
    "inferencesh_async_client",
    "inferencesh_client",
    "inferencesh_emulator",
    "inferencesh_model",
    "inferencesh_server",
    "reply",
    "scripted_core_app",
]


def __getattr__(name: str) -> Any:
    # Lazy: the emulator (and its extra) loads only when a test uses it, and pytest only when
    # a fixture is asked for, so the model-script helpers work in a script without pytest.
    if name in _FIXTURES:
        from inferencesh.testing import plugin

        return getattr(plugin, name)
    if name == "ScriptedModel":
        from inferencesh.local.models._scripted import ScriptedModel

        return ScriptedModel
    if name == "ModelRequest":
        from inferencesh.local.models._base import ModelRequest

        return ModelRequest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
