"""Which model answers a chat: chosen by the agent's `core_app` ref."""

from __future__ import annotations

import threading

from inferencesh.local.models._base import Model
from inferencesh.local.models._offline import OfflineModel
from inferencesh.local.models._scripted import SCRIPTED_REF, WireScriptModel

__all__ = ["ModelRegistry", "ref_name"]


def ref_name(ref: str) -> str:
    """`namespace/name` of a core app ref (any `@version` or `:function` dropped)."""
    name = ref.strip().split("@", 1)[0].split(":", 1)[0]
    return name.removeprefix("app/") if name.count("/") == 2 else name


class ModelRegistry:
    """Models by core app ref (thread-safe).

    `local/scripted` is always the wire-scripted model; a ref registered with `register` gets
    its model (any version of the ref); every other ref gets `default`, the offline
    rule-based model unless replaced.
    """

    def __init__(self, default: Model | None = None) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, Model] = {}
        self._default: Model = default if default is not None else OfflineModel()
        self._scripted = WireScriptModel()

    @property
    def default(self) -> Model:
        """The model of every ref without a model of its own (settable)."""
        with self._lock:
            return self._default

    @default.setter
    def default(self, model: Model) -> None:
        _check(model)
        with self._lock:
            self._default = model

    def register(self, ref: str, model: Model) -> Model:
        """Answer agents whose `core_app.ref` is `ref` (any version) with `model`; returns it.

        Raises:
            ValueError: `ref` is `local/scripted`, or not `namespace/name`.
            TypeError: `model` has no `complete` method.
        """
        _check(model)
        name = ref_name(ref)
        if name == SCRIPTED_REF:
            raise ValueError(f"{SCRIPTED_REF} is the wire-scripted model and cannot be replaced")
        if name.count("/") != 1 or not all(name.split("/")):
            raise ValueError(f"a model ref looks like namespace/name, got {ref!r}")
        with self._lock:
            self._models[name] = model
        return model

    def unregister(self, ref: str) -> None:
        """Forget the model of `ref` (it falls back to `default`)."""
        with self._lock:
            self._models.pop(ref_name(ref), None)

    def resolve(self, ref: str) -> Model:
        """The model answering agents whose core app is `ref`."""
        name = ref_name(ref)
        if name == SCRIPTED_REF:
            return self._scripted
        with self._lock:
            return self._models.get(name, self._default)


def _check(model: object) -> None:
    if not callable(getattr(model, "complete", None)):
        raise TypeError(f"a model needs an async complete(request, emit) method, got {model!r}")
