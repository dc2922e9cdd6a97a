"""Why a run is not moving, in words: a task that has waited for a worker that never came.

A typo'd task type or a worker not started leaves a task SCHEDULED for ever, and nothing fails.
The server knows which task types have been polled (``poll_log.py``), so a run's view can say
"task 'helo' has waited 30 s and no worker has polled type 'helo'" — the CLI prints it while
``start --wait`` waits, and the UI shows it on the run's page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from podium.engine.decider import SERVER_QUEUES
from podium.engine.state import RunState, TaskStatus
from podium.server.poll_log import PollLog
from podium.store.base import QueueEntry

__all__ = ["NO_WORKER", "waiting_diagnostics"]

NO_WORKER = "NO_WORKER"


def waiting_diagnostics(
    state: RunState,
    entries: dict[str, QueueEntry],
    poll_log: PollLog,
    now: int,
    threshold_ms: int,
) -> list[dict[str, Any]]:
    """A note for each task that has waited ``threshold_ms`` to be claimed while nobody polled
    its type for as long (workers that poll and are merely busy are no problem to report)."""
    if state.status.is_terminal:
        return []
    found: list[dict[str, Any]] = []
    for task in state.tasks:
        entry = entries.get(task.task_id)
        if task.status != TaskStatus.SCHEDULED or entry is None or entry.lease_owner is not None:
            continue
        if entry.queue in SERVER_QUEUES:
            continue  # the server's own executors serve it
        since = max(entry.available_at, task.scheduled_at)  # a delayed retry waits from then
        waited = now - since
        last = poll_log.last_poll(entry.queue)
        if waited < threshold_ms or (last is not None and now - last < threshold_ms):
            continue
        message = (
            f"task '{task.ref}' has waited {waited // 1000} s and no worker has polled "
            f"type '{entry.queue}'"
        )
        if last is not None:
            at = datetime.fromtimestamp(last / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            message += f" for {(now - last) // 1000} s (last poll at {at})"
        found.append(
            {
                "kind": NO_WORKER,
                "taskId": task.task_id,
                "referenceTaskName": task.ref,
                "taskType": entry.queue,
                "waitingSince": since,
                "waitedSeconds": waited // 1000,
                "lastPollTime": last,
                "message": message,
            }
        )
    return found
