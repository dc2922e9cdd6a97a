"""Decoded run states, kept by the bytes they were decoded from.

Every step reads its run and writes it back; decoding the run's JSON into a ``RunState`` was
the largest single cost of reading it. A store still reads the stored bytes on every load, and
the cache answers only when they equal the bytes it kept, so it can never return a state that
is not the stored one: a write by another server instance, or a unit rolled back after it
wrote, leaves different bytes in the row, and the row is decoded again.

A cached state is handed out as it is, not copied. That is safe because nothing changes a
loaded ``RunState``: the engine copies it before deciding (``decide`` clones), and every other
change goes through the engine.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import orjson

from podium.engine.state import RunState

__all__ = ["RunCache"]


class RunCache:
    """A least-recently-used map of run id -> (stored bytes, state), bounded in bytes.

    Safe to share between threads (PostgreSQL runs units on several).
    """

    def __init__(
        self,
        max_bytes: int = 16 << 20,
        max_entry_bytes: int = 256 << 10,
        max_entries: int = 2048,
    ) -> None:
        # Decoded, a run takes several times its stored size: the count bound keeps 100,000
        # parked runs from filling memory with states nobody steps.
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.max_entry_bytes = max_entry_bytes
        self._entries: OrderedDict[str, tuple[bytes, RunState]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get(self, run_id: str, stored: bytes) -> RunState | None:
        """The state decoded from ``stored``, if this is what was kept for ``run_id``."""
        with self._lock:
            entry = self._entries.get(run_id)
            if entry is None:
                return None
            if entry[0] != stored:
                self._drop(run_id)
                return None
            self._entries.move_to_end(run_id)
            return entry[1]

    def decode(self, run_id: str, stored: bytes) -> RunState:
        """The state ``stored`` holds: the kept one if it was decoded from these bytes."""
        state = self.get(run_id, stored)
        if state is None:
            state = RunState.from_dict(orjson.loads(stored))
            self.put(run_id, stored, state)
        return state

    def put(self, run_id: str, stored: bytes, state: RunState) -> None:
        """Keep ``state`` as the decoding of ``stored``; ended runs are not kept."""
        with self._lock:
            self._drop(run_id)
            if state.status.is_terminal or len(stored) > self.max_entry_bytes:
                return
            self._entries[run_id] = (stored, state)
            self._bytes += len(stored)
            while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
                _, (old, _) = self._entries.popitem(last=False)
                self._bytes -= len(old)

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._drop(run_id)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, run_id: str) -> None:
        entry = self._entries.pop(run_id, None)
        if entry is not None:
            self._bytes -= len(entry[0])
