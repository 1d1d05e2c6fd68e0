"""Apps the emulator can run: registration, the context an app gets, and warm workers.

An app is either a function `fn(ctx, input)` (sync or async) or a class whose instances are
workers: `setup(self, ctx)` runs once per worker, then every public method taking
`(self, ctx, input)` is a function of the app that a run can name (`"function": "..."`,
`run` by default). Input is validated with the `input=` model, or else with the annotation
of the `input` parameter (anything pydantic can validate; no annotation means raw JSON).
"""

from __future__ import annotations

import hashlib
import inspect
import threading
import typing
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import TypeAdapter

from inferencesh.local.core._ids import new_id
from inferencesh.local.core._json import to_json_value

__all__ = [
    "AppContext",
    "LogType",
    "AppRegistry",
    "FunctionSpec",
    "IntegrationRequirement",
    "RegisteredApp",
    "TaskCancelled",
    "TaskSink",
    "Worker",
    "parse_ref",
]


class LogType:
    """`TaskLog.log_type` values."""

    BUILD = 0
    RUN = 1
    SERVE = 2
    SETUP = 3
    TASK = 4


class TaskSink(Protocol):
    """Where an app's logs, progress and deltas go: the task store (apps never import it)."""

    def log(self, task_id: str, text: str, log_type: int = ...) -> object: ...
    def progress(self, task_id: str, fraction: float, message: str | None) -> object: ...
    def delta(self, task_id: str, delta: dict[str, Any]) -> object: ...


class TaskCancelled(Exception):
    """Raised inside an app by `ctx.raise_if_cancelled()` / `ctx.sleep()` once cancelled."""


class AppContext:
    """What a running app can see and do. Methods are safe to call from any thread.

    Calls made after the task ended (say, by a sync app still running after a cancel) are
    ignored.
    """

    def __init__(
        self,
        *,
        store: TaskSink,
        task_id: str,
        cancel_requested: threading.Event,
        app: str,
        function: str,
        setup: Any,
        secrets: Mapping[str, str],
        session_id: str | None = None,
    ) -> None:
        self._store = store
        self._cancel_requested = cancel_requested
        self._log_type = LogType.RUN
        self.task_id = task_id
        """The id of the task being run."""
        self.app = app
        """The app's ref, `namespace/name`."""
        self.function = function
        """The function of the app being run (`run` unless the request named another)."""
        self.setup = setup
        """The validated setup (a model instance when the app has a setup model)."""
        self.secrets: Mapping[str, str] = dict(secrets)
        """The values of the secrets the app declared in `requires_secrets`."""
        self.session_id = session_id
        """The session the task runs in (its worker is pinned to it), or None."""

    def log(self, text: str) -> None:
        """Append a log entry to the task; its streams get it at once."""
        self._store.log(self.task_id, str(text), self._log_type)

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report progress in [0, 1] (clamped), optionally saying what is going on.

        It travels as the task's `progress` and `progress_message` fields.
        """
        self._store.progress(self.task_id, fraction, message)

    def delta(self, delta: Mapping[str, Any]) -> None:
        """Stream a token delta, e.g. `{"response": "Hel"}` (LLMDelta merge rules apply).

        Deltas go to the task's streams as `{"event": "delta", ...}` lines and are not
        stored: the app's return value must still hold the whole output.
        """
        self._store.delta(self.task_id, to_json_value(dict(delta)))

    @property
    def cancelled(self) -> bool:
        """Whether someone asked to cancel the task."""
        return self._cancel_requested.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise `TaskCancelled` if the task was cancelled.

        Raises:
            TaskCancelled: the task was cancelled.
        """
        if self.cancelled:
            raise TaskCancelled(self.task_id)

    def sleep(self, seconds: float) -> None:
        """Sleep in a sync app, waking up at once if the task is cancelled.

        Raises:
            TaskCancelled: the task was cancelled (before or during the sleep).
        """
        if self._cancel_requested.wait(max(0.0, seconds)):
            raise TaskCancelled(self.task_id)


@dataclass(frozen=True, kw_only=True)
class IntegrationRequirement:
    """An OAuth integration an app needs; missing ones make runs fail with 412."""

    provider: str
    """Provider key, e.g. `google`; satisfied when listed in `Emulator(integrations=...)`."""
    provider_name: str | None = None
    scopes: tuple[str, ...] = ()
    scope_descriptions: Mapping[str, str] = field(default_factory=dict[str, str])
    message: str | None = None

    def as_error(self) -> dict[str, Any]:
        """The entry of the 412 `errors` array."""
        name = self.provider_name or self.provider.title()
        action: dict[str, Any] = {"type": "connect", "provider": self.provider}
        action["provider_name"] = name
        if self.scopes:
            action["scopes"] = list(self.scopes)
        if self.scope_descriptions:
            action["scope_descriptions"] = dict(self.scope_descriptions)
        return {
            "type": "integration",
            "key": self.provider,
            "message": self.message or f"Connect {name} to continue",
            "action": action,
        }


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One callable function of an app."""

    name: str
    validator: TypeAdapter[Any] | None
    is_async: bool


class Worker:
    """An app instance: a class app's object (None for function apps), set up once."""

    def __init__(self, setup_key: str) -> None:
        self.id = new_id("wrk")
        self.setup_key = setup_key
        self.instance: object | None = None
        self.ready = False


