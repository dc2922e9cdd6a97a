"""Delays between attempts while the server cannot be reached or is overloaded."""

from __future__ import annotations

__all__ = ["Backoff"]


class Backoff:
    """Delays that start at ``first`` and double up to ``cap``; ``reset`` after a success."""

    def __init__(self, first: float, cap: float) -> None:
        self.first, self.cap, self._next = first, cap, first

    def next(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self.cap)
        return delay

    def reset(self) -> None:
        self._next = self.first
