# Generated from _async/_closing.py by scripts/unasync.py: edit that file, not this one.
"""What closes itself when its `with` block is left (sync)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

__all__ = ["ClosingContext"]


class ClosingContext(ABC):
    """`with x:` hands back `x` and calls `x.close()` on leaving, whatever happened."""

    @abstractmethod
    def close(self) -> None:
        """Release what this holds."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
