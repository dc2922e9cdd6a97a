"""The engine: ``decide(state, event, blueprint) -> Decision``. Pure: no IO, no clock, no randomness.

The decider records what an event says, then *advances* the run: every step that finished
successfully and has not yet been followed gets its successors scheduled, JOINs are checked,
and a run with nothing left to do ends. System steps (SWITCH, SET_VARIABLE, TERMINATE, FORK)
finish inside the same decision, so one event may carry a run through many steps.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from podium.dsl import expressions
from podium.dsl.models import TaskDef, WorkflowTask
from podium.engine import compensation, domains, jq_step, outcomes, rework
from podium.engine.blueprint import Blueprint
from podium.engine.context import RunContext, task_context
from podium.engine.events import (
    AddTaskLog,
    CancelTimer,
    ChildFinished,
    Command,
    Decision,
    Dequeue,
    Enqueue,
    Event,
    NotifyParent,
    PauseRun,
    RerunRun,
    RestartRun,
    ResumeRun,
    RetryRun,
    RunStarted,
    SkipTask,
    StartChild,
    StartTimer,
    TaskProgress,
    TaskResult,
    TerminateChild,
    TerminateRun,
    TimerFired,
    UpdateVariables,
)
from podium.engine.handlers.dynamic import branch_input
from podium.engine.handlers.http import HTTP_QUEUE
from podium.engine.handlers.registry import REGISTRY
from podium.engine.secret_refs import secret_note
from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus, run_scoped_id
from podium.engine.timing import (
    WORKFLOW_TIMEOUT_KEY,
    http_lease_s,
    retry_delay_s,
    timer_key_task_timeout,
)
from podium.errors import ConflictError

__all__ = ["CONTINUE_TIMER_KEY", "DEFAULT_TASK_DEF", "HTTP_QUEUE", "SERVER_QUEUES", "decide"]

SERVER_QUEUES = frozenset({HTTP_QUEUE, jq_step.JQ_QUEUE})
"""Queues the server's own executors serve: workers may not poll them."""

DEFAULT_TASK_DEF = TaskDef(name="default")
"""Conductor's defaults, for a SIMPLE task with no registered TaskDef."""

_SYSTEM_TASK_DEF = TaskDef(name="system", retryCount=0, retryDelaySeconds=0)
CONTINUE_TIMER_KEY = "continue"
"""The timer, due at once, that takes up a run whose decision stopped at its step budget."""
_RETRY_HELD = frozenset({TaskStatus.FAILED, TaskStatus.TIMED_OUT})


def decide(
    state: RunState,
    event: Event,
    blueprint: Blueprint,
    task_defs: Mapping[str, TaskDef] = {},
    polled: domains.Polled = domains.never_polled,
) -> Decision:
    """The run after ``event``, and what must happen outside the engine because of it.
    ``task_defs`` are the registered TaskDefs, for steps no definition names (routing slips);
    ``polled`` says which task domains have workers (see ``engine/domains``)."""
    decider = Decider(state.clone(), blueprint, event.now, task_defs, polled)
    decider.apply(event)
    decider.advance()
    decider.state.updated_at = event.now
    return Decision(decider.state, tuple(decider.commands))


