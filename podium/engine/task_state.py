"""One task attempt of a run, and the sealed form in which run states share it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, TypeVar

__all__ = [
    "ACTIVE_TASK_STATUSES",
    "TaskChanges",
    "TaskState",
    "TaskStatus",
    "copy_task",
    "is_sealed",
    "seal",
    "shallow_copier",
]


class TaskStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    FAILED = "FAILED"
    FAILED_WITH_TERMINAL_ERROR = "FAILED_WITH_TERMINAL_ERROR"
    TIMED_OUT = "TIMED_OUT"
    CANCELED = "CANCELED"
    SKIPPED = "SKIPPED"

    @property
    def is_active(self) -> bool:
        return self in ACTIVE_TASK_STATUSES

    @property
    def is_success(self) -> bool:
        """Whether the workflow may go on past a task in this status."""
        return self in (
            TaskStatus.COMPLETED,
            TaskStatus.COMPLETED_WITH_ERRORS,
            TaskStatus.SKIPPED,
        )


ACTIVE_TASK_STATUSES = frozenset({TaskStatus.SCHEDULED, TaskStatus.IN_PROGRESS})


@dataclass(slots=True)
class TaskState:
    """One attempt of one step. A retry is a new TaskState with ``retry_count + 1``."""

    task_id: str
    ref: str
    name: str
    type: str
    status: TaskStatus
    seq: int
    scheduled_at: int
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    retry_count: int = 0
    queue: str | None = None
    """The queue a worker (or the HTTP executor) polls, for tasks that run outside the engine."""
    available_at: int = 0
    start_at: int | None = None
    end_at: int | None = None
    update_at: int | None = None
    worker_id: str | None = None
    poll_count: int = 0
    reason: str | None = None
    retried: bool = False
    retried_task_id: str | None = None
    advanced: bool = False
    """Whether the steps after this one have been scheduled."""
    sub_workflow_id: str | None = None
    callback_after_s: int = 0
    logs: list[dict[str, Any]] = field(default_factory=list)
    iteration: int = 0
    """A DO_WHILE's current iteration; for a task inside loops, the innermost loop's."""
    scope_loops: list[str] = field(default_factory=list)
    """The DO_WHILE steps this task runs inside, outermost first (their definition refs)."""
    scope_iterations: list[int] = field(default_factory=list)
    """The iteration of each of ``scope_loops``; each adds ``__<n>`` to the reference name."""
    dynamic_step: dict[str, Any] | None = None
    """The step a dynamic fork made up at run time, as Conductor JSON; it is in no definition."""
    domain: str | None = None
    """The task domain the run's ``taskToDomain`` put this worker task in (see
    ``engine/domains``); its queue is then ``<domain>:<type>``."""
    secrets: dict[str, Any] | None = None
    """Where the definition's template put ``${workflow.secrets.NAME}`` in this HTTP task's
    input, and the origin its uri names (see ``engine/secret_refs``); never a secret's value."""

    @property
    def is_latest(self) -> bool:
        return not self.retried

    @property
    def suffix(self) -> str:
        """What loop iterations added to the step's reference name: ``__2``, ``__1__3``."""
        if not self.scope_iterations:  # most steps run in no loop; asked on every decision
            return ""
        return "".join(f"__{n}" for n in self.scope_iterations)

    @property
    def def_ref(self) -> str:
        """The reference name of the step as written in the definition (or the dynamic fork)."""
        suffix = self.suffix
        return self.ref[: -len(suffix)] if suffix else self.ref

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose: values are plain JSON data, serialised straight away.
        return {name: getattr(self, name) for name in _TASK_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskState:
        try:
            task = cls(**data)  # the common case: written by to_dict of this version
        except TypeError:  # written by another version: keep the fields this one knows
            task = cls(**{k: v for k, v in data.items() if k in _TASK_FIELDS})
        task.status = TaskStatus(task.status)
        return task


@dataclass(frozen=True, slots=True)
class TaskChanges:
    """What a store must write of a run's tasks since the run was last committed."""

    changed: tuple[TaskState, ...]
    """Tasks added or edited since then, in ``seq`` order."""
    removed: tuple[str, ...]
    """Ids of tasks that were committed and are gone from the run."""
    rewrite: bool
    """The changes are not known: write every task in ``changed`` and remove every other."""


class _SealedTask(TaskState):
    """A task shared by run states: reading is as fast as ever, writing raises.

    Sealing swaps a task's class to this one (same slots, so Python allows it, in O(1));
    ``RunState.edit`` hands out an unsealed copy to change.
    """

    __slots__ = ()
    # orjson recognises a dataclass by the attribute in the class's own namespace.
    __dataclass_fields__ = TaskState.__dataclass_fields__

    def __new__(cls, *args: Any, **kwargs: Any) -> TaskState:  # type: ignore[misc]
        # ``dataclasses.replace`` makes a task of the same class: a new one is nobody's
        # else, so it is a plain task (not being an instance of cls, it skips __init__).
        return TaskState(*args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"task {self.task_id} ({self.ref}) is shared between run states and sealed: "
            f"take state.edit(task) before setting {name}"
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"task {self.task_id} ({self.ref}) is sealed: cannot delete {name}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TaskState):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _TASK_FIELDS)

    __hash__ = None  # type: ignore[assignment]  # as TaskState's: equal by value, mutable

    def __reduce__(self) -> tuple[Any, ...]:
        # copy, deepcopy and pickle rebuild an unsealed task: a copy is nobody else's.
        return (_plain_task, (self.to_dict(),))


def _plain_task(data: dict[str, Any]) -> TaskState:
    return TaskState(**data)


def seal(task: TaskState) -> None:
    """Make ``task`` read-only from now on, in O(1), as every state that shares it needs."""
    task.__class__ = _SealedTask


def is_sealed(task: TaskState) -> bool:
    return type(task) is _SealedTask


_TASK_FIELDS = tuple(f.name for f in fields(TaskState))

_D = TypeVar("_D")


def shallow_copier(cls: type[_D], names: tuple[str, ...]) -> Callable[[_D], _D]:
    """A function that copies an instance of ``cls`` field by field, without ``__init__``.

    Every decision copies the run, and every edit a task; ``dataclasses.replace`` goes through
    ``__init__`` with every field as a keyword and cost fifteen times as much. The copier is
    written out as straight-line code, as ``dataclasses`` writes ``__init__``.
    """
    lines = ["def copy(source, _new=object.__new__, _cls=cls):", "    target = _new(_cls)"]
    lines += [f"    target.{name} = source.{name}" for name in names]
    lines.append("    return target")
    namespace: dict[str, Any] = {"cls": cls}
    exec("\n".join(lines), namespace)  # built from the dataclass's own field names only
    copier: Callable[[_D], _D] = namespace["copy"]
    return copier


copy_task = shallow_copier(TaskState, _TASK_FIELDS)
"""An unsealed copy of a task, field by field: what ``RunState.edit`` hands out."""
