"""Many results in one request (``update-batch``): one unit of work per run, not per result.

When the results of a batch are branches of one fan-out, a unit per result makes each of
them lock the run in turn (PostgreSQL runs them side by side, so they queue on the run's
row), read it, decide and write the whole run back. Here a batch's results are grouped by
run (``tx.runs_of_tasks``, one query): the run is locked and read once, its results are
recorded one after another exactly as ``Orchestrator.record`` would (``results.check_report``
then ``results.record_tx``, on the run as the previous result left it, see ``held_run``),
and the run is written once.

Where units run side by side (PostgreSQL) each run's results are a unit of their own, the
runs side by side. Where one writer commits the waiting units together (SQLite) the whole
batch is one unit, which looks its runs up itself: a look-up of its own would wait for a
commit before the batch could even be submitted.

A result refused by its checks (no such task, a stale lease, a status a worker cannot
report, ...) wrote nothing, so it gets its own error and the others go on. Should anything
fail after a result began to write, the unit is rolled back and its results are recorded one
unit each, as if they had not been grouped: each gets the answer, or the error, it would have
got alone. Each result's notes, metrics, spans and log line are published after the commit as
its own unit's would be, under its own traceparent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

from podium.errors import PodiumError
from podium.observability.context import traceparent_var
from podium.server.held_run import HeldRun
from podium.server.results import Report, check_report, record_tx, unknown_task
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
    if len(reports) == 1:
        return [await _alone(orchestrator, reports[0])]
    if orchestrator.store.side_by_side:
        return await _side_by_side(orchestrator, reports)
    return await _in_one_unit(orchestrator, reports)


def _by_run(
    reports: Sequence[Report], runs: dict[str, str]
) -> tuple[dict[str, list[int]], list[int]]:
    """The reports' positions by run, and those of reports whose task is unknown."""
    groups: dict[str, list[int]] = {}
    unknown: list[int] = []
    for i, report in enumerate(reports):
        run_id = runs.get(report.task_id)
        if run_id is None:
            unknown.append(i)
        else:
            groups.setdefault(run_id, []).append(i)
    return groups, unknown


async def _side_by_side(orchestrator: Orchestrator, reports: Sequence[Report]) -> list[Outcome]:
    ids = list(dict.fromkeys(report.task_id for report in reports))
    # Tasks this server handed out are known (``task_runs``): only the others are looked up.
    runs, unknown_ids = orchestrator.task_runs.known(ids)
    if unknown_ids:
        try:
            runs.update(await orchestrator.store.read(lambda tx: tx.runs_of_tasks(unknown_ids)))
        except Exception:
            pass  # those results alone, then: each gets the error its own unit meets
    groups, unknown = _by_run(reports, runs)
    outcomes: list[Outcome] = [None] * len(reports)

    async def by_itself(i: int) -> None:
        outcomes[i] = await _alone(orchestrator, reports[i])

    async def together(run_id: str, members: list[int]) -> None:
        if len(members) == 1:
            await by_itself(members[0])
            return
        group = [reports[i] for i in members]
        now = orchestrator.clock()

        def unit(tx: StoreTx) -> list[_Answered]:
            answered = _group_tx(orchestrator, tx, run_id, group, now)
            _announce(tx, answered)
            return answered

        try:
            answered = await _write(orchestrator, group, unit)
        except Exception as exc:
            _note_fallback(exc, len(members))
            # One after another, in the batch's order: results for one run would only queue
            # on its row lock side by side, and a repeated task id must lose to its first.
            for i in members:
                await by_itself(i)
            return
        for i, outcome in zip(members, answered, strict=True):
            outcomes[i] = outcome

    await asyncio.gather(
        *(together(run_id, members) for run_id, members in groups.items()),
        *(by_itself(i) for i in unknown),
    )
    return outcomes


async def _in_one_unit(orchestrator: Orchestrator, reports: Sequence[Report]) -> list[Outcome]:
    now = orchestrator.clock()
    ids = list(dict.fromkeys(report.task_id for report in reports))

    def unit(tx: StoreTx) -> list[_Answered]:
        groups, unknown = _by_run(reports, tx.runs_of_tasks(ids))
        answered: dict[int, _Answered] = {i: unknown_task(reports[i].task_id) for i in unknown}
        for run_id, members in groups.items():
            group = _group_tx(orchestrator, tx, run_id, [reports[i] for i in members], now)
            answered.update(zip(members, group, strict=True))
        in_order = [answered[i] for i in range(len(reports))]
        _announce(tx, in_order)
        return in_order

    try:
        return list(await _write(orchestrator, reports, unit))
    except Exception as exc:
        _note_fallback(exc, len(reports))
        return list(await asyncio.gather(*(_alone(orchestrator, r) for r in reports)))


def _note_fallback(exc: Exception, count: int) -> None:
    if not isinstance(exc, _NotHeld | PodiumError):
        log.warning(
            "recording %d results together failed; recording each alone", count, exc_info=exc
        )


async def _alone(orchestrator: Orchestrator, report: Report) -> Outcome:
    if report.traceparent is not None:
        # Each call runs in an asyncio task of its own (gather), with its own copy of the
        # request's context: the item's traceparent stays with its unit.
        traceparent_var.set(report.traceparent)
    try:
        return await orchestrator.record(report)
    except Exception as exc:
        return exc


def _group_tx(
    orchestrator: Orchestrator, tx: StoreTx, run_id: str, reports: list[Report], now: int
) -> list[_Answered]:
    """Record the results of one run in order; a list made afresh on every attempt (the
    store may run a unit again)."""
    found = tx.get_run(run_id, for_update=True)
    if found is None:
        raise _NotHeld(run_id)
    held = HeldRun(tx, *found)
    htx = cast(StoreTx, held)
    answered: list[_Answered] = []
    for report in reports:
        outbox = Outbox()  # one per result: published as that result's own unit's
        before = held.writes
        try:
            entry = held.entry(report.task_id)
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
    return answered


def _announce(tx: StoreTx, answered: list[_Answered]) -> None:
    ready = {q for a in answered if not isinstance(a, PodiumError) for q in a[1].ready_queues}
    if ready:
        tx.announce_ready(ready)


async def _write(
    orchestrator: Orchestrator,
    reports: Sequence[Report],
    unit: Callable[[StoreTx], list[_Answered]],
) -> list[Claimed | PodiumError | None]:
    began = time.perf_counter()
    answered = await orchestrator.store.write(unit)
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
