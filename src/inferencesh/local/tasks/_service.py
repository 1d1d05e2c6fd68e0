"""What the task endpoints do, apart from HTTP: admission of runs, cancel, delete, reads.

Every check of a run request happens before the task exists, so a refused run (unknown app,
bad input, missing secret) leaves no trace in the emulator's state.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from inferencesh.local.apps._registry import AppRegistry, RegisteredApp, parse_ref
from inferencesh.local.core._envelope import ApiError
from inferencesh.local.core._ids import parse_iso
from inferencesh.local.core._listing import paginate
from inferencesh.local.files._store import FileStore
from inferencesh.local.sessions._store import Lease, SessionStore, parse_timeout
from inferencesh.local.tasks._app_files import host_of, local_inputs
from inferencesh.local.tasks._runner import Job, Runner
from inferencesh.local.tasks._state import TaskRecord, TaskStore
from inferencesh.models.task import TaskStatus

__all__ = ["TaskService"]

_STRING_FIELDS = (
    "app",
    "app_id",
    "version_id",
    "function",
    "infra",
    "webhook",
    "run_at",
    "session",
)


class TaskService:
    """The task operations of one emulator."""

    def __init__(
        self,
        *,
        store: TaskStore,
        apps: AppRegistry,
        runner: Runner,
        secrets: Mapping[str, str],
        integrations: Collection[str],
        files: FileStore,
        sessions: SessionStore,
    ) -> None:
        self.store = store
        self.apps = apps
        self.runner = runner
        self.secrets = secrets
        self.integrations = integrations
        self.files = files
        self.sessions = sessions

    # -- run ------------------------------------------------------------------------------

    def run(self, body: Mapping[str, Any], *, base_url: str = "") -> dict[str, Any]:
        """Admit a `POST /apps/run` body and start the task; the created task plus `status_text`.

        Args:
            body: The request body.
            base_url: Where the client reached the emulator (for the uris of output files).

        Raises:
            ApiError: 400 malformed (also a bad `session_timeout`), 404 unknown app or
                function, 412 missing secrets or integrations, 422 invalid input or setup,
                and the session errors (404 `SESSION_NOT_FOUND`, 410 `SESSION_ENDED` /
                `SESSION_EXPIRED`, 409 `WORKER_LEASED` / `APP_MISMATCH`).
        """
        for name in _STRING_FIELDS:
            if name in body and not isinstance(body[name], str):
                raise ApiError(400, "invalid_request", f"{name} must be a string")
        app, function = self._resolve(body)
        session: str = body.get("session") or ""
        timeout = _session_timeout(body, session)
        self._check_requirements(app)
        raw_setup = body.get("setup", {})
        raw_input = body.get("input", {})
        app_setup, app_input = raw_setup, raw_input
        if app.local_files:
            host = host_of(base_url)
            app_setup = local_inputs(raw_setup, self.files, where="setup", host=host)
            app_input = local_inputs(raw_input, self.files, where="input", host=host)
        setup = _validate(app.setup_validator, app_setup, "setup")
        value = _validate(app.functions[function].validator, app_input, "input")
        setup_key = json.dumps(raw_setup, sort_keys=True)
        # Last of the checks: leasing a worker is the first change a run makes.
        lease = self._lease(app, session, setup_key, timeout)
        fields: dict[str, Any] = {
            "app_id": app.app_id,
            "app_version_id": app.version,
            "function": function,
            "setup": raw_setup,
            "input": raw_input,
        }
        if lease is not None:
            fields["session_id"] = lease.session_id
            if timeout is not None:
                fields["session_timeout"] = timeout
        for name in ("infra", "webhook", "run_at", "metadata"):
            if name in body:
                fields[name] = body[name]
        workers = body.get("workers")
        if isinstance(workers, list):
            fields["workers"] = [str(w) for w in workers]  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
        record: TaskRecord | None = None
        try:
            record = self.store.create(fields)
            created = record.snapshot()  # before the runner moves it on: status `received`
            if lease is not None:
                self.sessions.attach(lease.session_id, created["id"])
            self.runner.submit(
                Job(
                    record=record,
                    app=app,
                    function=function,
                    input=value,
                    setup=setup,
                    setup_key=setup_key,
                    secrets={k: self.secrets[k] for k in app.requires_secrets},
                    lease=lease,
                    base_url=base_url,
                )
            )
        except BaseException:
            # An emulator bug past the checks: undo what was made, so nothing half-made stays.
            if record is not None:
                self.store.delete(record.dto["id"])
            if lease is not None:
                self.sessions.undo(lease)
            raise
        return {**created, "status_text": TaskStatus(created["status"]).label}

    def _lease(
        self, app: RegisteredApp, session: str, setup_key: str, timeout: int | None
    ) -> Lease | None:
        if not session:
            return None
        if session == "new":
            return self.sessions.open(app, setup_key, timeout)
        return self.sessions.lease(session, app)

    def _resolve(self, body: Mapping[str, Any]) -> tuple[RegisteredApp, str]:
        ref = body.get("app")
        ref_function: str | None = None
        if ref:
            try:
                name, _version, ref_function = parse_ref(ref)
            except ValueError as exc:
                raise ApiError(400, "invalid_request", str(exc)) from exc
            # Any version runs the registered one: the emulator keeps one version per app.
            app = self.apps.get(name)
            if app is None:
                raise ApiError(404, "not_found", f"app {name} not found")
        elif body.get("app_id"):
            app = self.apps.by_id(body["app_id"])
            if app is None:
                raise ApiError(404, "not_found", f"app {body['app_id']} not found")
        else:
            raise ApiError(400, "invalid_request", "app is required (namespace/name[@version])")
        function = body.get("function") or ref_function or "run"
        if function not in app.functions:
            known = ", ".join(sorted(app.functions))
            raise ApiError(
                404, "not_found", f"app {app.ref} has no function {function!r} (it has: {known})"
            )
        return app, function

    def _check_requirements(self, app: RegisteredApp) -> None:
        errors: list[dict[str, Any]] = [
            {
                "type": "secret",
                "key": key,
                "message": f"Missing secret: {key}",
                "action": {"type": "add_secret"},
            }
            for key in app.requires_secrets
            if not self.secrets.get(key)
        ]
        errors += [
            req.as_error()
            for req in app.requires_integrations
            if req.provider not in self.integrations
        ]
        if errors:
            raise ApiError(
                412,
                "requirements_not_met",
                errors[0]["message"],
                title="Requirements not met",
                extra={"errors": errors},
            )

    # -- other operations -----------------------------------------------------------------

    def get(self, task_id: str) -> dict[str, Any]:
        """The task.

        Raises:
            ApiError: 404 if there is no such task.
        """
        task = self.store.snapshot(task_id)
        if task is None:
            raise self.not_found(task_id)
        return task

    def not_found(self, task_id: str) -> ApiError:
        """The 404 of a task that is not here; it says so if it was evicted."""
        if self.store.was_evicted(task_id):
            return ApiError(
                404,
                "not_found",
                f"task {task_id} was evicted: the emulator keeps the "
                f"{self.store.max_finished_tasks} most recent finished tasks "
                "(Emulator(max_finished_tasks=...))",
            )
        return ApiError(404, "not_found", f"task {task_id} not found")

    def status(self, task_id: str) -> dict[str, Any]:
        """`ResourceStatusDTO`: what pollers compare."""
        task = self.get(task_id)
        return {"id": task["id"], "status": task["status"], "updated_at": task["updated_at"]}

    def logs(self, task_id: str) -> dict[str, Any]:
        """`TaskLogsDTO`."""
        task = self.get(task_id)
        return {
            "task_id": task["id"],
            "status": task["status"],
            "events": task["events"],
            "logs": task["logs"],
        }

    def cancel(self, task_id: str) -> dict[str, Any]:
        """Cancel a task that has not ended; the task as it is now (`cancelling`).

        Raises:
            ApiError: 404 no such task; 409 `invalid_transition` if it already ended.
        """
        outcome = self.store.request_cancel(task_id)
        if outcome == "missing":
            raise self.not_found(task_id)
        if outcome == "ended":
            task = self.get(task_id)
            label = TaskStatus(task["status"]).label
            raise ApiError(
                409, "invalid_transition", f"task {task_id} is already {label}; nothing to cancel"
            )
        record = self.store.get(task_id)
        interrupt = None if record is None else record.interrupt
        if interrupt is not None:
            interrupt()
        return self.get(task_id)

    def delete(self, task_id: str, *, files: bool = False) -> None:
        """Delete a task; one still running is cancelled first (its streams see that).

        Args:
            task_id: The task.
            files: Also delete the files the task's app returned.

        Raises:
            ApiError: 404 if there is no such task.
        """
        record = self.store.get(task_id)
        if record is None:
            raise self.not_found(task_id)
        if self.store.request_cancel(task_id) == "cancelling":
            self.store.transition(task_id, TaskStatus.CANCELLED)
            if record.interrupt is not None:
                record.interrupt()
        self.store.delete(task_id)
        if files:
            self.files.delete_for_task(task_id)

    def list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A page of tasks (`CursorListResponse<TaskDTO>`), newest first by default."""
        return paginate(
            self.store.snapshots(), body, coerce={"status": lambda v: int(TaskStatus.parse(v))}
        )

    def timings(self, task_id: str) -> dict[str, Any]:
        """`TaskTimingsDTO`: how long each status lasted (durations in seconds and ms)."""
        task = self.get(task_id)
        events: list[dict[str, Any]] = task["events"]
        times = [parse_iso(e["event_time"]) for e in events]
        status = TaskStatus(task["status"])
        timeline: list[dict[str, Any]] = []
        for i, event in enumerate(events):
            entry: dict[str, Any] = {"status": event["status"], "timestamp": event["event_time"]}
            if i + 1 < len(events):
                entry.update(_duration(times[i], times[i + 1]))
                entry["next_status"] = events[i + 1]["status"]
            timeline.append(entry)
        end = times[-1] if status.is_terminal else parse_iso(self.store.clock.now_iso())
        total = _duration(times[0], end)
        return {
            "task_id": task["id"],
            "status": task["status"],
            "total_duration": total["duration"],
            "total_duration_ms": total["duration_ms"],
            "groups": _groups(events, times),
            "events": timeline,
        }