class RegisteredApp:
    """An app in the registry, with its pool of warm workers."""

    def __init__(
        self,
        ref: str,
        target: Callable[..., Any] | type,
        *,
        input: Any = None,
        setup: Any = None,
        requires_secrets: Collection[str] = (),
        requires_integrations: Collection[IntegrationRequirement] = (),
        version: str = "v1",
        description: str = "",
        wait_for_stream: float = 0.0,
        local_files: bool = True,
    ) -> None:
        parse_ref(ref)  # validates the shape
        if wait_for_stream < 0:
            raise ValueError(f"wait_for_stream must be >= 0, got {wait_for_stream}")
        self.wait_for_stream = wait_for_stream
        self.local_files = local_files
        """Whether file uris of the emulator in the input reach the app as local paths."""
        self.ref = ref
        self.target = target
        self.version = version
        self.description = description
        self.app_id = "app_" + hashlib.sha256(ref.encode()).hexdigest()[:12]
        self.setup_validator = None if setup is None else TypeAdapter[Any](setup)
        self.requires_secrets = tuple(requires_secrets)
        self.requires_integrations = tuple(requires_integrations)
        self.is_class = inspect.isclass(target)
        self.functions = _functions_of(ref, target, input)
        self.setup_is_async = self.is_class and inspect.iscoroutinefunction(
            getattr(target, "setup", None)
        )
        self._lock = threading.Lock()
        self._idle: list[Worker] = []

    @property
    def needs_setup(self) -> bool:
        """Whether a new worker goes through `setting_up` (class apps)."""
        return self.is_class

    def acquire(self, setup_key: str) -> Worker:
        """An idle worker set up with the same setup, or a new one."""
        with self._lock:
            for i, worker in enumerate(self._idle):
                if worker.setup_key == setup_key:
                    return self._idle.pop(i)
        return Worker(setup_key)

    def release(self, worker: Worker) -> None:
        """Give a worker back after a run, warm for the next one."""
        with self._lock:
            self._idle.append(worker)

    def set_up(self, worker: Worker, ctx: AppContext) -> Any:
        """Create the worker's instance and run its `setup` (may return an awaitable)."""
        if not self.is_class:
            return None
        instance = typing.cast(type, self.target)()
        worker.instance = instance
        setup = getattr(instance, "setup", None)
        return setup(ctx) if callable(setup) else None

    def call(self, worker: Worker, function: str, ctx: AppContext, value: Any) -> Any:
        """Run one function (returns its result, or an awaitable for async functions)."""
        if self.is_class:
            return getattr(worker.instance, function)(ctx, value)
        return typing.cast(Callable[..., Any], self.target)(ctx, value)


def _functions_of(
    ref: str, target: Callable[..., Any] | type, input: Any
) -> dict[str, FunctionSpec]:
    if not inspect.isclass(target):
        if not callable(typing.cast(object, target)):
            raise TypeError(f"app {ref!r}: expected a function or a class, got {target!r}")
        return {"run": _spec(ref, "run", typing.cast(Callable[..., Any], target), input, skip=0)}
    functions: dict[str, FunctionSpec] = {}
    for name, member in inspect.getmembers(target, inspect.isfunction):
        if name.startswith("_") or name == "setup":
            continue
        functions[name] = _spec(ref, name, member, input if name == "run" else None, skip=1)
    if not functions:
        raise TypeError(f"app {ref!r}: class {target.__name__} has no public methods to run")
    return functions


def _spec(ref: str, name: str, fn: Callable[..., Any], input: Any, *, skip: int) -> FunctionSpec:
    params = list(inspect.signature(fn).parameters.values())[skip:]
    if len(params) != 2:
        got = ", ".join(p.name for p in params)
        raise TypeError(f"app {ref!r}: {name}() must take (ctx, input), got ({got})")
    model = input
    if model is None and params[1].annotation is not inspect.Parameter.empty:
        try:
            model = typing.get_type_hints(fn).get(params[1].name)
        except NameError as exc:
            raise TypeError(
                f"app {ref!r}: cannot resolve the input annotation of {name}() ({exc}); "
                "pass input=Model to the decorator"
            ) from exc
    validator = None if model is None or model is Any else TypeAdapter[Any](model)
    return FunctionSpec(name, validator, inspect.iscoroutinefunction(fn))


def parse_ref(ref: str) -> tuple[str, str | None, str | None]:
    """Split `namespace/name[@version][:function]` (also `app/namespace/name...`).

    `@latest` means no particular version.

    Raises:
        ValueError: not of that shape.
    """
    text = ref.strip()
    function: str | None = None
    if ":" in text:
        text, function = text.rsplit(":", 1)
    version: str | None = None
    if "@" in text:
        text, version = text.split("@", 1)
        if version in ("", "latest"):
            version = None
    parts = text.split("/")
    if len(parts) == 3 and parts[0] == "app":
        parts = parts[1:]
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"app ref must look like namespace/name[@version], got {ref!r}")
    return "/".join(parts), version, function or None


class AppRegistry:
    """The apps an emulator knows, by ref and by app id (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._apps: dict[str, RegisteredApp] = {}

    def add(self, app: RegisteredApp) -> None:
        """Register `app`, replacing an app with the same ref."""
        with self._lock:
            self._apps[app.ref] = app

    def remove(self, ref: str) -> None:
        """Forget an app; runs already started finish."""
        with self._lock:
            self._apps.pop(ref, None)

    def get(self, ref: str) -> RegisteredApp | None:
        """The app registered as `ref` (`namespace/name`)."""
        with self._lock:
            return self._apps.get(ref)

    def by_id(self, app_id: str) -> RegisteredApp | None:
        """The app whose `app_id` (or ref) is `app_id`."""
        with self._lock:
            for app in self._apps.values():
                if app_id in (app.app_id, app.ref):
                    return app
            return None

    def __iter__(self) -> Iterator[RegisteredApp]:
        with self._lock:
            return iter(list(self._apps.values()))

    def __contains__(self, ref: object) -> bool:
        with self._lock:
            return ref in self._apps
