"""Sessions: a warm worker leased across several runs."""

from __future__ import annotations

from datetime import datetime

from inferencesh.models._base import APIModel

__all__ = ["Session"]


class Session(APIModel):
    """A session as the API describes it (`AppSessionDTO`)."""

    id: str
    status: str = "active"
    """`"active"`, `"ended"` or `"expired"`."""
    app_id: str | None = None
    app_version_id: str | None = None
    worker_id: str | None = None
    expires_at: datetime | None = None
    ended_at: datetime | None = None
    task_id: str | None = None
    call_count: int = 0
    last_call_at: datetime | None = None
    idle_timeout: int | None = None
    """Idle seconds after which the session expires."""
    created_at: datetime | None = None
