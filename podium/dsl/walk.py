"""The one walk of a workflow definition: every step, at any depth, and where it sits.

A step nests others in four places: a SWITCH's or DECISION's ``decisionCases`` and
``defaultCase``, a FORK_JOIN's ``forkTasks`` and a DO_WHILE's ``loopOver``. :func:`branches`
names them, and everything that goes through a definition (validation, lint, contracts, the
engine's blueprint, the server's limits) goes through them here, so that a kind of nesting
cannot be known to one and missed by another. A step's ``compensation`` is part of the step,
reached through :func:`compensations`; an inline sub-workflow's ``workflowDefinition`` is
another definition, run as a child with reference names of its own, so the walk does not
enter it (:func:`inline_definitions` lists them for the checks that do).

The walk keeps its own stack, so a deeply nested definition costs a loop, not recursion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal, NamedTuple

from podium.dsl.models import Compensation, WorkflowTask

__all__ = [
    "BranchKind",
    "Place",
    "branches",
    "compensations",
    "inline_definitions",
    "raw_step",
    "steps",
    "walk",
]

BranchKind = Literal["top", "case", "default", "fork", "loop"]
Keys = tuple[str | int, ...]


class Place(NamedTuple):
    """A step and where it sits: the list holding it, its parent step and the parent's field.

    A tuple rather than a frozen dataclass: the blueprint makes one per step of a definition,
    and a tuple is made several times faster."""

    step: WorkflowTask
    siblings: list[WorkflowTask]
    position: int
    parent: Place | None
    field: str
    """The field of ``parent`` holding ``siblings`` (``loopOver``, ``decisionCases.yes``,
    ``forkTasks[1]``), or for a top-level step the root's name (``tasks``)."""
    kind: BranchKind
    keys: Keys
    """``field`` as the keys that lead to ``siblings`` in the parent's JSON:
    ``("decisionCases", "yes")``, ``("forkTasks", 1)``; ``()`` for a top-level step."""

    @property
    def path(self) -> str:
        """Where the step is, as errors name it: ``tasks[2].loopOver[0]``."""
        parts = [f"{self.field}[{self.position}]"]
        parts.extend(f"{p.field}[{p.position}]" for p in self.parents)
        return ".".join(reversed(parts))

    @property
    def parents(self) -> Iterator[Place]:
        """The places of the steps this one is nested in, innermost first."""
        current = self.parent
        while current is not None:
            yield current
            current = current.parent

    @property
    def loops(self) -> list[str]:
        """The reference names of the DO_WHILEs the step runs in, innermost first."""
        found: list[str] = []
        inner: Place = self
        for outer in self.parents:
            if inner.kind == "loop":
                found.append(outer.step.taskReferenceName)
            inner = outer
        return found


def branches(step: WorkflowTask) -> Iterator[tuple[Keys, BranchKind, list[WorkflowTask]]]:
    """The task lists ``step`` nests, each with the keys leading to it in the step's JSON
    (``("forkTasks", 0)``) and what kind of branch it is."""
    for case, tasks in step.decisionCases.items():
        yield ("decisionCases", case), "case", tasks
    if step.defaultCase:
        yield ("defaultCase",), "default", step.defaultCase
    for j, tasks in enumerate(step.forkTasks):
        yield ("forkTasks", j), "fork", tasks
    if step.loopOver:
        yield ("loopOver",), "loop", step.loopOver


def _field(keys: Keys) -> str:
    """``("forkTasks", 1)`` as errors name it: ``forkTasks[1]``; ``decisionCases.yes``."""
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in keys)[1:]


def walk(tasks: list[WorkflowTask], root: str = "tasks") -> Iterator[Place]:
    """Every step of ``tasks`` and of what they nest, depth first in document order (a step
    before what it nests, a switch's cases before its default, then fork branches, then a
    loop's body)."""
    pending: list[Place] = [
        Place(step, tasks, i, None, root, "top", ()) for i, step in reversed(list(enumerate(tasks)))
    ]
    while pending:
        place = pending.pop()
        yield place
        step = place.step
        if not (step.decisionCases or step.defaultCase or step.forkTasks or step.loopOver):
            continue
        nested: list[Place] = []
        for keys, kind, siblings in branches(step):
            field = _field(keys)
            nested.extend(
                Place(child, siblings, i, place, field, kind, keys)
                for i, child in enumerate(siblings)
            )
        pending.extend(reversed(nested))


def steps(tasks: list[WorkflowTask]) -> Iterator[WorkflowTask]:
    """Every step of ``tasks`` at any depth, in the order of :func:`walk`, without places."""
    pending = list(reversed(tasks))
    while pending:
        step = pending.pop()
        yield step
        if step.decisionCases or step.defaultCase or step.forkTasks or step.loopOver:
            nested = [child for _, _, siblings in branches(step) for child in siblings]
            pending.extend(reversed(nested))


def compensations(places: Iterable[Place]) -> Iterator[tuple[str, Place, Compensation]]:
    """The compensation of each of ``places`` that declares one, with its path
    (``tasks[1].forkTasks[0][0].compensation``)."""
    for place in places:
        if place.step.compensation is not None:
            yield f"{place.path}.compensation", place, place.step.compensation


def inline_definitions(places: Iterable[Place]) -> Iterator[tuple[str, Place, dict[str, Any]]]:
    """The inline sub-workflow definitions of ``places``, as their child runs them, with the
    path of each (``tasks[0].subWorkflowParam.workflowDefinition``)."""
    for place in places:
        params = place.step.subWorkflowParam
        body = params.inline_definition(place.step.name) if params is not None else None
        if body is not None:
            yield f"{place.path}.subWorkflowParam.workflowDefinition", place, body


def raw_step(tasks: Any, place: Place) -> Any:
    """The JSON ``place``'s step was read from, in ``tasks`` (the definition's ``tasks`` as it
    was sent), for checks of what the model does not keep; None where it has another shape."""
    chain = [place, *place.parents]
    node: Any = tasks
    for at in reversed(chain):
        for key in at.keys:
            node = _child(node, key)
        node = _child(node, at.position)
    return node


def _child(node: Any, key: str | int) -> Any:
    if isinstance(key, int):
        return node[key] if isinstance(node, list) and key < len(node) else None
    return node.get(key) if isinstance(node, dict) else None
