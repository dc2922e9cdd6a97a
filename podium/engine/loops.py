"""DO_WHILE: run the loop body, then let ``loopCondition`` decide whether to go round again.

As in Conductor, every iteration schedules the body's tasks afresh with the iteration in their
reference names (``ref__1``, ``ref__2``; a loop inside a loop adds its own, ``ref__2__1``,
so that no two tasks of a run share a name). The DO_WHILE stays IN_PROGRESS while its body
runs; its output holds ``iteration`` and, keyed by iteration number, each body task's output
under its definition reference name. ``keepLastN`` (an input) drops older iterations' tasks
and outputs so that long loops do not grow the run without bound.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from podium.dsl import evaluators, expressions, walk
from podium.dsl.models import WorkflowTask
from podium.engine import loop_entries
from podium.engine.events import StartTimer
from podium.engine.state import TaskState, TaskStatus

if TYPE_CHECKING:
    from podium.engine.decider import Decider

__all__ = ["ITERATIONS_PER_DECISION", "check_loop", "inside", "start_loop", "timer_key_loop"]

ITERATIONS_PER_DECISION = 100
"""Iterations one decision may start. A body of system tasks only never waits for a worker,
so without a bound a long loop would hold the store's writer for the whole run; past it the
loop goes on from a timer due at once, in the next unit of work."""

OUTPUTS_READ_PER_DECISION = 50_000
"""Kept iteration outputs one decision's loop conditions may read between them. Every
condition sees all of them (as in Conductor), so a loop without ``keepLastN`` costs more per
iteration as it grows; this keeps its decisions short by taking fewer iterations each."""


def timer_key_loop(task_id: str) -> str:
    return f"loop:{task_id}"


def start_loop(d: Decider, task: TaskState, step: WorkflowTask, retry_of: TaskState | None) -> None:
    task = d.state.edit(task)  # this decision's own to change
    task.status = TaskStatus.IN_PROGRESS
    task.start_at = d.now
    if retry_of is not None and retry_of.iteration > 0:
        # A retried run resumes the iteration it stopped in: the failed body tasks are
        # scheduled again beside this attempt, and the iterations before stay done.
        task.iteration = retry_of.iteration
        task.output = dict(retry_of.output)
        return
    task.iteration = 1
    task.output = {"iteration": 1}
    d.schedule(step.loopOver[0], within=task, loop=(task.def_ref, 1))


def inside(task: TaskState, loop: TaskState, iteration: int | None = None) -> bool:
    """Whether ``task`` ran in the body of ``loop`` (at any depth), in ``iteration`` if given."""
    depth = len(loop.scope_loops)
    if len(task.scope_loops) <= depth:
        return False
    if task.scope_loops[depth] != loop.def_ref:
        return False
    if task.scope_loops[:depth] != loop.scope_loops:
        return False
    if task.scope_iterations[:depth] != loop.scope_iterations:
        return False
    return iteration is None or task.scope_iterations[depth] == iteration


def check_loop(d: Decider, loop: TaskState) -> bool:
    """Once the current iteration is done: record it, then go round again or finish."""
    body = _current_body(d, loop)
    if not body:
        return False
    for task in body:
        if task.status.is_active or not task.advanced or not task.status.is_success:
            return False  # still running, or about to schedule more; failures end the run
    if (
        d.loop_iterations >= ITERATIONS_PER_DECISION
        or d.loop_outputs_read >= OUTPUTS_READ_PER_DECISION
    ):
        key = timer_key_loop(loop.task_id)
        if not any(isinstance(c, StartTimer) and c.key == key for c in d.commands):
            d.commands.append(StartTimer(key, d.now))
        return False
    step = d.step_of(loop)
    loop = d.state.edit(loop)
    loop.output = loop_entries.with_entry(
        loop.output, loop.iteration, {task.def_ref: task.output for task in body}
    )
    _keep_last(d, loop)
    try:
        again = evaluators.is_true(_condition_value(d, loop, step, body))
    except evaluators.EvaluationError as exc:
        d.fail(loop, TaskStatus.FAILED_WITH_TERMINAL_ERROR, f"loopCondition failed: {exc.message}")
        return True
    limit = d.blueprint.limits.max_loop_iterations
    if again and loop.iteration >= limit:
        d.fail(
            loop,
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            f"DO_WHILE '{loop.ref}' would start iteration {loop.iteration + 1}; "
            f"the limit is {limit} (PODIUM_MAX_LOOP_ITERATIONS)",
        )
        return True
    if again:
        d.loop_iterations += 1
        d.loop_outputs_read += len(loop.output)
        loop.iteration += 1
        # A dict made above in this call (or by keepLastN), which no other state holds:
        # updated in place, where a copy would cost every iteration's output once more.
        loop.output["iteration"] = loop.iteration
        d.schedule(step.loopOver[0], within=loop, loop=(loop.def_ref, loop.iteration))
    else:
        d.finish(loop, TaskStatus.COMPLETED)
    return True


def _current_body(d: Decider, loop: TaskState) -> list[TaskState]:
    """The latest attempts of the tasks of ``loop``'s current iteration, in order.

    They all come after the loop's own task and after every task of its earlier iterations,
    so the search walks back from the newest task only as far as one of those: checking a
    loop costs its iteration's size, not the run's.
    """
    body: list[TaskState] = []
    for task in reversed(d.state.tasks):
        if task.task_id == loop.task_id:
            break
        if inside(task, loop):
            if task.scope_iterations[len(loop.scope_loops)] < loop.iteration:
                break
            if task.is_latest:
                body.append(task)
    body.reverse()
    return body


def _body_outputs(
    d: Decider, loop: TaskState, step: WorkflowTask, body: list[TaskState]
) -> dict[str, Any]:
    """Each body task's latest output (of any iteration), by definition reference name."""
    if any(task.dynamic_step is not None for task in body):
        # A dynamic fork's branches are named at run time: only a full walk finds them all.
        # Only loops with a dynamic fork in their body pay for it.
        return {task.def_ref: task.output for task in d.state.tasks if inside(task, loop)}
    outputs: dict[str, Any] = {}
    found: list[tuple[int, str, TaskState]] = []
    context = d.context()
    for ref in _body_refs(step):
        task = context.latest(ref)
        if task is None:
            continue
        if not inside(task, loop):
            # The latest of that step ran in another loop's scope (an outer iteration):
            # the one this loop ran, if any, is further back: a full walk, only then.
            return {t.def_ref: t.output for t in d.state.tasks if inside(t, loop)}
        found.append((task.seq, ref, task))
    for _, ref, task in sorted(found, key=lambda item: item[0]):
        outputs[ref] = task.output
    return outputs


