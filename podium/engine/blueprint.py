"""A workflow definition indexed for the engine: where each step sits and what follows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from podium.dsl import walk
from podium.dsl.models import TaskType, WorkflowDef, WorkflowTask
from podium.engine.limits import EngineLimits
from podium.engine.state import TaskState

__all__ = ["Blueprint", "Location"]

OwnerKind = Literal["top", "switch", "fork", "loop"]
_OWNER_KINDS: dict[walk.BranchKind, OwnerKind] = {
    "top": "top",
    "case": "switch",
    "default": "switch",
    "fork": "fork",
    "loop": "loop",
}


@dataclass(frozen=True, slots=True)
class Location:
    task: WorkflowTask
    container: tuple[WorkflowTask, ...]
    index: int
    owner: str | None
    owner_kind: OwnerKind


class Blueprint:
    """Answers "what comes after this step" for one immutable definition."""

    __slots__ = ("definition", "limits", "locations")

    def __init__(self, definition: WorkflowDef, limits: EngineLimits | None = None) -> None:
        self.definition = definition
        self.limits = limits or EngineLimits()
        self.locations: dict[str, Location] = {}
        containers: dict[int, tuple[WorkflowTask, ...]] = {}
        for place in walk.walk(definition.tasks):
            container = containers.get(id(place.siblings))
            if container is None:
                container = containers[id(place.siblings)] = tuple(place.siblings)
            owner = place.parent.step.taskReferenceName if place.parent is not None else None
            self.locations[place.step.taskReferenceName] = Location(
                place.step, container, place.position, owner, _OWNER_KINDS[place.kind]
            )

    def task(self, ref: str) -> WorkflowTask:
        return self.locations[ref].task

    def step_of(self, task: TaskState) -> WorkflowTask:
        """The step ``task`` is an attempt of: in the definition, or made up by a dynamic fork
        (``def_ref`` drops a loop iteration's ``__N`` from the reference name)."""
        if task.dynamic_step is not None:
            return WorkflowTask.model_validate(task.dynamic_step)
        return self.task(task.def_ref)

    def first(self) -> WorkflowTask:
        return self.definition.tasks[0]

    def next_after(self, ref: str) -> list[WorkflowTask]:
        """The step that follows ``ref`` once it and everything nested in it are done.

        An empty list means nothing follows: the end of the workflow, the end of a fork
        branch, whose JOIN was scheduled together with the fork, or the end of a loop's body,
        after which the DO_WHILE decides whether to go round again.
        """
        loc = self.locations[ref]
        if loc.index + 1 < len(loc.container):
            return [loc.container[loc.index + 1]]
        if loc.owner is not None and loc.owner_kind == "switch":
            return self.next_after(loc.owner)
        return []

    def successors(self, ref: str, selected_case: str | None = None) -> list[WorkflowTask]:
        """What to schedule when ``ref`` has completed."""
        task = self.task(ref)
        kind = task.type
        if kind in (TaskType.SWITCH, TaskType.DECISION):
            case = task.decisionCases.get(selected_case or "", None)
            if not case:  # as in Conductor, an empty matching case also falls to the default
                case = task.defaultCase
            return [case[0]] if case else self.next_after(ref)
        if kind == TaskType.FORK_JOIN:
            heads = [branch[0] for branch in task.forkTasks if branch]
            return heads + self.next_after(ref)
        return self.next_after(ref)

    def previous(self, ref: str) -> WorkflowTask | None:
        """The step just before ``ref`` in the same list, if any."""
        loc = self.locations[ref]
        return loc.container[loc.index - 1] if loc.index > 0 else None