def _groups(events: list[dict[str, Any]], times: list[datetime]) -> list[dict[str, Any]]:
    """Queue (received → dispatched), setup (→ running) and run (→ the end) phases."""

    def first(*statuses: TaskStatus) -> int | None:
        for i, event in enumerate(events):
            if event["status"] in statuses or TaskStatus(event["status"]).is_terminal:
                return i
        return None

    bounds = [
        ("queue", 0, first(TaskStatus.DISPATCHED)),
        ("setup", first(TaskStatus.DISPATCHED), first(TaskStatus.RUNNING)),
        ("run", first(TaskStatus.RUNNING), first(*_TERMINAL)),
    ]
    groups: list[dict[str, Any]] = []
    for label, start, end in bounds:
        if start is None or TaskStatus(events[start]["status"]).is_terminal:
            continue
        group: dict[str, Any] = {"label": label, "start_at": events[start]["event_time"]}
        if end is not None:
            group["end_at"] = events[end]["event_time"]
            group.update(_duration(times[start], times[end]))
        groups.append(group)
    return groups


_TERMINAL = (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


def _duration(start: datetime, end: datetime) -> dict[str, Any]:
    seconds = (end - start).total_seconds()
    return {"duration": seconds, "duration_ms": round(seconds * 1000)}


def _session_timeout(body: Mapping[str, Any], session: str) -> int | None:
    """The idle timeout a run asks for: only with `session: "new"`, 1-3600 s."""
    if "session_timeout" not in body:
        return None
    if session != "new":
        raise ApiError(
            400,
            "validation_error",
            'session_timeout is only valid with session: "new" (an open session keeps the '
            "timeout it was opened with)",
            extra={"invalid_params": [{"name": "session_timeout", "reason": "needs session new"}]},
        )
    return parse_timeout(body["session_timeout"])


def _validate(validator: TypeAdapter[Any] | None, raw: Any, where: str) -> Any:
    """Validate `raw` (the request's `input` or `setup`); 422 naming each bad field."""
    if validator is None:
        return raw
    try:
        return validator.validate_python(raw)
    except ValidationError as first:
        if isinstance(raw, dict) and None in raw.values():
            # An explicit null means "not given" (the official Python SDK sends them).
            stripped = {k: v for k, v in raw.items() if v is not None}  # pyright: ignore[reportUnknownVariableType]
            try:
                return validator.validate_python(stripped)
            except ValidationError:
                pass
        problems = [
            {
                "name": ".".join([where, *(str(p) for p in err["loc"])]),
                "reason": err["msg"],
            }
            for err in first.errors(include_url=False)
        ]
        detail = "; ".join(f"{p['name']}: {p['reason']}" for p in problems)
        raise ApiError(
            422,
            "validation_error",
            f"invalid {where}: {detail}",
            extra={"invalid_params": problems},
        ) from None
