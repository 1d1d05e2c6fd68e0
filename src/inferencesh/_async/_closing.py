"""What closes itself when its `async with` block is left (async)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

__all__ = ["ClosingContext"]


class ClosingContext(ABC):
    """`async with x:` hands back `x` and calls `x.aclose()` on leaving, whatever happened."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release what this holds."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
