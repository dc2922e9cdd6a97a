"""Leases that ran out: a worker that went silent past its task's responseTimeoutSeconds.

A worker's lease lasts its task's response timeout from the claim, and each heartbeat
(IN_PROGRESS, ``extendLease``) starts it again; a task a worker postponed
(``callbackAfterSeconds``) waits on its queue, unleased. So a lease that runs out means the
worker stopped answering: as Conductor's response timeout does, the attempt ends TIMED_OUT and
the engine retries it as a new task, or, with no retries left, ends the run. The silent
worker's late result then finds its task ended, and is refused.

Podium's own executors (HTTP calls, jq) hold leases too, but one that runs out means an
executor died mid-call: the task goes back on its queue for another executor to take over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.dsl.bounds import INT8_MAX
from podium.engine.decider import HTTP_QUEUE
from podium.engine.events import TaskResult
from podium.engine.jq_step import JQ_QUEUE
from podium.engine.state import TaskStatus
from podium.server.units import Outbox
from podium.store.base import StoreTx

if TYPE_CHECKING:
    from podium.server.orchestrator import Orchestrator

__all__ = ["end_expired_leases", "requeue_tx"]

_TAKEN_OVER = frozenset({HTTP_QUEUE, JQ_QUEUE})
"""Queues whose tasks another executor takes over rather than time out."""

_LEASES_PER_SWEEP = 200


def end_expired_leases(orchestrator: Orchestrator, tx: StoreTx, outbox: Outbox, now: int) -> None:
    """Time out (or, on Podium's own queues, hand back) every lease that ran out by ``now``."""
    for expired in tx.expired_leases(now, _LEASES_PER_SWEEP):
        # The run first, then its queue row, as every unit locks them; read afresh under the
        # lock, since a heartbeat or a result may have come in since the list was read.
        found = tx.task_run_for_update(expired.task_id)
        if found is None:
            tx.dequeue(expired.task_id)
            continue
        _, run, entry = found
        if entry is None or entry.lease_owner is None or (entry.lease_until or 0) > now:
            continue
        task = run[0].task(entry.task_id) if run is not None else None
        if run is None or task is None or not task.status.is_active:
            tx.dequeue(entry.task_id)  # a stale row: its task already ended
            continue
        if entry.queue in _TAKEN_OVER:
            tx.release_lease(entry.task_id)
            outbox.ready_queues.add(entry.queue)
            continue
        timeout_s = entry.response_timeout_ms // 1000
        reason = (
            f"responseTimeout: {timeout_s}s exceeded for task {entry.task_id} ({task.ref}): "
            f"worker {entry.lease_owner} sent no update"
        )
        result = TaskResult(
            now,
            entry.task_id,
            TaskStatus.TIMED_OUT,
            {},
            reason,
            entry.lease_owner,
            entry.started_at,
            entry.poll_count,
        )
        state, key = run
        orchestrator.decide_tx(
            tx, outbox, state, key, orchestrator.definitions.blueprint(tx, key), result
        )


REQUEUE_LIMIT = 10_000
"""Leases one requeue hands back at most; call again for more."""


def requeue_tx(tx: StoreTx, task_type: str) -> tuple[int, set[str]]:
    """Conductor's ``requeue/{type}``: push every pending task of the type back on its queue
    (its domains' queues too), and count them. A waiting task is on its queue already; a
    claimed one is handed back, to be given to the next worker that polls, as Conductor's
    requeue makes it pollable again (its first worker's result is then refused, see
    ``fencing``). Answers the count and the queues that got tasks back."""

    def of_type(queue: str) -> bool:
        return queue == task_type or queue.endswith(f":{task_type}")

    count = sum(size for queue, size in tx.queue_sizes(None).items() if of_type(queue))
    handed_back: set[str] = set()
    # Every lease in force has run out by the end of time: the listing of all of them.
    for leased in tx.expired_leases(INT8_MAX, REQUEUE_LIMIT):
        if not of_type(leased.queue):
            continue
        found = tx.task_run_for_update(leased.task_id)  # the run first, as every unit locks
        entry = found[2] if found else None
        run = found[1] if found else None
        task = run[0].task(leased.task_id) if run else None
        if entry is None or entry.lease_owner is None or task is None or not task.status.is_active:
            continue
        tx.release_lease(entry.task_id)
        handed_back.add(entry.queue)
        count += 1
    tx.announce_ready(handed_back)
    return count, handed_back
