"""The pure core: ``decide(state, event, blueprint) -> Decision``. No IO, no clock."""

from podium.engine.blueprint import Blueprint
from podium.engine.decider import decide
from podium.engine.events import Decision
from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus

__all__ = ["Blueprint", "Decision", "RunState", "RunStatus", "TaskState", "TaskStatus", "decide"]
