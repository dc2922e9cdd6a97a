"""Many results in one request (``update-batch``): one unit of work per run, not per result.

When the results of a batch are branches of one fan-out, a unit per result makes each of
them lock the run in turn (PostgreSQL runs them side by side, so they queue on the run's
row), read it, decide and write the whole run back. Here a batch's results are grouped by
run: one unit locks and reads the run once, records its results one after another exactly
as ``Orchestrator.record`` would (``results.check_report`` then ``results.record_tx``, on
the run as the previous result left it, see ``held_run``) and writes the run once. The
groups, and results whose task is unknown, still go side by side.

A result refused by its checks (unknown to its run, a stale lease, a status a worker cannot
report, ...) wrote nothing, so it gets its own error and the others go on. Should anything
fail after a result began to write, the group's unit is rolled back and its results are
recorded one unit each, as if they had not been grouped: each gets the answer, or the error,
it would have got alone. Each result's notes, metrics, spans and log line are published
after the commit as its own unit's would be, under its own traceparent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from podium.errors import PodiumError
from podium.observability.context import traceparent_var
from podium.server.held_run import HeldRun
from podium.server.results import Report, check_report, record_tx
from podium.server.units import Claimed, Outbox
from podium.store.base import StoreTx

if TYPE_CHECKING:
    from podium.server.orchestrator import Orchestrator

__all__ = ["record_batch"]

log = logging.getLogger("podium.server")

Outcome = Claimed | None | Exception
_Answered = tuple[Claimed | None, Outbox] | PodiumError


class _NotHeld(Exception):
    """The group's run is gone: its results are recorded alone, each refused as it would be."""


async def record_batch(orchestrator: Orchestrator, reports: Sequence[Report]) -> list[Outcome]:
    """Each report's next task, or the error that refused it, in the order given."""
    ids = list(dict.fromkeys(report.task_id for report in reports))
    runs: dict[str, str] = {}
    if len(reports) > 1:
        runs = await orchestrator.store.read(lambda tx: tx.runs_of_tasks(ids))
    groups: dict[str, list[int]] = {}
    alone: list[int] = []
    for i, report in enumerate(reports):
        run_id = runs.get(report.task_id)
        if run_id is None:
            alone.append(i)  # no such task: refused as a unit of its own refuses it
        else:
            groups.setdefault(run_id, []).append(i)
    outcomes: list[Outcome] = [None] * len(reports)

    async def by_itself(i: int) -> None:
        outcomes[i] = await _alone(orchestrator, reports[i])

    async def together(run_id: str, members: list[int]) -> None:
        if len(members) == 1:
            await by_itself(members[0])
            return
        try:
            answered = await _group(orchestrator, run_id, [reports[i] for i in members])
        except Exception as exc:
            if not isinstance(exc, _NotHeld | PodiumError):
                log.warning(
                    "recording %d results of run %s together failed; recording each alone",
                    len(members),
                    run_id,
                    exc_info=exc,
                )
            await asyncio.gather(*(by_itself(i) for i in members))
            return
        for i, outcome in zip(members, answered, strict=True):
            outcomes[i] = outcome

    await asyncio.gather(
        *(together(run_id, members) for run_id, members in groups.items()),
        *(by_itself(i) for i in alone),
    )
    return outcomes


async def _alone(orchestrator: Orchestrator, report: Report) -> Outcome:
    if report.traceparent is not None:
        # Each call runs in an asyncio task of its own (gather), with its own copy of the
        # request's context: the item's traceparent stays with its unit.
        traceparent_var.set(report.traceparent)
    try:
        return await orchestrator.record(report)
    except Exception as exc:
        return exc


async def _group(
    orchestrator: Orchestrator, run_id: str, reports: list[Report]
) -> list[Claimed | PodiumError | None]:
    now = orchestrator.clock()

    def unit(tx: StoreTx) -> list[_Answered]:
        # A list made afresh on every attempt: the store may run a unit again.
        found = tx.get_run(run_id, for_update=True)
        if found is None:
            raise _NotHeld(run_id)
        held = HeldRun(tx, *found)
        htx = cast(StoreTx, held)
        answered: list[_Answered] = []
        for report in reports:
            outbox = Outbox()  # one per result: published as that result's own unit
            before = held.writes
            try:
                entry = htx.queue_entry(report.task_id)
                event = check_report(orchestrator, htx, report, held.state, held.key, entry, now)
                claimed = record_tx(
                    orchestrator, htx, outbox, report, held.state, held.key, entry, event, now
                )
            except PodiumError as refused:
                if held.writes != before:
                    raise  # it wrote before it was refused: only a unit of its own undoes that
                answered.append(refused)
                continue
            answered.append((claimed, outbox))
        held.flush()
        ready = {q for a in answered if not isinstance(a, PodiumError) for q in a[1].ready_queues}
        if ready:
            tx.announce_ready(ready)
        return answered

    began = time.perf_counter()
    answered: list[_Answered] = await orchestrator.store.write(unit)
    elapsed_ms = (time.perf_counter() - began) * 1000
    outcomes: list[Claimed | PodiumError | None] = []
    for report, answer in zip(reports, answered, strict=True):
        if isinstance(answer, PodiumError):
            outcomes.append(answer)
            continue
        claimed, outbox = answer
        token = traceparent_var.set(report.traceparent) if report.traceparent else None
        try:
            orchestrator.publish(outbox, "update", elapsed_ms)
        finally:
            if token is not None:
                traceparent_var.reset(token)
        outcomes.append(claimed)
    return outcomes
