"""The state of one workflow run, as the engine sees it and the store keeps it."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from copy import deepcopy
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

import orjson

from podium.engine.task_index import TaskIndex
from podium.engine.task_state import (
    ACTIVE_TASK_STATUSES,
    TaskChanges,
    TaskState,
    TaskStatus,
    shallow_copier,
)

__all__ = [
    "ACTIVE_TASK_STATUSES",
    "TERMINAL_RUN_STATUSES",
    "RunState",
    "RunStatus",
    "TaskChanges",
    "TaskState",
    "TaskStatus",
    "derive_id",
    "run_scoped_id",
]


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    TERMINATED = "TERMINATED"
    PAUSED = "PAUSED"
    COMPENSATING = "COMPENSATING"
    """The run failed (or was terminated with compensate) and is undoing its completed steps."""
    COMPENSATED = "COMPENSATED"
    COMPENSATION_FAILED = "COMPENSATION_FAILED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_RUN_STATUSES


TERMINAL_RUN_STATUSES = frozenset(
    {
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.TIMED_OUT,
        RunStatus.TERMINATED,
        RunStatus.COMPENSATED,
        RunStatus.COMPENSATION_FAILED,
    }
)


_ID_NAMESPACE = uuid.UUID("6f2b1e0c-4a47-4c55-9d3e-2f6a0c1d9b01")
_NAMESPACE_BYTES = _ID_NAMESPACE.bytes


def derive_id(parent_id: str, salt: str) -> str:
    """A stable id derived from ``parent_id``: the engine may not draw random numbers."""
    # uuid.uuid5 by hand: the same ids, without building a UUID object on every step.
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + f"{parent_id}/{salt}".encode()).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return _uuid_text(digest)


def _uuid_text(digest: bytearray) -> str:
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def run_scoped_id(state: RunState, salt: str) -> str:
    """The id of something a run makes (a task attempt, its failure workflow), from ``salt``.

    Ids are still derived, so that a decision made twice makes the same ids, but from the
    run's ``id_secret`` too: a task id is what a worker shows to act on a task, and one derived
    from the run id alone could be computed by anyone who had seen the run id. Runs stored
    before they had a secret keep deriving their ids as they always did.
    """
    if state.id_secret is None:
        return derive_id(state.run_id, salt)
    mac = hmac.new(bytes.fromhex(state.id_secret), f"{state.run_id}/{salt}".encode(), "sha256")
    digest = bytearray(mac.digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: RFC 9562's custom layout
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return _uuid_text(digest)


@dataclass(slots=True)
class RunState(TaskIndex):
    """A workflow run: its status, data and every task attempt so far.

    Its tasks are read through ``task``/``latest``/``active_tasks`` and changed through
    ``edit``/``add_task``/``remove_tasks`` (see ``TaskIndex``): the task objects themselves
    are shared, sealed, with the states it was cloned from and to.
    """

    run_id: str
    name: str
    version: int
    status: RunStatus
    created_at: int
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None
    """The caller's correlation id, or Podium's trace id for a run started without one (see
    ``trace_only``): events, sub-workflows and ``/api/trace`` follow it either way."""
    trace_only: bool = False
    """The run was started without a correlation id: ``correlation_id`` is only its trace id
    (the workflow id of the run that began the trace), and the API shows a null
    ``correlationId``, as Conductor does; the store indexes it as a trace id only, so no
    correlation search finds the run."""
    idempotency_key: str | None = None
    parent_run_id: str | None = None
    parent_task_id: str | None = None
    reason: str | None = None
    start_at: int | None = None
    end_at: int | None = None
    updated_at: int | None = None
    failed_refs: list[str] = field(default_factory=list)
    tasks: list[TaskState] = field(default_factory=list)
    next_seq: int = 1
    restarts: int = 0
    skips: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Steps an operator asked to skip before the run reached them: ref -> input and output."""
    depth: int = 0
    """How many SUB_WORKFLOW parents this run has (0 for a run started on its own)."""
    compensation: dict[str, Any] | None = None
    """The saga record: why compensation began and each step undone (see engine/compensation)."""
    id_secret: str | None = None
    """128 random bits (hex) the server draws when it makes the run, never shown by the API:
    task and child ids are derived from them (``run_scoped_id``). None in runs stored before."""
    created_by: str | None = None
    """The id of the API key that started the run (None with auth off, or for child runs)."""
    inline_definition: str | None = None
    """The content hash of the definition, when the run was started with an inline one."""
    task_to_domain: dict[str, str] = field(default_factory=dict)
    """Conductor's ``taskToDomain``: task type (or ``*``) -> domain list (``engine/domains``)."""
    priority: int = 0
    """0-99: a higher one's tasks are handed out first within a queue."""
    schedule_name: str | None = None
    """The schedule that started the run, if one did."""
    scheduled_time: int | None = None
    """The nominal time (epoch ms, before jitter) of the schedule's tick that started it."""

    def __post_init__(self) -> None:
        self._start_tracking()

    def clone(self) -> RunState:
        """A copy the engine may change. It shares the task objects, sealed, and copies the
        list of them, the indexes and the small run-level containers, not each task."""
        copy = _copy_run(self)
        self._share_into(copy)
        copy.failed_refs = list(self.failed_refs)
        copy.variables = dict(self.variables)
        copy.skips = dict(self.skips)
        if self.compensation is not None:
            # The saga record is nested; the engine may update a step's entry in place.
            copy.compensation = deepcopy(self.compensation)
        return copy

    @property
    def shown_correlation_id(self) -> str | None:
        """The correlation id the API and expressions show: None when only a trace id."""
        return None if self.trace_only else self.correlation_id

    # ---- the store's seam ---------------------------------------------------------------

    def to_json(self) -> bytes:
        """``to_dict`` encoded, as the store keeps it.

        orjson reads the dataclasses' fields itself, in the order ``to_dict`` gives them, so
        the bytes are the same without building a dict per task first: every step of a run
        writes the whole run, and for wide runs building those dicts cost more than encoding.
        """
        return orjson.dumps(self)

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _RUN_FIELDS}
        data["tasks"] = [task.to_dict() for task in self.tasks]
        return data

    def header_dict(self) -> dict[str, Any]:
        """Every field but the tasks: what a store keeps in the run's own row."""
        data = {name: getattr(self, name) for name in _RUN_FIELDS}
        del data["tasks"]
        return data

    @classmethod
    def from_parts(cls, header: dict[str, Any], tasks: list[TaskState]) -> RunState:
        """A run from its row (``header_dict``) and its tasks, as committed."""
        values = {k: v for k, v in header.items() if k in _RUN_FIELDS and k != "tasks"}
        values["status"] = RunStatus(values["status"])
        state = cls(**values, tasks=tasks)
        state.mark_committed()
        return state

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunState:
        values = {k: v for k, v in data.items() if k in _RUN_FIELDS}
        values["status"] = RunStatus(values["status"])
        values["tasks"] = [TaskState.from_dict(task) for task in values.get("tasks", [])]
        return cls(**values)


_RUN_FIELDS = tuple(f.name for f in fields(RunState))
_copy_run = shallow_copier(RunState, _RUN_FIELDS)
