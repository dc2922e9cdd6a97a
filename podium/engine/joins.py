"""JOIN: which branches a join waits for, and its completion once they all succeeded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium.dsl.models import TaskType
from podium.engine.state import TaskState, TaskStatus

if TYPE_CHECKING:
    from podium.engine.decider import Decider

__all__ = ["check_join", "join_refs"]


def join_refs(d: Decider, join: TaskState) -> list[str]:
    """The reference names a JOIN waits for, as they are in this run."""
    before = d.blueprint.previous(join.def_ref)
    if before is not None and before.type == TaskType.FORK_JOIN_DYNAMIC:
        return [str(ref) for ref in join.input.get("joinOn") or []]
    return [ref + join.suffix for ref in d.step_of(join).joinOn]


def check_join(d: Decider, join: TaskState) -> bool:
    """Complete ``join`` if every branch it waits for succeeded; whether it did."""
    # Every finished branch of a wide fork checks the join again: a look-up per joined
    # ref in the state's index costs the fork's width, not the run's size.
    outputs: dict[str, Any] = {}
    for ref in join_refs(d, join):
        task = d.state.latest(ref)
        if task is None or not task.status.is_success:
            return False
        outputs[ref] = task.output
    join = d.state.edit(join)
    join.output = outputs
    d.finish(join, TaskStatus.COMPLETED)
    return True
