"""Garbage collection set for a long-running Podium process: the server, ``podium worker``.

CPython's cycle collector runs every 700 net allocations of container objects and, every so
often, walks every object the process holds. The server's libraries alone are over 100,000
objects, so each full collection stopped it for about 60 ms, and under load collections took
about a tenth of its time. Nearly all of Podium's garbage is freed at once by reference
counting, so after start-up the process freezes what it holds (objects it keeps for its
whole life) and collects the young generation less often. Cycles are still collected.
"""

from __future__ import annotations

import gc

__all__ = ["THRESHOLDS", "tune_for_service"]

THRESHOLDS = (10_000, 20, 20)
"""Collect the young generation every 10,000 net allocations instead of 700."""


def tune_for_service() -> None:
    """Call once start-up is done: what exists then is kept out of every later collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
