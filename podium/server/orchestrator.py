"""Runs the engine against the store: every request becomes one unit of work.

A unit of work loads a run, asks the engine to decide, writes the new state and carries out
the engine's commands (queue, timers, child runs) in the same transaction, so a run can never
be left half-advanced. Only after the commit are long polls woken and callers answered.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from podium.contracts.runtime import ContractRuntime
from podium.dsl.models import WorkflowDef
from podium.engine.blueprint import Blueprint
from podium.engine.decider import decide
from podium.engine.events import (
    AddTaskLog,
    Event,
    NotifyParent,
    PublishEvent,
    RestartRun,
    RunStarted,
    StartChild,
    StartWorkflow,
    TerminateChild,
)
from podium.engine.limits import EngineLimits
from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus
from podium.errors import (
    TaskAlreadyFinishedError,
    TaskNotFoundError,
    WorkflowNotFoundError,
)
from podium.observability.audit import log_inline_run
from podium.observability.context import correlation_id_var
from podium.observability.observer import Observer
from podium.resilience.breaker import Circuit
from podium.resilience.policy import ResiliencePolicy, log_transition
from podium.server import contract_hooks, fencing
from podium.server.attribution import blame_run, blame_tasks
from podium.server.claims import claim_tx, hand_back_tx
from podium.server.commands import carry_out
from podium.server.definitions import Definitions
from podium.server.event_ops import RunOpsTx
from podium.server.poll_log import PollLog
from podium.server.result_batch import record_batch
from podium.server.results import Report, report_tx
from podium.server.run_notices import notify_run_ended
from podium.server.slo_outcomes import outcomes_of
from podium.server.task_defs import TaskDefCatalog
from podium.server.task_runs import TaskRuns
from podium.server.timers import sweep_tx
from podium.server.units import Claimed, Outbox, RunView, now_ms
from podium.server.waiters import QueueWaiters
from podium.store.base import RunQuery, Store, StoreTx

__all__ = ["Claimed", "Orchestrator", "RunView", "now_ms"]

T = TypeVar("T")

log = logging.getLogger("podium.server")


class Orchestrator:
    """The server's core: starts runs, records results, hands out tasks, fires timers."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], int] = now_ms,
        on_timer_added: Callable[[], None] | None = None,
        observer: Observer | None = None,
        limits: EngineLimits | None = None,
    ) -> None:
        self.store = store
        self.observer = observer or Observer()
        self.clock = clock
        self.waiters = QueueWaiters()
        self.contracts = ContractRuntime()
        self.on_timer_added = on_timer_added or (lambda: None)
        self.on_deliveries: Callable[[], None] = lambda: None
        self.on_breaker_closed: Callable[[], None] = lambda: None
        self.on_notifications: Callable[[], None] = lambda: None
        self.on_outbox: Callable[[str], None] = lambda broker: None
        self.definitions = Definitions(limits)
        self._catalog = TaskDefCatalog()
        self.policy = ResiliencePolicy()
        self.poll_log = PollLog()
        self.task_runs = TaskRuns()

    # ---- after commit -------------------------------------------------------------------

    def publish(self, outbox: Outbox, op: str, elapsed_ms: float) -> None:
        for queue in outbox.ready_queues:
            self.waiters.notify(queue)
        if outbox.poke_sweeper:
            self.on_timer_added()
        for service, transition in outbox.transitions:
            log_transition(service, transition)
            if transition.to_state == Circuit.CLOSED:
                self.on_breaker_closed()
        for line in outbox.failures:
            log.warning("%s", line)
        if outbox.deliveries:
            self.on_deliveries()
        if outbox.notifications or outbox.transitions:
            self.on_notifications()
        for broker in outbox.outbox_brokers:
            self.on_outbox(broker)
        self.definitions.stored.update(outbox.stored_definitions)
        self.observer.after_commit(op, outbox.notes, outbox.transitions, elapsed_ms)

    async def _write(self, fn: Callable[[StoreTx, Outbox], Any], op: str = "unit") -> Any:
        def unit(tx: StoreTx) -> tuple[Any, Outbox]:
            # A fresh outbox per attempt: the store may run a unit again after a lost race.
            outbox = Outbox()
            result = fn(tx, outbox)
            if outbox.ready_queues:
                tx.announce_ready(outbox.ready_queues)
            return result, outbox

        began = time.perf_counter()
        result, outbox = await self.store.write(unit)
        self.publish(outbox, op, (time.perf_counter() - began) * 1000)
        return result

    async def write_unit(self, fn: Callable[[StoreTx, Outbox], T], op: str) -> T:
        """Run ``fn`` as a unit of work whose outbox is published after its commit, for the
        server's loops that start and end runs beside their own work (the scheduler)."""
        result: T = await self._write(fn, op)
        return result

    def heard_ready(self, queue: str | None) -> None:
        """Another instance queued tasks on ``queue`` (None: on some queue, unknown which)."""
        if queue is None:
            self.waiters.notify_all()
        else:
            self.waiters.notify(queue)

    # ---- starting runs ------------------------------------------------------------------

    async def start_run(
        self,
        name: str,
        *,
        version: int | None = None,
        input: dict[str, Any] | None = None,
        correlation_id: str | None = None,
        idempotency_key: str | None = None,
        definition: WorkflowDef | None = None,
        created_by: str | None = None,
        task_to_domain: dict[str, str] | None = None,
        priority: int = 0,
    ) -> str:
        """Start a run of a registered workflow, or of ``definition`` (validated, not
        registered: the SDK's inline ``workflowDef``). A repeated idempotency key returns the
        first run. Without ``correlation_id``, the caller's ``X-Correlation-Id`` header is used;
        without that the run has none, as in Conductor, and its own id is its trace id: every
        run, and everything it causes, can still be traced.
        ``created_by`` is the key that asked; a run of an inline definition is logged with it
        to ``podium.audit``."""
        run_id = str(uuid.uuid4())
        correlation_id = correlation_id or correlation_id_var.get()
        now = self.clock()

        def unit(tx: StoreTx, outbox: Outbox) -> tuple[str, str | None]:
            if idempotency_key:
                existing = tx.get_idempotent_run(name, idempotency_key)
                if existing is not None:
                    return existing, None
                tx.put_idempotent_run(name, idempotency_key, run_id)
            frozen = self.definitions.freeze(tx, definition.to_json()) if definition else None
            self.start_run_tx(
                tx,
                outbox,
                run_id,
                name,
                version,
                input or {},
                correlation_id or run_id,
                None,
                None,
                now,
                trace_only=not correlation_id,
                frozen=frozen,
                check_input=True,
                created_by=created_by,
                task_to_domain=task_to_domain,
                priority=priority,
            )
            return run_id, frozen[0] if frozen else None

        started, inline_key = await self._write(unit, "start")
        if inline_key is not None:
            log_inline_run(created_by, started, name, inline_key)
        result: str = started
        return result

    def start_run_tx(
        self,
        tx: StoreTx,
        outbox: Outbox,
        run_id: str,
        name: str,
        version: int | None,
        run_input: dict[str, Any],
        correlation_id: str | None,
        parent_run_id: str | None,
        parent_task_id: str | None,
        now: int,
        *,
        frozen: tuple[str, dict[str, Any], Blueprint] | None = None,
        check_input: bool = False,
        depth: int = 0,
        created_by: str | None = None,
        trace_only: bool = False,
        task_to_domain: dict[str, str] | None = None,
        priority: int = 0,
        schedule: tuple[str, int] | None = None,
    ) -> RunState:
        """Insert a new run and decide its start. ``frozen`` is an inline definition's
        snapshot (recorded on the run as such); without it the registered one is resolved.
        ``schedule`` is the name and nominal tick of the schedule starting it, if one is."""
        key, snapshot, blueprint = frozen or self.definitions.resolve(tx, name, version)
        if check_input:
            contract_hooks.check_start(self, tx, blueprint.definition, run_input)
        if key not in self.definitions.stored:  # may be the first run of it in this database
            tx.put_run_definition(key, snapshot)
            outbox.stored_definitions.add(key)
        state = RunState(
            run_id=run_id,
            name=name,
            version=blueprint.definition.version,
            status=RunStatus.RUNNING,
            created_at=now,
            input=run_input,
            correlation_id=correlation_id,
            trace_only=trace_only,
            parent_run_id=parent_run_id,
            parent_task_id=parent_task_id,
            depth=depth,
            # Drawn here, not in the engine, which may not draw random numbers; a unit run
            # again (PostgreSQL, after a lost race) draws afresh for the run it inserts afresh.
            id_secret=secrets.token_hex(16),
            created_by=created_by,
            inline_definition=key if frozen is not None else None,
            task_to_domain=dict(task_to_domain or {}),
            priority=priority,
            schedule_name=schedule[0] if schedule else None,
            scheduled_time=schedule[1] if schedule else None,
        )
        return self.decide_tx(tx, outbox, state, key, blueprint, RunStarted(now), new_run=True)

    # ---- deciding -----------------------------------------------------------------------

    def load(self, tx: StoreTx, run_id: str, *, for_update: bool = False) -> tuple[RunState, str]:
        found = tx.get_run(run_id, for_update=for_update)
        if found is None:
            raise WorkflowNotFoundError(f"no workflow run has id {run_id}", service="server")
        return found

    def event_tx(self, tx: StoreTx, outbox: Outbox, run_id: str, event: Event) -> RunState:
        state, key = self.load(tx, run_id, for_update=True)
        return self.decide_tx(tx, outbox, state, key, self.definitions.blueprint(tx, key), event)

    def decide_tx(
        self,
        tx: StoreTx,
        outbox: Outbox,
        state: RunState,
        key: str,
        blueprint: Blueprint,
        event: Event,
        *,
        new_run: bool = False,
    ) -> RunState:
        """Decide ``event`` for a run and carry out the decision. A ``new_run`` is inserted
        as decided, rather than inserted as started and then updated."""
        polled = self.poll_log.polled_at(event.now)
        decision = decide(state, event, blueprint, self._catalog.for_run(tx, blueprint), polled)
        new = decision.state
        noted = len(outbox.notes)
        self.observer.on_decision(outbox.notes, state, new, event, blueprint)
        if len(outbox.notes) > noted:
            tx.add_outcomes(outcomes_of(outbox.notes[noted:], event.now))
        if new.status.is_terminal and not state.status.is_terminal:
            if new.status != RunStatus.COMPLETED:
                blame = blame_run(tx, self.policy, blueprint, new)
                whom = f" [{blame.phrase()}]" if blame else ""
                outbox.failures.append(
                    f"run {new.run_id} of {new.name} ended {new.status}: {new.reason}{whom}"
                )
                if notify_run_ended(tx, blueprint, new, blame, event.now):
                    outbox.notifications = True
        if new_run:
            tx.insert_run(new, key)
        else:
            tx.update_run(new)
        fresh = [task.task_id for task in new.tasks_from(state.next_seq)]
        if fresh:
            tx.add_task_ids(new.run_id, fresh)
        reentrant = False
        for command in decision.commands:
            carry_out(self, tx, outbox, new, command, event.now)
            reentrant |= isinstance(
                command,
                StartChild | StartWorkflow | TerminateChild | NotifyParent | PublishEvent,
            )
        if reentrant:
            # A child that ends at once (or a parent that reacts) may have updated this run
            # again in the same unit; callers get the state as it now stands.
            new = self.load(tx, new.run_id)[0]
        return new

    async def write_events(self, fn: Callable[[StoreTx, RunOpsTx], T]) -> T:
        """Run ``fn`` as a unit of work that may start runs and finish tasks (the bus's)."""
        result: T = await self._write(lambda tx, outbox: fn(tx, RunOpsTx(self, tx, outbox)))
        return result

    # ---- task results -------------------------------------------------------------------

    async def update_task(
        self,
        task_id: str,
        status: TaskStatus,
        *,
        output: dict[str, Any] | None = None,
        reason: str | None = None,
        worker_id: str | None = None,
        callback_after_s: int = 0,
        logs: tuple[dict[str, Any], ...] = (),
        next_for_worker: bool = False,
        extend_lease: bool = False,
        lease_token: str | None = None,
        caller_key: str = fencing.OPEN,
        check: Callable[[TaskState], None] | None = None,
    ) -> Claimed | None:
        """Record a worker's result. With ``next_for_worker``, also claim its next task.

        The result must come from the task's current lease (``fencing``): shown by its
        ``lease_token``, or, without one, by ``caller_key`` and ``worker_id``. ``check`` sees
        the task first and may refuse it by raising (the caller's key may not act on its
        type), in the same unit, so that nothing is recorded then. IN_PROGRESS
        keeps the task leased to its worker for another response timeout, or, with
        ``callback_after_s`` (and no ``extend_lease`` asking for longer), puts it back on its
        queue to be handed out again after that delay, as Conductor postpones it.
        """
        report = Report(
            task_id,
            status,
            output=output,
            reason=reason,
            worker_id=worker_id,
            callback_after_s=callback_after_s,
            logs=logs,
            next_for_worker=next_for_worker,
            extend_lease=extend_lease,
            lease_token=lease_token,
            caller_key=caller_key,
            check=check,
        )
        return await self.record(report)

    async def record(self, report: Report) -> Claimed | None:
        """Record one result as a unit of its own (``update_task``)."""
        now = self.clock()
        result: Claimed | None = await self._write(
            lambda tx, outbox: report_tx(self, tx, outbox, report, now), "update"
        )
        return result

    async def record_batch(self, reports: Sequence[Report]) -> list[Claimed | Exception | None]:
        """Record many results: those of one run in one unit, the runs side by side; each
        answered with its next task or the error ``record`` would have raised."""
        return await record_batch(self, reports)

    async def signal(
        self,
        run_id: str,
        ref: str,
        status: TaskStatus,
        output: dict[str, Any] | None = None,
        worker_id: str | None = None,
        caller_key: str = fencing.OPEN,
        check: Callable[[TaskState], None] | None = None,
    ) -> str:
        """Finish the active task ``ref`` of a run (a WAIT, or any task, from outside); a
        task leased to a worker takes it as a result without the lease's token. ``check`` as for ``update_task``."""
        found = await self.store.read(lambda tx: tx.get_run(run_id))
        if found is None:
            raise WorkflowNotFoundError(f"no workflow run has id {run_id}", service="server")
        task = found[0].latest(ref)
        if task is None:
            raise TaskNotFoundError(
                f"workflow {run_id} has no task '{ref}' (yet)", service="server", field="ref"
            )
        if check is not None:
            check(task)  # before its status is told, too
        if not task.status.is_active:
            raise TaskAlreadyFinishedError(
                f"task '{ref}' of workflow {run_id} already ended as {task.status}",
                service="server",
            )
        await self.update_task(
            task.task_id,
            status,
            output=output,
            worker_id=worker_id,
            caller_key=caller_key,
            check=check,
        )
        return task.task_id

    # ---- polling ------------------------------------------------------------------------

    def claim_tx(
        self,
        tx: StoreTx,
        outbox: Outbox,
        queue: str,
        worker_id: str,
        count: int,
        now: int,
        lease_key: str | None,
        known: tuple[RunState, str] | None = None,
    ) -> list[Claimed]:
        return claim_tx(self, tx, outbox, queue, worker_id, count, now, lease_key, known)

    async def poll(
        self,
        queue: str,
        worker_id: str,
        count: int,
        timeout_ms: int,
        lease_key: str | None = fencing.OPEN,
        gone: Callable[[], Awaitable[bool]] | None = None,
    ) -> list[Claimed]:
        """Claim up to ``count`` tasks, waiting up to ``timeout_ms`` for one to be queued.

        The leases record ``lease_key`` (``fencing.lease_key``): the caller's key, or None
        when it sends each lease's token back with its results. ``gone`` says whether the
        caller stopped waiting (its connection closed): then nothing is claimed, and what
        was claimed meanwhile goes back on its queue at once rather than after its lease."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            waiter = self.waiters.register(queue)
            try:
                if gone is not None and await gone():
                    return []
                claimed: list[Claimed] = await self._write(
                    lambda tx, outbox: self.claim_tx(
                        tx, outbox, queue, worker_id, count, self.clock(), lease_key
                    ),
                    "poll",
                )
                if claimed and gone is not None and await gone():
                    await self._write(partial(hand_back_tx, claimed=claimed), "hand back")
                    return []
                remaining = deadline - time.monotonic()
                if claimed or remaining <= 0:
                    return claimed
                await self.waiters.wait(waiter, remaining)
            finally:
                self.waiters.discard(queue, waiter)

    # ---- run actions --------------------------------------------------------------------

    async def act(self, run_id: str, make_event: Callable[[int], Event]) -> RunState:
        """Apply an operator's action (pause, resume, terminate, retry, restart) to a run."""
        now = self.clock()
        state: RunState = await self._write(
            lambda tx, outbox: self.event_tx(tx, outbox, run_id, make_event(now)), "action"
        )
        return state

    async def restart_run(self, run_id: str, *, use_latest_definition: bool = False) -> RunState:
        """Run again from the start; optionally on the latest version of its definition."""
        now = self.clock()

        def unit(tx: StoreTx, outbox: Outbox) -> RunState:
            state, key = self.load(tx, run_id, for_update=True)
            blueprint = self.definitions.blueprint(tx, key)
            if use_latest_definition and state.status.is_terminal:
                key, snapshot, blueprint = self.definitions.resolve(tx, state.name, None)
                tx.put_run_definition(key, snapshot)
                tx.set_run_definition(run_id, key, blueprint.definition.version)
                state.version = blueprint.definition.version
            return self.decide_tx(tx, outbox, state, key, blueprint, RestartRun(now))

        restarted: RunState = await self._write(unit, "restart")
        return restarted

    async def remove_run(self, run_id: str) -> None:
        removed = await self.store.write(lambda tx: tx.delete_run(run_id))
        if not removed:
            raise WorkflowNotFoundError(f"no workflow run has id {run_id}", service="server")

    def _view(self, tx: StoreTx, state: RunState, key: str) -> RunView:
        entries = {e.task_id: e for e in tx.queue_entries(state.run_id)}
        blames = blame_tasks(tx, self.policy, self.definitions.blueprint(tx, key), state)
        return RunView(state, entries, blames)

    async def get_run(self, run_id: str) -> RunView:
        def unit(tx: StoreTx) -> RunView:
            return self._view(tx, *self.load(tx, run_id))

        view: RunView = await self.store.read(unit)
        return view

    async def find_task(self, task_id: str) -> tuple[RunView, TaskState]:
        def unit(tx: StoreTx) -> tuple[RunView, TaskState]:
            run_id = tx.run_of_task(task_id)
            if run_id is None:
                raise TaskNotFoundError(f"no task has id {task_id}", service="server")
            state, key = self.load(tx, run_id)
            task = state.task(task_id)
            if task is None:  # dropped by keepLastN (old loop iterations) or a rerun
                raise TaskNotFoundError(
                    f"task {task_id} is no longer kept in workflow {run_id}", service="server"
                )
            return self._view(tx, state, key), task

        found: tuple[RunView, TaskState] = await self.store.read(unit)
        return found

    async def add_task_log(self, task_id: str, line: str) -> None:
        now = self.clock()

        def unit(tx: StoreTx, outbox: Outbox) -> None:
            run_id = tx.run_of_task(task_id)
            if run_id is None:
                raise TaskNotFoundError(f"no task has id {task_id}", service="server")
            self.event_tx(tx, outbox, run_id, AddTaskLog(now, task_id, line))

        await self._write(unit)

    async def search(self, query: RunQuery, *, tasks: bool = True) -> tuple[int, list[RunState]]:
        """Runs matching ``query``; pass ``tasks=False`` when their tasks are not shown."""
        found: tuple[int, list[RunState]] = await self.store.read(
            lambda tx: tx.search_runs(query, tasks=tasks)
        )
        return found

    # ---- time ---------------------------------------------------------------------------

    async def sweep(self, last_sweep: int) -> tuple[int, int | None]:
        """Re-queue expired leases, fire due timers, wake queues whose delayed tasks are due.

        Returns the time of this sweep and when the next one is needed (None: only on a poke).
        """
        now = self.clock()
        next_due: int | None = await self._write(
            lambda tx, outbox: sweep_tx(self, tx, outbox, now, last_sweep), "sweep"
        )
        return now, next_due
