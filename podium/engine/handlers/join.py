"""JOIN: which branches a join waits for, and its completion once they all succeeded."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from podium.dsl.models import TaskType, WorkflowTask
from podium.engine.handlers.base import TaskHandler
from podium.engine.state import TaskState, TaskStatus

if TYPE_CHECKING:
    from podium.engine.decision_context import DecisionContext

__all__ = ["JoinHandler", "check_join", "join_refs"]


def join_refs(d: DecisionContext, join: TaskState) -> list[str]:
    """The reference names a JOIN waits for, as they are in this run."""
    named, suffix = _named(d, join)
    return [str(ref) + suffix for ref in named]


def _named(d: DecisionContext, join: TaskState) -> tuple[Sequence[Any], str]:
    """What the join names, and the suffix that makes each name a ref of this run: a dynamic
    fork's refs are in the join's input, whole; a static join's, in its step."""
    before = d.blueprint.previous(join.def_ref)
    if before is not None and before.type == TaskType.FORK_JOIN_DYNAMIC:
        return join.input.get("joinOn") or [], ""
    return d.step_of(join).joinOn, join.suffix


def check_join(d: DecisionContext, join: TaskState) -> bool:
    """Complete ``join`` if every branch it waits for succeeded; whether it did."""
    # Every finished branch of a wide fork checks the join again. Looking from the branch
    # that held it back last time (the state's hint) finds one still running at once, so a
    # fork of n branches costs O(n) checks in all rather than O(n) each; all of them are
    # looked at, in one go, before the join completes.
    named, suffix = _named(d, join)
    state = d.state
    count = len(named)
    start = state.hint(join.task_id)
    start = start if start < count else 0
    for i in itertools.chain(range(start, count), range(start)):
        task = state.latest(str(named[i]) + suffix)
        if task is None or not task.status.is_success:
            state.set_hint(join.task_id, i)
            return False
    state.drop_hint(join.task_id)
    outputs: dict[str, Any] = {}
    for ref in join_refs(d, join):
        done = state.latest(ref)
        assert done is not None  # every one was just found
        outputs[ref] = done.output
    join = state.edit(join)
    join.output = outputs
    d.finish(join, TaskStatus.COMPLETED)
    return True


class JoinHandler(TaskHandler):
    waits_on_others = True
    input_made_at_run_time = True

    def start(
        self, d: DecisionContext, task: TaskState, step: WorkflowTask, retry_of: TaskState | None
    ) -> None:
        task = d.state.edit(task)
        task.status = TaskStatus.IN_PROGRESS
        task.start_at = d.now

    def check(self, d: DecisionContext, task: TaskState) -> bool:
        return check_join(d, task)
