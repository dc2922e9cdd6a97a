"""Runs the engine against the store: every request becomes one unit of work.

A unit of work loads a run, asks the engine to decide, writes the new state and carries out
the engine's commands (queue, timers, child runs) in the same transaction, so a run can never
be left half-advanced. Only after the commit are long polls woken and callers answered.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from podium.contracts.runtime import ContractRuntime
from podium.dsl.models import TaskDef, TaskType, WorkflowDef
from podium.engine.blueprint import Blueprint
from podium.engine.decider import decide
from podium.engine.events import (
    AddTaskLog,
    AwaitEvent,
    CancelTimer,
    ChildFinished,
    Command,
    Dequeue,
    Enqueue,
    Event,
    NotifyParent,
    PublishEvent,
    RestartRun,
    RunStarted,
    StartChild,
    StartTimer,
    StartWorkflow,
    TaskProgress,
    TaskResult,
    TerminateChild,
    TerminateRun,
    TimerFired,
)
from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus
from podium.errors import (
    DefinitionNotFoundError,
    LeaseLostError,
    PodiumError,
    TaskAlreadyFinishedError,
    TaskNotFoundError,
    ValidationError,
    WorkflowNotFoundError,
)
from podium.events import bus
from podium.observability.context import correlation_id_var
from podium.observability.observer import Note, Observer
from podium.resilience.breaker import Transition
from podium.resilience.policy import ResiliencePolicy, Verdict, log_transition
from podium.server import contract_hooks
from podium.server.attribution import Blame, blame_run, blame_tasks
from podium.server.event_ops import RunOpsTx
from podium.server.task_defs import TaskDefCatalog
from podium.server.waiters import QueueWaiters
from podium.store.base import QueueEntry, RunQuery, Store, StoreTx

__all__ = ["Claimed", "Orchestrator", "RunView", "now_ms"]

T = TypeVar("T")

log = logging.getLogger("podium.server")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class RunView:
    """A run with the live lease data of its queued tasks."""

    state: RunState
    entries: dict[str, QueueEntry]
    blames: dict[str, Blame] = field(default_factory=dict)
    """Who is behind each task that names a service or failed, by task id."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A task handed to a worker, with the run it belongs to."""

    state: RunState
    task: TaskState
    entry: QueueEntry