class Decider:
    """One decision: implements ``DecisionContext`` (engine/decision_context.py) for the
    task types' handlers, and runs each task through its type's handler in ``REGISTRY``."""

    def __init__(
        self,
        state: RunState,
        blueprint: Blueprint,
        now: int,
        task_defs: Mapping[str, TaskDef],
        polled: domains.Polled = domains.never_polled,
    ) -> None:
        self.state = state
        self.polled = polled
        self.task_defs = task_defs
        self.blueprint = blueprint
        self.now = now
        self.commands: list[Command] = []
        self._dynamic_steps: dict[str, WorkflowTask] = {}
        self.loop_iterations = 0
        """DO_WHILE iterations started in this decision (see do_while.ITERATIONS_PER_DECISION)."""
        self.loop_outputs_read = 0
        """Iteration outputs the loop conditions of this decision were given, between them."""
        self.jq_queries = 0
        """jq queries run inside this decision (see jq_step.INLINE_PER_DECISION)."""
        self.steps = 0
        """Tasks scheduled in this decision, against the limits' ``decision_step_budget``."""
        self.paused_at_budget = False
        """Whether this decision stopped at its step budget, leaving work for the next."""
        self._context = RunContext(self.state)

    def context(self) -> RunContext:
        """What ``${...}`` expressions read: the run as it stands, kept up to date as tasks
        are added rather than rebuilt for every step (which made long chains quadratic)."""
        return self._context

    # ---- events -------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        match event:
            case RunStarted():
                self.begin()
            case TaskResult():
                outcomes.task_result(self, event)
            case TaskProgress():
                outcomes.task_progress(self, event)
            case TimerFired():
                outcomes.timer_fired(self, event.key)
            case ChildFinished():
                outcomes.child_finished(self, event)
            case PauseRun():
                self._require_status(RunStatus.RUNNING, "pause")
                self.state.status = RunStatus.PAUSED
            case ResumeRun():
                self._require_status(RunStatus.PAUSED, "resume")
                self.state.status = RunStatus.RUNNING
            case TerminateRun():
                if self.state.status.is_terminal:
                    raise ConflictError(
                        f"workflow {self.state.run_id} already ended as {self.state.status}",
                        service="engine",
                        code="E_RUN_ENDED",
                    )
                if event.compensate:
                    compensation.begin(self, RunStatus.TERMINATED, event.reason or "terminated")
                else:
                    self.end(RunStatus.TERMINATED, event.reason or "terminated")
            case RetryRun():
                rework.retry_run(self)
            case RestartRun():
                rework.restart_run(self)
            case RerunRun():
                rework.rerun(self, event)
            case SkipTask():
                rework.skip(self, event)
            case AddTaskLog():
                rework.add_task_log(self, event)
            case UpdateVariables():
                rework.update_variables(self, event)

    def _require_status(self, status: RunStatus, action: str) -> None:
        if self.state.status != status:
            raise ConflictError(
                f"cannot {action} workflow {self.state.run_id}: it is {self.state.status}",
                service="engine",
                code="E_RUN_STATUS",
            )

    def begin(self) -> None:
        state = self.state
        state.status = RunStatus.RUNNING
        state.start_at = self.now
        state.variables = dict(self.blueprint.definition.variables) | state.variables
        timeout_s = self.blueprint.definition.timeoutSeconds
        if timeout_s > 0:
            self.commands.append(StartTimer(WORKFLOW_TIMEOUT_KEY, self.now + timeout_s * 1000))
        self.schedule(self.blueprint.first())

    # ---- scheduling ---------------------------------------------------------------------

    def task_def(self, step: WorkflowTask) -> TaskDef:
        if step.taskDefinition is not None:
            return step.taskDefinition
        if step.type in REGISTRY.worker_defaults:
            return DEFAULT_TASK_DEF
        return _SYSTEM_TASK_DEF

    def step_of(self, task: TaskState) -> WorkflowTask:
        """The step ``task`` is an attempt of: in the definition, or made up by a dynamic fork."""
        if task.dynamic_step is None:
            return self.blueprint.task(task.def_ref)
        step = self._dynamic_steps.get(task.task_id)
        if step is None:
            step = self._dynamic_steps[task.task_id] = WorkflowTask.model_validate(
                task.dynamic_step
            )
        return step

    def schedule(
        self,
        step: WorkflowTask,
        retry_of: TaskState | None = None,
        *,
        immediate: bool = False,
        within: TaskState | None = None,
        loop: tuple[str, int] | None = None,
        dynamic: dict[str, Any] | None = None,
        task_input: dict[str, Any] | None = None,
        secrets: dict[str, Any] | None = None,
    ) -> TaskState:
        """Add an attempt of ``step`` and start it.

        The new task runs in the loop iterations of ``within`` (the task it follows), plus
        ``loop`` (a DO_WHILE and iteration) when it opens a loop body; a retry keeps those of
        the attempt it retries. ``dynamic`` is the step's JSON when no definition holds it.
        ``secrets`` notes where a ``task_input`` resolved from a definition's HTTP template
        holds its secret references (``engine/secret_refs``).
        """
        state = self.state
        self.steps += 1
        task_id = self.next_task_id()
        seq = state.next_seq
        state.next_seq += 1
        origin = retry_of or within
        loops = list(origin.scope_loops) if origin else []
        iterations = list(origin.scope_iterations) if origin else []
        if loop is not None and retry_of is None:
            loops.append(loop[0])
            iterations.append(loop[1])
        if retry_of is not None and (
            retry_of.dynamic_step or REGISTRY.handlers[step.type].input_made_at_run_time
        ):
            # Made at run time, not from the definition: a branch's input, a JOIN's joinOn.
            dynamic, task_input = retry_of.dynamic_step, dict(retry_of.input)
            if dynamic is not None:  # a retried branch reads its new id, as a step's retry does
                task_input = branch_input(self, dynamic, task_id, task_input)
            secrets = retry_of.secrets
        if task_input is None:
            context = task_context(self.context(), task_id)
            params = self.task_def(step).under_template(step.inputParameters)
            task_input = expressions.resolve(params, context)
            if step.type in REGISTRY.uses_secrets and dynamic is None:
                # Only a definition's own steps may use secrets: a dynamic one is made of data.
                secrets = secret_note(params, task_input, context)
        delay_ms = step.startDelay * 1000
        retry_count = 0
        if retry_of is not None:
            retry_count = retry_of.retry_count + 1
            retry_of = state.edit(retry_of)
            retry_of.retried = True
            if not immediate:
                delay_ms = retry_delay_s(self.task_def(step), retry_of.retry_count) * 1000
        task = TaskState(
            task_id=task_id,
            ref=step.taskReferenceName + "".join(f"__{n}" for n in iterations),
            name=step.name,
            type=step.type,
            status=TaskStatus.SCHEDULED,
            seq=seq,
            scheduled_at=self.now,
            input=task_input,
            retry_count=retry_count,
            available_at=self.now + delay_ms,
            retried_task_id=retry_of.task_id if retry_of else None,
            iteration=iterations[-1] if iterations else 0,
            scope_loops=loops,
            scope_iterations=iterations,
            dynamic_step=dynamic,
            secrets=secrets,
        )
        state.add_task(task)
        if not rework.take_pending_skip(self, task):
            REGISTRY.start(self, task, step, retry_of)
        return task

    def next_task_id(self) -> str:
        """The id the next task ``schedule`` adds will have (its input may read it)."""
        state = self.state
        return run_scoped_id(state, f"{state.restarts}/{state.next_seq}")

    def enqueue(self, task: TaskState, step: WorkflowTask, queue: str) -> None:
        """Hand ``task`` to the workers polling ``queue``."""
        task_def = self.task_def(step)
        task = self.state.edit(task)
        if self.state.task_to_domain and queue not in SERVER_QUEUES:
            # Only worker tasks have domains, as only Conductor's non-system tasks do.
            task.domain = domains.domain_for(self.state.task_to_domain, queue, self.polled)
            queue = domains.queue_name(queue, task.domain)
        task.queue = queue
        lease_s = task_def.responseTimeoutSeconds
        if queue == HTTP_QUEUE:
            lease_s = http_lease_s(task.input)
        elif queue == jq_step.JQ_QUEUE:
            lease_s = jq_step.jq_lease_s(self.blueprint.limits.jq_time_limit_ms)
        self.commands.append(Enqueue(task.task_id, queue, task.available_at, lease_s))
        if task_def.timeoutSeconds > 0:
            due = task.available_at + task_def.timeoutSeconds * 1000
            self.commands.append(StartTimer(timer_key_task_timeout(task.task_id), due))

    # ---- finishing ----------------------------------------------------------------------

    def finish(self, task: TaskState, status: TaskStatus) -> None:
        task = self.state.edit(task)
        task.status = status
        task.start_at = task.start_at or self.now
        task.end_at = self.now
        task.update_at = self.now

    def fail(self, task: TaskState, status: TaskStatus, reason: str | None) -> None:
        step = self.step_of(task)
        task_def = self.task_def(step)
        task = self.state.edit(task)
        task.status = status
        task.reason = reason
        task.start_at = task.start_at or self.now
        task.end_at = self.now
        task.advanced = True
        retryable = status in (TaskStatus.FAILED, TaskStatus.TIMED_OUT)
        if retryable and task.retry_count < task_def.retryCount:
            if self.state.status == RunStatus.PAUSED:
                task.advanced = False  # nothing new while paused: advance() retries it on resume
            else:
                self.schedule(step, retry_of=task)
        elif step.optional:
            task.status = TaskStatus.COMPLETED_WITH_ERRORS
            task.advanced = False
        else:
            # As Conductor's retry(): a task that timed out with no retries left times the
            # run out; any other failure fails it.
            self.end(
                RunStatus.TIMED_OUT if status == TaskStatus.TIMED_OUT else RunStatus.FAILED,
                f"task '{task.ref}' ({task.name}) {status}: {reason or 'no reason given'}",
                failed=task,
            )

    def clear_task_timers(self, task: TaskState) -> None:
        if task.type in REGISTRY.own_timers:
            REGISTRY.handlers[task.type].clear_timers(self, task)
        if self.task_def(self.step_of(task)).timeoutSeconds > 0:
            self.commands.append(CancelTimer(timer_key_task_timeout(task.task_id)))

    def cancel_active(self) -> None:
        for task in self.state.active_tasks():
            task = self.state.edit(task)
            task.status = TaskStatus.CANCELED
            task.end_at = self.now
            task.advanced = True
            if task.queue is not None:
                self.commands.append(Dequeue(task.task_id))
            if task.sub_workflow_id is not None:
                self.commands.append(TerminateChild(task.sub_workflow_id, "parent workflow ended"))
            self.clear_task_timers(task)

    def end(
        self,
        status: RunStatus,
        reason: str | None,
        *,
        failed: TaskState | None = None,
        keep_output: bool = False,
    ) -> None:
        state = self.state
        if failed is not None:
            state.failed_refs = [*state.failed_refs, failed.ref]
        if compensation.takes_over(self, status, reason, failed):
            return
        self.cancel_active()
        state.status = status
        state.reason = reason
        state.end_at = self.now
        if status == RunStatus.COMPLETED and not keep_output:
            state.output = self._run_output()
        if self.blueprint.definition.timeoutSeconds > 0:
            self.commands.append(CancelTimer(WORKFLOW_TIMEOUT_KEY))
        if state.parent_run_id is not None and state.parent_task_id is not None:
            self.commands.append(
                NotifyParent(
                    parent_run_id=state.parent_run_id,
                    parent_task_id=state.parent_task_id,
                    child_run_id=state.run_id,
                    child_status=str(status),
                    output=state.output,
                    reason=reason,
                )
            )
        failure_workflow = self.blueprint.definition.failureWorkflow
        if status in compensation.FAILED_ENDINGS and failure_workflow:
            self.commands.append(
                StartChild(
                    child_run_id=run_scoped_id(state, f"failure/{state.restarts}/{self.now}"),
                    name=failure_workflow,
                    version=None,
                    input={
                        "workflowId": state.run_id,
                        "workflowType": state.name,
                        "reason": reason,
                        "failureStatus": str(status),
                        "failedTaskNames": list(state.failed_refs),
                        **state.input,
                    },
                    correlation_id=state.correlation_id,
                    parent_run_id=None,
                    parent_task_id=None,
                    task_to_domain=state.task_to_domain,
                )
            )

    def _run_output(self) -> dict[str, Any]:
        definition = self.blueprint.definition
        if definition.outputParameters:
            resolved = expressions.resolve(definition.outputParameters, self.context())
            return resolved if isinstance(resolved, dict) else {"result": resolved}
        # Conductor's rule: the last step's output. Once per run, and it stops at the first
        # success from the end, nearly always the last task.
        for task in reversed(self.state.tasks):
            if task.status.is_success:
                return dict(task.output)
        return {}

    # ---- advancing ----------------------------------------------------------------------

    def advance(self) -> None:
        """Schedule what follows finished steps until nothing changes, then end if all done.

        A decision schedules at most the limits' ``decision_step_budget`` tasks: past it, the
        run goes on from a timer due at once, in a later unit of work, so that a long chain
        of system steps never holds the store's writer for long.
        """
        tasks = self.state.tasks
        # Only a task not yet followed, or a JOIN, loop or slip waiting on others, may move:
        # the index knows them, and a wide fork's running branches are not among them.
        pending = self.state.moving_positions()
        while self.state.status == RunStatus.RUNNING:
            pending = self._advance_once(tasks, pending)
            if not pending:
                break
            if self.state.tasks is not tasks:  # keepLastN dropped tasks: positions moved
                tasks, pending = self.state.tasks, self.state.moving_positions()
        if self.paused_at_budget:
            return
        if self.state.status == RunStatus.RUNNING and not self.state.has_active():
            self.end(RunStatus.COMPLETED, None)
        if self.state.status == RunStatus.COMPENSATING:
            compensation.advance(self)

    def _over_budget(self) -> bool:
        if self.steps < self.blueprint.limits.decision_step_budget:
            return False
        if not self.paused_at_budget:
            self.paused_at_budget = True
            self.commands.append(StartTimer(CONTINUE_TIMER_KEY, self.now))
        return True

    def _advance_once(self, tasks: list[TaskState], pending: list[int]) -> list[int]:
        """One pass over the tasks at ``pending`` and every task scheduled during it; returns where the next pass must look, empty when nothing changed.

        Only a task that may still move in this decision is looked at again: a JOIN, loop
        or slip still waiting, or a finished task whose successors are not yet scheduled.
        Nothing in a decision finishes any other task it has already passed, so each pass
        costs what changed, not the run's size, and a long chain is followed in one pass.
        """
        progressed = False
        unsettled: list[int] = []
        waiting, handlers = REGISTRY.waiting, REGISTRY.handlers
        for index in itertools.chain(pending, itertools.count(len(tasks))):
            if index >= len(tasks):
                break
            if self.state.status != RunStatus.RUNNING or self._over_budget():
                return []
            if self.state.tasks is not tasks:
                return [0]  # replaced by keepLastN: the caller starts again on the new list
            task = tasks[index]
            if task.status == TaskStatus.IN_PROGRESS:
                if task.type in waiting:
                    progressed |= handlers[task.type].check(self, task)
                task = self.state.task(task.task_id) or task  # the check may have edited it
            if not task.advanced and task.is_latest and task.status in _RETRY_HELD:
                task = self.state.edit(task)
                task.advanced = progressed = True  # a retry held back by a pause
                self.schedule(self.step_of(task), retry_of=task)
            elif not task.advanced and task.status.is_success and task.is_latest:
                task = self.state.edit(task)
                task.advanced = True
                progressed = True
                self._schedule_successors(task)
            if task.status == TaskStatus.IN_PROGRESS and task.type in waiting:
                unsettled.append(index)
            elif not task.advanced and task.is_latest and task.status.is_success:
                unsettled.append(index)  # e.g. an optional loop that failed in its check
        return unsettled if progressed else []

    def _schedule_successors(self, task: TaskState) -> None:
        if task.dynamic_step is not None:
            return  # a dynamic fork's branch is one task: its JOIN is already waiting
        if task.type in REGISTRY.own_successors:
            REGISTRY.handlers[task.type].schedule_successors(self, task)
            return
        for step in self.successors_of(task):
            self.schedule(step, within=task)

    def successors_of(self, task: TaskState) -> list[WorkflowTask]:
        """The steps that follow ``task`` once it succeeded (the chosen case of a switch)."""
        selected = None
        if task.type in REGISTRY.selecting:
            selected = REGISTRY.handlers[task.type].selected_case(task)
        return self.blueprint.successors(task.def_ref, selected)
