"""Who polled which queue last, for Conductor's ``PollData`` routes.

Kept in memory: it describes live workers, which poll again within seconds, so after a
restart it refills on its own and is not worth a write on every poll.
"""

from __future__ import annotations

from typing import Any

from podium.engine.domains import ACTIVE_POLL_WINDOW_MS, Polled, queue_name

__all__ = ["PollLog"]

_MAX_ENTRIES = 10_000


class PollLog:
    """The last poll time of each (queue, domain, worker)."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str | None, str], int] = {}
        # Per queue, the latest poll or claim by any worker: what says "someone serves it".
        self._queues: dict[str, int] = {}

    def record(self, queue: str, domain: str | None, worker_id: str, now: int) -> None:
        """A worker of type ``queue`` polled, in ``domain`` (Conductor names the type the
        queue in poll data, and keeps the domain beside it)."""
        if len(self._last) >= _MAX_ENTRIES and (queue, domain, worker_id) not in self._last:
            oldest = min(self._last, key=self._last.__getitem__)
            del self._last[oldest]
        self._last[(queue, domain, worker_id)] = now
        self.note_served(queue_name(queue, domain), now)

    def note_served(self, queue: str, now: int) -> None:
        """A worker took a task of ``queue`` without polling (update-v2 hands out the next)."""
        if len(self._queues) >= _MAX_ENTRIES and queue not in self._queues:
            del self._queues[min(self._queues, key=self._queues.__getitem__)]
        self._queues[queue] = now

    def polled_at(self, now: int) -> Polled:
        """Whether a worker of a type polled a domain within Conductor's ten seconds of
        ``now``: what picks among a ``taskToDomain`` list's domains. Another instance's
        workers are not seen here (this log is each instance's own)."""
        since = now - ACTIVE_POLL_WINDOW_MS

        def polled(task_type: str, domain: str) -> bool:
            return self._queues.get(queue_name(task_type, domain), since - 1) >= since

        return polled

    def last_poll(self, queue: str) -> int | None:
        """When any worker last polled (or was handed a task of) ``queue``; None: never."""
        return self._queues.get(queue)

    def entries(self, queue: str | None = None) -> list[dict[str, Any]]:
        """Conductor's ``PollData`` objects, of one queue or of all, most recent first."""
        found = sorted(
            ((at, key) for key, at in self._last.items() if queue is None or key[0] == queue),
            key=lambda pair: pair[0],
            reverse=True,
        )
        return [
            {"queueName": q, "domain": domain, "workerId": worker, "lastPollTime": at}
            for at, (q, domain, worker) in found
        ]