def _body_refs(step: WorkflowTask) -> list[str]:
    return [nested.taskReferenceName for nested in walk.steps(step.loopOver)]


def _condition_value(d: Decider, loop: TaskState, step: WorkflowTask, body: list[TaskState]) -> Any:
    """Conductor's bindings: the loop's inputs, its output and each body task's latest output."""
    resolved = expressions.resolve(step.inputParameters, d.context())
    bindings: dict[str, Any] = dict(resolved) if isinstance(resolved, dict) else {}
    condition = step.loopCondition or ""
    evaluator = step.evaluatorType or "javascript"
    own = loop.output
    if evaluator.lower() in evaluators.JAVASCRIPT and _reads_only_iteration(
        condition, {loop.def_ref, loop.ref}
    ):
        # The script is handed its bindings as JSON: the whole output, every iteration's
        # entries, would cost more at each iteration, for a script that reads none of them.
        own = {"iteration": loop.output.get("iteration")}
    bindings[loop.def_ref] = bindings[loop.ref] = own
    bindings.update(_body_outputs(d, loop, step, body))
    return evaluators.evaluate(evaluator, condition, bindings)


_DOLLAR_READ = re.compile(
    r"\$\.([A-Za-z_][A-Za-z0-9_]*)"
    r"(\.[A-Za-z_$][A-Za-z0-9_$]*|\[\s*(?:'[^'\\]*'|\"[^\"\\]*\")\s*\])?"
)
_ITERATION = frozenset({".iteration", "['iteration']", '["iteration"]'})
_OPAQUE = re.compile(r"\\|\bthis\b|\bglobalThis\b|\beval\b|\bFunction\b|\bwith\b")


def _reads_only_iteration(condition: str, names: set[str]) -> bool:
    """Whether ``condition`` reads nothing of the loop's own output but ``iteration``.

    Conservative: every ``$`` must start a plain ``$.name`` read, one of the loop's names
    must be followed by ``.iteration`` (or ``['iteration']``), and nothing that could reach
    ``$`` another way may appear; any other script is given the whole output.
    """
    if _OPAQUE.search(condition):
        return False
    reads = list(_DOLLAR_READ.finditer(condition))
    if condition.count("$") != len(reads) + sum(
        (match.group(2) or "").count("$") for match in reads
    ):
        return False
    for match in reads:
        if match.group(1) not in names:
            continue
        if re.sub(r"\s", "", match.group(2) or "") not in _ITERATION:
            return False
        after = condition[match.end() : match.end() + 1]
        if after and (after.isalnum() or after in "_$"):
            return False
    return True


def _keep_last(d: Decider, loop: TaskState) -> None:
    keep = loop.input.get("keepLastN")
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        return
    oldest_kept = loop.iteration - keep + 1
    if oldest_kept <= 1:
        return
    depth = len(loop.scope_loops)
    # A walk over the tasks, but only in a run that keepLastN keeps short.
    d.state.remove_tasks(
        lambda task: inside(task, loop) and task.scope_iterations[depth] < oldest_kept
    )
    loop = d.state.edit(loop)
    loop.output = {
        key: value
        for key, value in loop.output.items()
        if not (key.isdigit() and int(key) < oldest_kept)
    }