@dataclass(slots=True)
class _Outbox:
    """What to do once the transaction has committed."""

    ready_queues: set[str] = field(default_factory=set)
    poke_sweeper: bool = False
    transitions: list[tuple[str, Transition]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    deliveries: bool = False
    outbox_brokers: set[str] = field(default_factory=set)
    notes: list[Note] = field(default_factory=list)
    """What the unit did, for metrics, spans and its log line."""


class Orchestrator:
    """The server's core: starts runs, records results, hands out tasks, fires timers."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], int] = now_ms,
        on_timer_added: Callable[[], None] | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.store = store
        self.observer = observer or Observer()
        self.clock = clock
        self.waiters = QueueWaiters()
        self.contracts = ContractRuntime()
        self.on_timer_added = on_timer_added or (lambda: None)
        self.on_deliveries: Callable[[], None] = lambda: None
        self.on_outbox: Callable[[str], None] = lambda broker: None
        self._blueprints: dict[str, Blueprint] = {}
        self._catalog = TaskDefCatalog()
        self.policy = ResiliencePolicy()
        self._resolved: dict[
            tuple[str, int | None, int], tuple[str, dict[str, Any], Blueprint]
        ] = {}

    # ---- after commit -------------------------------------------------------------------

    def _publish(self, outbox: _Outbox, op: str, elapsed_ms: float) -> None:
        for queue in outbox.ready_queues:
            self.waiters.notify(queue)
        if outbox.poke_sweeper:
            self.on_timer_added()
        for service, transition in outbox.transitions:
            log_transition(service, transition)
        for line in outbox.failures:
            log.warning("%s", line)
        if outbox.deliveries:
            self.on_deliveries()
        for broker in outbox.outbox_brokers:
            self.on_outbox(broker)
        self.observer.after_commit(op, outbox.notes, outbox.transitions, elapsed_ms)

    async def _write(self, fn: Callable[[StoreTx, _Outbox], Any], op: str = "unit") -> Any:
        def unit(tx: StoreTx) -> tuple[Any, _Outbox]:
            # A fresh outbox per attempt: the store may run a unit again after a lost race.
            outbox = _Outbox()
            result = fn(tx, outbox)
            if outbox.ready_queues:
                tx.announce_ready(outbox.ready_queues)
            return result, outbox

        began = time.perf_counter()
        result, outbox = await self.store.write(unit)
        self._publish(outbox, op, (time.perf_counter() - began) * 1000)
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
    ) -> str:
        """Start a run of a registered workflow, or of ``definition`` (validated, not
        registered: the SDK's inline ``workflowDef``). A repeated idempotency key returns the
        first run. Without ``correlation_id``, the caller's ``X-Correlation-Id`` header is used."""
        run_id = str(uuid.uuid4())
        correlation_id = correlation_id or correlation_id_var.get()
        now = self.clock()

        def unit(tx: StoreTx, outbox: _Outbox) -> str:
            if idempotency_key:
                existing = tx.get_idempotent_run(name, idempotency_key)
                if existing is not None:
                    return existing
                tx.put_idempotent_run(name, idempotency_key, run_id)
            frozen = self._freeze(tx, definition.to_json()) if definition else None
            self._start_run_tx(
                tx,
                outbox,
                run_id,
                name,
                version,
                input or {},
                correlation_id,
                None,
                None,
                now,
                frozen=frozen,
                check_input=True,
            )
            return run_id

        result: str = await self._write(unit, "start")
        return result

    def _start_run_tx(
        self,
        tx: StoreTx,
        outbox: _Outbox,
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
    ) -> RunState:
        key, snapshot, blueprint = frozen or self._resolve_definition(tx, name, version)
        if check_input:
            contract_hooks.check_start(self, tx, blueprint.definition, run_input)
        tx.put_run_definition(key, snapshot)  # may be the first run of it in this database
        state = RunState(
            run_id=run_id,
            name=name,
            version=blueprint.definition.version,
            status=RunStatus.RUNNING,
            created_at=now,
            input=run_input,
            correlation_id=correlation_id,
            parent_run_id=parent_run_id,
            parent_task_id=parent_task_id,
        )
        tx.insert_run(state, key)
        return self._decide_tx(tx, outbox, state, key, blueprint, RunStarted(now))

    def _resolve_definition(
        self, tx: StoreTx, name: str, version: int | None
    ) -> tuple[str, dict[str, Any], Blueprint]:
        """The frozen definition a new run of ``name`` executes, cached until any definition
        changes (the store's generation counter says when)."""
        cache_key = (name, version, tx.definitions_generation())
        cached = self._resolved.get(cache_key)
        if cached is not None:
            return cached
        body = tx.get_workflow_def(name, version)
        if body is None:
            which = f"version {version}" if version is not None else "any version"
            raise DefinitionNotFoundError(
                f"no workflow definition '{name}' ({which}) is registered",
                service="server",
                field="name",
            )
        if len(self._resolved) > 1000:
            self._resolved.clear()
        resolved = self._resolved[cache_key] = self._freeze(tx, body)
        return resolved

    def _freeze(self, tx: StoreTx, body: dict[str, Any]) -> tuple[str, dict[str, Any], Blueprint]:
        """A definition's snapshot, its content key and its blueprint."""
        snapshot = self._snapshot(tx, body)
        key = hashlib.sha256(orjson.dumps(snapshot, option=orjson.OPT_SORT_KEYS)).hexdigest()
        blueprint = self._blueprints.get(key)
        if blueprint is None:
            blueprint = self._blueprints[key] = Blueprint(WorkflowDef.model_validate(snapshot))
        return key, snapshot, blueprint

    def _snapshot(self, tx: StoreTx, body: dict[str, Any]) -> dict[str, Any]:
        """The definition with each step's TaskDef embedded, frozen for the run's lifetime."""
        definition = WorkflowDef.model_validate(body)
        cache: dict[str, TaskDef | None] = {}

        def task_def(name: str) -> TaskDef | None:
            if name not in cache:
                found = tx.get_task_def(name)
                cache[name] = TaskDef.model_validate(found) if found else None
            return cache[name]

        for step in definition.all_tasks():
            undo = step.compensation  # its retry policy is its own TaskDef's
            if undo and undo.taskDefinition is None and undo.type != TaskType.SUB_WORKFLOW:
                undo.taskDefinition = task_def(undo.name)
            if step.taskDefinition is not None or step.type not in (TaskType.SIMPLE, TaskType.HTTP):
                continue
            step.taskDefinition = task_def(step.name)
        return definition.to_json()

    # ---- deciding -----------------------------------------------------------------------

    def _blueprint(self, tx: StoreTx, key: str) -> Blueprint:
        blueprint = self._blueprints.get(key)
        if blueprint is None:
            body = tx.get_run_definition(key)
            if body is None:
                raise ValidationError(f"the definition {key} of a run is missing", service="store")
            blueprint = self._blueprints[key] = Blueprint(WorkflowDef.model_validate(body))
        return blueprint

    def _load(self, tx: StoreTx, run_id: str, *, for_update: bool = False) -> tuple[RunState, str]:
        found = tx.get_run(run_id, for_update=for_update)
        if found is None:
            raise WorkflowNotFoundError(f"no workflow run has id {run_id}", service="server")
        return found

    def _event_tx(self, tx: StoreTx, outbox: _Outbox, run_id: str, event: Event) -> RunState:
        state, key = self._load(tx, run_id, for_update=True)
        return self._decide_tx(tx, outbox, state, key, self._blueprint(tx, key), event)

    def _decide_tx(
        self,
        tx: StoreTx,
        outbox: _Outbox,
        state: RunState,
        key: str,
        blueprint: Blueprint,
        event: Event,
    ) -> RunState:
        known = {task.task_id for task in state.tasks}
        decision = decide(state, event, blueprint, self._catalog.for_run(tx, blueprint))
        new = decision.state
        self.observer.on_decision(outbox.notes, state, new, event, blueprint)
        if new.status.is_terminal and not state.status.is_terminal:
            if new.status != RunStatus.COMPLETED:
                blame = blame_run(tx, self.policy, blueprint, new)
                whom = f" [{blame.phrase()}]" if blame else ""
                outbox.failures.append(
                    f"run {new.run_id} of {new.name} ended {new.status}: {new.reason}{whom}"
                )
        tx.update_run(new)
        fresh = [task.task_id for task in new.tasks if task.task_id not in known]
        if fresh:
            tx.add_task_ids(new.run_id, fresh)
        reentrant = False
        for command in decision.commands:
            self._carry_out(tx, outbox, new, command, event.now)
            reentrant |= isinstance(
                command,
                StartChild | StartWorkflow | TerminateChild | NotifyParent | PublishEvent,
            )
        if reentrant:
            # A child that ends at once (or a parent that reacts) may have updated this run
            # again in the same unit; callers get the state as it now stands.
            new = self._load(tx, new.run_id)[0]
        return new

    def _carry_out(
        self, tx: StoreTx, outbox: _Outbox, state: RunState, command: Command, now: int
    ) -> None:
        match command:
            case Enqueue():
                tx.enqueue(
                    command.task_id,
                    state.run_id,
                    command.queue,
                    command.available_at,
                    command.response_timeout_s * 1000,
                )
                if command.available_at <= now:
                    outbox.ready_queues.add(command.queue)
                else:
                    outbox.poke_sweeper = True
            case Dequeue():
                tx.dequeue(command.task_id)
            case StartTimer():
                tx.put_timer(state.run_id, command.key, command.due_at)
                outbox.poke_sweeper = True
            case CancelTimer():
                tx.delete_timer(state.run_id, command.key)
            case StartChild():
                self._start_child_tx(tx, outbox, command, now)
            case StartWorkflow():
                self._start_workflow_tx(tx, outbox, state.run_id, command, now)
            case TerminateChild():
                child = tx.get_run(command.child_run_id)
                if child is not None and not child[0].status.is_terminal:
                    self._event_tx(
                        tx, outbox, command.child_run_id, TerminateRun(now, command.reason)
                    )
            case NotifyParent():
                if tx.get_run(command.parent_run_id) is not None:
                    event = ChildFinished(
                        now,
                        command.parent_task_id,
                        command.child_run_id,
                        command.child_status,
                        command.output,
                        command.reason,
                    )
                    self._event_tx(tx, outbox, command.parent_run_id, event)
            case PublishEvent() | AwaitEvent():
                bus.carry_out(tx, RunOpsTx(self, tx, outbox), state.run_id, command, now)

    async def write_events(self, fn: Callable[[StoreTx, RunOpsTx], T]) -> T:
        """Run ``fn`` as a unit of work that may start runs and finish tasks (the bus's)."""
        result: T = await self._write(lambda tx, outbox: fn(tx, RunOpsTx(self, tx, outbox)))
        return result

    def _start_child_tx(self, tx: StoreTx, outbox: _Outbox, command: StartChild, now: int) -> None:
        if tx.get_run(command.child_run_id) is not None:
            return  # already started by an earlier attempt of the same decision
        try:
            self._start_run_tx(
                tx,
                outbox,
                command.child_run_id,
                command.name,
                command.version,
                command.input,
                command.correlation_id,
                command.parent_run_id,
                command.parent_task_id,
                now,
            )
        except DefinitionNotFoundError as exc:
            if command.parent_run_id is None or command.parent_task_id is None:
                return  # a missing failure workflow must not undo the failure it reports
            event = ChildFinished(
                now, command.parent_task_id, command.child_run_id, "FAILED", {}, exc.message
            )
            self._event_tx(tx, outbox, command.parent_run_id, event)

    def _start_workflow_tx(
        self, tx: StoreTx, outbox: _Outbox, run_id: str, command: StartWorkflow, now: int
    ) -> None:
        """Start a START_WORKFLOW task's run, then finish the task with how that went."""
        event: TaskResult
        if tx.get_run(command.run_id) is None:
            try:
                self._start_run_tx(
                    tx,
                    outbox,
                    command.run_id,
                    command.name,
                    command.version,
                    command.input,
                    command.correlation_id,
                    None,
                    None,
                    now,
                )
            except PodiumError as exc:
                event = TaskResult(now, command.task_id, TaskStatus.FAILED, {}, exc.message)
                self._event_tx(tx, outbox, run_id, event)
                return
        output = {"workflowId": command.run_id}
        event = TaskResult(now, command.task_id, TaskStatus.COMPLETED, output)
        self._event_tx(tx, outbox, run_id, event)

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
    ) -> Claimed | None:
        """Record a worker's result. With ``next_for_worker``, also claim its next task.

        IN_PROGRESS keeps the task leased to its worker: for ``callback_after_s`` (after
        which it is handed out again, as Conductor postpones it), or for its response timeout
        (``extend_lease``, the SDK's heartbeat), whichever is longer.
        """
        now = self.clock()

        def unit(tx: StoreTx, outbox: _Outbox) -> Claimed | None:
            run_id = tx.run_of_task(task_id)
            if run_id is None:
                raise TaskNotFoundError(
                    f"no task has id {task_id}", service="server", field="taskId"
                )
            # The run first, then its queue row: every unit takes locks in that order.
            state, key = self._load(tx, run_id, for_update=True)
            entry = tx.queue_entry(task_id)
            if entry is not None and entry.lease_owner and worker_id:
                # Conductor's SDK lets worker code set its own workerId in a result, so a
                # differing id only means a stale worker once the task was handed out again.
                if entry.lease_owner != worker_id and entry.poll_count > 1:
                    raise LeaseLostError(
                        f"task {task_id} is leased to worker {entry.lease_owner}, "
                        f"not {worker_id}: its lease expired and it was handed over",
                        service="server",
                    )
            started = entry.started_at if entry else None
            polls = entry.poll_count if entry else 0
            event: Event
            if status == TaskStatus.IN_PROGRESS:
                event = TaskProgress(
                    now, task_id, output or {}, worker_id, started, polls, callback_after_s, logs
                )
                if entry is not None:
                    lease_ms = callback_after_s * 1000 or entry.response_timeout_ms
                    if extend_lease:
                        lease_ms = max(lease_ms, entry.response_timeout_ms)
                    tx.extend_lease(task_id, now + lease_ms)
            elif status.is_active:
                raise ValidationError(
                    f"status {status} cannot be reported by a worker", field="status"
                )
            else:
                # The output is checked against its contract before the engine sees it.
                final, why, notes = contract_hooks.checked_result(
                    self,
                    tx,
                    key,
                    state,
                    task_id,
                    status,
                    output or {},
                    reason,
                    logs,
                    worker_id,
                    now,
                )
                event = TaskResult(
                    now, task_id, final, output or {}, why, worker_id, started, polls, notes
                )
            blueprint = self._blueprint(tx, key)
            before = state.task(task_id)
            state = self._decide_tx(tx, outbox, state, key, blueprint, event)
            if isinstance(event, TaskResult) and before is not None and before.status.is_active:
                step = blueprint.step_of(before)
                moved = self.policy.after_result(
                    tx, before, step, status, output or {}, reason, now
                )
                if moved is not None:
                    outbox.transitions.append(moved)
            if next_for_worker and entry is not None and worker_id:
                claimed = self._claim_tx(
                    tx, outbox, entry.queue, worker_id, 1, now, known=(state, key)
                )
                if claimed and entry.queue in outbox.ready_queues:
                    # Often the task this result queued is the one just handed back: waking
                    # parked polls for it would only cost each of them an empty claim.
                    if not tx.queue_sizes([entry.queue]).get(entry.queue):
                        outbox.ready_queues.discard(entry.queue)
                return claimed[0] if claimed else None
            return None

        result: Claimed | None = await self._write(unit, "update")
        return result

    async def signal(
        self,
        run_id: str,
        ref: str,
        status: TaskStatus,
        output: dict[str, Any] | None = None,
        worker_id: str | None = None,
    ) -> str:
        """Finish the active task ``ref`` of a run (a WAIT, or any task, from outside)."""
        found = await self.store.read(lambda tx: tx.get_run(run_id))
        if found is None:
            raise WorkflowNotFoundError(f"no workflow run has id {run_id}", service="server")
        task = found[0].latest(ref)
        if task is None:
            raise TaskNotFoundError(
                f"workflow {run_id} has no task '{ref}' (yet)", service="server", field="ref"
            )
        if not task.status.is_active:
            raise TaskAlreadyFinishedError(
                f"task '{ref}' of workflow {run_id} already ended as {task.status}",
                service="server",
            )
        await self.update_task(task.task_id, status, output=output, worker_id=worker_id)
        return task.task_id

    # ---- polling ------------------------------------------------------------------------

    def _claim_tx(
        self,
        tx: StoreTx,
        outbox: _Outbox,
        queue: str,
        worker_id: str,
        count: int,
        now: int,
        known: tuple[RunState, str] | None = None,
    ) -> list[Claimed]:
        count = self.policy.claimable(tx, queue, count, now)
        if count <= 0:
            return []
        entries = tx.claim(queue, worker_id, count, now)
        claimed: list[Claimed] = []
        # ``known`` is a run this unit has just written (``_decide_tx`` returns it as it stands
        # after any nested decisions): no need to read it back.
        runs: dict[str, tuple[RunState, str]] = {known[0].run_id: known} if known else {}
        keys = {run_id: key for run_id, (_, key) in runs.items()}
        for entry in entries:
            found = runs.get(entry.run_id)
            if found is None:
                found = runs[entry.run_id] = self._load(tx, entry.run_id)
            state, key = found
            keys[state.run_id] = key
            task = state.task(entry.task_id)
            if task is None or not task.status.is_active:
                tx.dequeue(entry.task_id)  # a stale row: its task already ended
                continue
            gate = self.policy.gate(tx, task, self._blueprint(tx, key).step_of(task), now)
            if gate.transition is not None:
                outbox.transitions.append(gate.transition)
            if gate.verdict == Verdict.HAND_OUT:
                claimed.append(Claimed(state, task, entry))
                self.observer.on_claim(outbox.notes, state.run_id, task, now)
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
                result = TaskResult(
                    now, task.task_id, status, gate.output or {}, gate.reason or None
                )
                self._event_tx(tx, outbox, state.run_id, result)
                runs.pop(state.run_id, None)
        # Inputs are checked against their contracts last: a violation fails the task instead.
        handed = contract_hooks.hand_out(self, tx, outbox, claimed, keys, now)
        self.policy.count_dispatched(tx, queue, len(handed), now)
        return handed

    async def poll(self, queue: str, worker_id: str, count: int, timeout_ms: int) -> list[Claimed]:
        """Claim up to ``count`` tasks, waiting up to ``timeout_ms`` for one to be queued."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            waiter = self.waiters.register(queue)
            try:
                claimed: list[Claimed] = await self._write(
                    lambda tx, outbox: self._claim_tx(
                        tx, outbox, queue, worker_id, count, self.clock()
                    ),
                    "poll",
                )
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
            lambda tx, outbox: self._event_tx(tx, outbox, run_id, make_event(now)), "action"
        )
        return state

    async def restart_run(self, run_id: str, *, use_latest_definition: bool = False) -> RunState:
        """Run again from the start; optionally on the latest version of its definition."""
        now = self.clock()

        def unit(tx: StoreTx, outbox: _Outbox) -> RunState:
            state, key = self._load(tx, run_id, for_update=True)
            blueprint = self._blueprint(tx, key)
            if use_latest_definition and state.status.is_terminal:
                key, snapshot, blueprint = self._resolve_definition(tx, state.name, None)
                tx.put_run_definition(key, snapshot)
                tx.set_run_definition(run_id, key, blueprint.definition.version)
                state.version = blueprint.definition.version
            return self._decide_tx(tx, outbox, state, key, blueprint, RestartRun(now))

        restarted: RunState = await self._write(unit, "restart")
        return restarted

    async def remove_run(self, run_id: str) -> None:
        removed = await self.store.write(lambda tx: tx.delete_run(run_id))
        if not removed:
            raise WorkflowNotFoundError(f"no workflow run has id {run_id}", service="server")

    def _view(self, tx: StoreTx, state: RunState, key: str) -> RunView:
        entries = {e.task_id: e for e in tx.queue_entries(state.run_id)}
        blames = blame_tasks(tx, self.policy, self._blueprint(tx, key), state)
        return RunView(state, entries, blames)

    async def get_run(self, run_id: str) -> RunView:
        def unit(tx: StoreTx) -> RunView:
            return self._view(tx, *self._load(tx, run_id))

        view: RunView = await self.store.read(unit)
        return view

    async def find_task(self, task_id: str) -> tuple[RunView, TaskState]:
        def unit(tx: StoreTx) -> tuple[RunView, TaskState]:
            run_id = tx.run_of_task(task_id)
            if run_id is None:
                raise TaskNotFoundError(f"no task has id {task_id}", service="server")
            state, key = self._load(tx, run_id)
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

        def unit(tx: StoreTx, outbox: _Outbox) -> None:
            run_id = tx.run_of_task(task_id)
            if run_id is None:
                raise TaskNotFoundError(f"no task has id {task_id}", service="server")
            self._event_tx(tx, outbox, run_id, AddTaskLog(now, task_id, line))

        await self._write(unit)

    async def search(self, query: RunQuery) -> tuple[int, list[RunState]]:
        found: tuple[int, list[RunState]] = await self.store.read(lambda tx: tx.search_runs(query))
        return found

    # ---- time ---------------------------------------------------------------------------

    async def sweep(self, last_sweep: int) -> tuple[int, int | None]:
        """Re-queue expired leases, fire due timers, wake queues whose delayed tasks are due.

        Returns the time of this sweep and when the next one is needed (None: only on a poke).
        """
        now = self.clock()

        def unit(tx: StoreTx, outbox: _Outbox) -> int | None:
            outbox.ready_queues.update(tx.release_expired_leases(now))
            outbox.ready_queues.update(tx.queues_ready_between(last_sweep, now))
            for run_id, key in tx.take_due_timers(now, 200):
                if tx.get_run(run_id) is None:
                    continue
                try:
                    self._event_tx(tx, outbox, run_id, TimerFired(now, key))
                except PodiumError:
                    # A timer the run can no longer use must not block the timers behind it.
                    log.exception("timer %s of run %s could not fire", key, run_id)
            outbox.poke_sweeper = False  # this sweep computes its own next wake-up below
            candidates = [
                tx.next_timer_due(),
                tx.next_available_at(now),
                tx.next_lease_expiry(),
            ]
            due = [moment for moment in candidates if moment is not None]
            return min(due) if due else None

        next_due: int | None = await self._write(unit, "sweep")
        return now, next_due
