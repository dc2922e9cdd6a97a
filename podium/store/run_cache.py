"""Decoded run states, kept by the revision of the run's row they were read from or written as.

Every step reads its run and writes it back; decoding the run (its header and every task's
row) into a ``RunState`` was the largest single cost of reading it. A store still reads the
run's header row on every load, with its ``rev``: a random value drawn anew by every write.
The cache answers only when the row's rev is the one it kept, so it can never return a state
that is not the stored one: a write by another server instance, or a unit rolled back after
it wrote, leaves a different rev in the row (random, not counted: two instances counting up
from one rev, one of them rolled back, could both reach the same number), and the run is read
again.

A cached state is handed out as it is, not copied. That is safe because nothing changes a
loaded ``RunState``: the engine copies it before deciding (``decide`` clones), and every other
change goes through the engine.

Bounds: ``PODIUM_RUN_CACHE_MB`` (default 128) caps the stored bytes of the runs kept (a run's
header and its task bodies, as encoded). One run may take a quarter of that, 32 MB by default:
a 10,000-task run with bodies of a few kilobytes each stays cached, which matters most for the
widest runs, whose every step would otherwise read and decode ten thousand rows. Decoded, a
run takes several times its stored size; the count bound (2048) keeps 100,000 parked runs from
filling memory with states nobody steps.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

from podium.engine.state import RunState

__all__ = ["DEFAULT_CACHE_MB", "RunCache", "cache_bytes_from_env"]

DEFAULT_CACHE_MB = 128


def cache_bytes_from_env() -> int:
    """``PODIUM_RUN_CACHE_MB`` in bytes (0 turns the cache off)."""
    raw = os.environ.get("PODIUM_RUN_CACHE_MB", "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_CACHE_MB
    except ValueError:
        megabytes = DEFAULT_CACHE_MB
    return max(0, int(megabytes * (1 << 20)))


class RunCache:
    """A least-recently-used map of run id -> (rev, stored size, state), bounded in bytes.

    Safe to share between threads (PostgreSQL runs units on several).
    """

    def __init__(
        self,
        max_bytes: int | None = None,
        max_entry_bytes: int | None = None,
        max_entries: int = 2048,
    ) -> None:
        self.max_bytes = cache_bytes_from_env() if max_bytes is None else max_bytes
        self.max_entries = max_entries
        self.max_entry_bytes = self.max_bytes // 4 if max_entry_bytes is None else max_entry_bytes
        self._entries: OrderedDict[str, tuple[int, int, RunState]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get(self, run_id: str, rev: int) -> RunState | None:
        """The state kept for ``run_id``, if it is the one its row's ``rev`` names."""
        with self._lock:
            entry = self._entries.get(run_id)
            if entry is None:
                return None
            if entry[0] != rev:
                self._drop(run_id)
                return None
            self._entries.move_to_end(run_id)
            return entry[2]

    def rev(self, run_id: str) -> int | None:
        """The rev of the state kept for ``run_id``, if any (not counted as a use)."""
        with self._lock:
            entry = self._entries.get(run_id)
            return None if entry is None else entry[0]

    def peek(self, run_id: str) -> tuple[int, RunState] | None:
        """The stored size and state kept for ``run_id``, whatever its rev (for estimates)."""
        with self._lock:
            entry = self._entries.get(run_id)
            return None if entry is None else (entry[1], entry[2])

    def put(self, run_id: str, rev: int, size: int, state: RunState) -> None:
        """Keep ``state`` as what the row at ``rev`` holds, ``size`` bytes stored; ended runs
        are not kept (nothing steps them again)."""
        with self._lock:
            self._drop(run_id)
            if state.status.is_terminal or size > self.max_entry_bytes:
                return
            self._entries[run_id] = (rev, size, state)
            self._bytes += size
            while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
                _, (_, old, _) = self._entries.popitem(last=False)
                self._bytes -= old

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
            self._bytes -= entry[1]
