"""The app side of `Emulator`'s public API: registering apps, and what their runs may need."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from inferencesh.local.apps._registry import AppRegistry, IntegrationRequirement, RegisteredApp

__all__ = ["AppsMixin"]

AppT = TypeVar("AppT", bound=Callable[..., Any] | type)


class AppsMixin:
    """Apps, secrets and integrations of an emulator (`Emulator` inherits these)."""

    apps: AppRegistry
    _secrets: dict[str, str]
    _integrations: set[str]

    @property
    def secrets(self) -> dict[str, str]:
        """Secret values by name (editable); apps see only those they declared."""
        return self._secrets

    @secrets.setter
    def secrets(self, value: Mapping[str, str]) -> None:
        self._secrets.clear()
        self._secrets.update(value)

    @property
    def integrations(self) -> set[str]:
        """Providers counted as connected for `requires_integrations` (editable)."""
        return self._integrations

    @integrations.setter
    def integrations(self, value: Collection[str]) -> None:
        self._integrations.clear()
        self._integrations.update(value)

    def app(
        self,
        ref: str,
        *,
        input: Any = None,
        setup: Any = None,
        requires_secrets: Collection[str] = (),
        requires_integrations: Collection[IntegrationRequirement] = (),
        version: str = "v1",
        description: str = "",
        wait_for_stream: float = 0.0,
        local_files: bool = True,
    ) -> Callable[[AppT], AppT]:
        """Register the decorated function or class as the app `ref` (`namespace/name`).

        A function is called as `fn(ctx, input)`; a class is instantiated once per worker,
        `setup(self, ctx)` runs first, then methods `(self, ctx, input)` are its functions.
        Sync code runs in a thread of its own, `async def` on the emulator's task loop.

        Args:
            ref: `namespace/name`; runs may add any `@version`.
            input: Model (or any type pydantic validates) for the input; defaults to the
                annotation of the `input` parameter; none means raw JSON.
            setup: Model for the run request's `setup`, passed as `ctx.setup`.
            requires_secrets: Secret names that must be in `secrets`, else runs get 412.
            requires_integrations: Integrations that must be connected, else 412.
            version: The version id reported as the task's `app_version_id`.
            description: Free text.
            wait_for_stream: Seconds a new task of this app waits in `queued` for a client
                to open its stream (it starts as soon as one does). Clients open the stream
                after the run request returns, so an app streaming deltas (`ctx.delta`)
                should set this, or fast runs finish before anyone sees a delta.
            local_files: File uris of this emulator in the input (and setup) reach the app as
                the stored files' local paths (a `Path` field gets a path it can open);
                False hands the app the uris as sent.

        Raises:
            TypeError: the function's signature cannot be used as an app.
        """

        def register(target: AppT) -> AppT:
            self.register(
                ref,
                target,
                input=input,
                setup=setup,
                requires_secrets=requires_secrets,
                requires_integrations=requires_integrations,
                version=version,
                description=description,
                wait_for_stream=wait_for_stream,
                local_files=local_files,
            )
            return target

        return register

    def register(
        self, ref: str, target: Callable[..., Any] | type, **options: Any
    ) -> RegisteredApp:
        """Register `target` as the app `ref`; the options are those of `app()`."""
        app = RegisteredApp(ref, target, **options)
        self.apps.add(app)
        return app
