"""The base of every response model: unknown fields are kept, never rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class APIModel(BaseModel):
    """A model of something the API sends.

    `extra="allow"` keeps fields this SDK does not know yet, so a newer server never breaks an
    older client, and `model_dump()` gives back everything the server said.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())
