"""Handing tasks out: dispatch limits, breakers and caches, then contracts, in one unit.

Claiming touches queue rows only; the run is read, not locked, unless a task finishes here
without a worker (served from the cache, or failed fast by an open breaker or a contract).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.engine.events import TaskResult
from podium.engine.state import RunState, TaskStatus
from podium.resilience.policy import Verdict
from podium.server import contract_hooks
from podium.server.units import Claimed, Outbox
from podium.store.base import StoreTx

if TYPE_CHECKING:
    from podium.server.orchestrator import Orchestrator

__all__ = ["claim_tx", "hand_back_tx"]


def claim_tx(
    orchestrator: Orchestrator,
    tx: StoreTx,
    outbox: Outbox,
    queue: str,
    worker_id: str,
    count: int,
    now: int,
    lease_key: str | None,
    known: tuple[RunState, str] | None = None,
) -> list[Claimed]:
    """Hand out up to ``count`` tasks of ``queue``; each lease records ``lease_key`` (see
    ``fencing``) and gets a token of its own."""
    count = orchestrator.policy.claimable(tx, queue, count, now)
    if count <= 0:
        return []
    # ``known`` is a run this unit has just written (``decide_tx`` returns it as it stands
    # after any nested decisions): no need to read it back.
    known_run = known[0].run_id if known else None
    entries = tx.claim(queue, worker_id, count, now, lease_key=lease_key, known_run=known_run)
    claimed: list[Claimed] = []
    runs: dict[str, tuple[RunState, str]] = {known[0].run_id: known} if known else {}
    keys = {run_id: key for run_id, (_, key) in runs.items()}
    # Once a task here is decided, that decision may have changed other runs too (a parent
    # told its child ended): from then on, runs are read afresh.
    decided = False
    for entry, read in entries:
        found = runs.get(entry.run_id)
        if found is None:
            if read is None or decided:
                read = orchestrator.load(tx, entry.run_id)
            found = runs[entry.run_id] = read
        state, key = found
        keys[state.run_id] = key
        task = state.task(entry.task_id)
        if task is None or not task.status.is_active:
            tx.dequeue(entry.task_id)  # a stale row: its task already ended
            continue
        gate = orchestrator.policy.gate(
            tx, task, orchestrator.definitions.blueprint(tx, key).step_of(task), now
        )
        if gate.transition is not None:
            outbox.transitions.append(gate.transition)
        if gate.verdict == Verdict.HAND_OUT:
            claimed.append(Claimed(state, task, entry))
            orchestrator.task_runs.note(task.task_id, state.run_id)
            orchestrator.observer.on_claim(outbox.notes, state.run_id, task, now)
        elif gate.verdict == Verdict.HOLD:
            tx.defer(entry.task_id, gate.until)
            outbox.poke_sweeper = True
        else:
            # Finished without a worker: served from the cache, or failed fast because
            # its service's breaker is open.
            status = (
                TaskStatus.COMPLETED
                if gate.verdict == Verdict.CACHED
                else TaskStatus.FAILED_WITH_TERMINAL_ERROR
            )
            result = TaskResult(now, task.task_id, status, gate.output or {}, gate.reason or None)
            orchestrator.event_tx(tx, outbox, state.run_id, result)
            runs.pop(state.run_id, None)
            decided = True
    # Inputs are checked against their contracts last: a violation fails the task instead.
    handed = contract_hooks.hand_out(orchestrator, tx, outbox, claimed, keys, now)
    orchestrator.policy.count_dispatched(tx, queue, len(handed), now)
    return handed


def hand_back_tx(tx: StoreTx, outbox: Outbox, claimed: list[Claimed]) -> None:
    """Put tasks claimed for a poll whose client has gone back on their queues, as they were
    before the claim: nobody will work on them, and waiting out their leases would hold them
    up for the whole response timeout. A lease already taken over (its token changed) or
    ended is left alone."""
    for item in claimed:
        entry = tx.queue_entry(item.entry.task_id)
        if entry is None or entry.lease_token != item.entry.lease_token:
            continue
        tx.release_lease(entry.task_id)
        outbox.ready_queues.add(entry.queue)
