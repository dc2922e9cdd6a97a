"""The one storage seam: what the orchestrator asks of any backend.

A backend runs a *unit of work* — a plain function of a ``StoreTx`` — as one transaction,
so deciding a step and writing everything it implies commit together or not at all. Units of
work may share a commit (group commit) but never see each other half-done. A backend may run a
unit more than once (after a deadlock or a lost race), so a unit must keep its effects in the
transaction and start from scratch each time it is called.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from podium.engine.state import RunState
from podium.store.events_base import EventStoreTx
from podium.store.notifications_base import NotificationStoreTx
from podium.store.schedules_base import ScheduleStoreTx
from podium.store.slos_base import SloStoreTx

__all__ = ["QueueEntry", "RunOrder", "RunQuery", "Store", "StoreTx", "run_order_sql"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QueueEntry:
    task_id: str
    run_id: str
    queue: str
    available_at: int
    response_timeout_ms: int
    lease_owner: str | None
    lease_until: int | None
    poll_count: int
    started_at: int | None
    lease_token: str | None = None
    """A secret handed out with the lease, fresh on every claim: a result that carries it
    comes from this lease and no earlier one. Shown only to the worker that claimed."""
    lease_key: str | None = None
    """The key that claimed the lease ('' with auth off), which a result without the token
    must be sent with; None if the claimer sends the token back, which is then required."""


@dataclass(frozen=True, slots=True)
class RunQuery:
    """Search filters; every one is optional and they combine with AND."""

    name: str | None = None
    statuses: tuple[str, ...] = ()
    correlation_id: str | None = None
    """Runs given this correlation id (a run given none has none, whatever its trace id)."""
    trace_id: str | None = None
    """Runs of this trace: their correlation id, or for a run given none, the trace's."""
    started_after: int | None = None
    started_before: int | None = None
    ended_after: int | None = None
    """Runs that ended at or after this time (epoch ms); a run still going has not ended."""
    ended_before: int | None = None
    start: int = 0
    size: int = 100
    names: tuple[str, ...] = ()
    """Runs of any of these workflows (as well as of ``name``, when both are given)."""
    run_ids: tuple[str, ...] = ()
    """Only these runs."""
    order: tuple[tuple[RunOrder, bool], ...] = ()
    """Columns to sort by, each with whether it runs descending; newest first when empty."""


class RunOrder(StrEnum):
    """The columns a run search may be sorted by (the value is the column)."""

    CREATED = "created_at"
    UPDATED = "updated_at"
    ENDED = "ended_at"
    NAME = "name"
    VERSION = "version"
    STATUS = "status"
    CORRELATION_ID = "correlation_id"
    RUN_ID = "run_id"


def run_order_sql(query: RunQuery) -> str:
    """The ``ORDER BY`` list of ``query``, the same in both dialects; ``run_id`` breaks ties,
    so that pages never overlap. Only ``RunOrder`` columns reach the SQL."""
    order = query.order or ((RunOrder.CREATED, True),)
    parts = [
        f"{RunOrder(column).value} {'DESC' if descending else 'ASC'} NULLS LAST"
        for column, descending in order
    ]
    return ", ".join([*parts, "run_id"])


class StoreTx(EventStoreTx, ScheduleStoreTx, SloStoreTx, NotificationStoreTx, Protocol):
    """Domain operations inside one transaction. Definition bodies are JSON-ready dicts."""

    # definitions
    def put_task_def(self, name: str, body: dict[str, Any], now: int) -> None: ...
    def get_task_def(self, name: str) -> dict[str, Any] | None: ...
    def list_task_defs(self) -> list[dict[str, Any]]: ...
    def delete_task_def(self, name: str) -> bool: ...
    def put_workflow_def(self, name: str, version: int, body: dict[str, Any], now: int) -> None: ...
    def get_workflow_def(self, name: str, version: int | None) -> dict[str, Any] | None: ...
    def list_workflow_defs(self) -> list[dict[str, Any]]: ...
    def delete_workflow_def(self, name: str, version: int) -> bool: ...
    def definitions_generation(self) -> int:
        """A number that changes whenever any task or workflow definition changes."""
        ...

    def put_run_definition(self, key: str, body: dict[str, Any]) -> None: ...
    def get_run_definition(self, key: str) -> dict[str, Any] | None: ...

    # contracts: a stored version never changes; ``version`` is "MAJOR.MINOR.PATCH"
    def put_contract(
        self, kind: str, name: str, semver: tuple[int, int, int], body: dict[str, Any], now: int
    ) -> bool:
        """Store a contract version unless that version exists; whether it was stored."""
        ...

    def get_contract(self, kind: str, name: str, version: str | None) -> dict[str, Any] | None:
        """One version, or the highest when ``version`` is None."""
        ...

    def list_contract_versions(self, kind: str, name: str) -> list[str]:
        """Every stored version of one contract, lowest first."""
        ...

    def list_contracts(self, kind: str | None, *, latest_only: bool) -> list[dict[str, Any]]:
        """Contract bodies by kind, name and version (only the highest of each if asked)."""
        ...

    # runs
    def insert_run(self, state: RunState, definition_key: str) -> None: ...
    def update_run(self, state: RunState) -> None: ...
    def set_run_definition(self, run_id: str, definition_key: str, version: int) -> None: ...
    def get_run(self, run_id: str, *, for_update: bool = False) -> tuple[RunState, str] | None:
        """The run and its definition key. ``for_update`` holds the run until commit, so no
        other instance decides for it meanwhile (a backend with one writer may ignore it)."""
        ...

    def delete_run(self, run_id: str) -> bool: ...
    def search_runs(self, query: RunQuery, *, tasks: bool = True) -> tuple[int, list[RunState]]:
        """Runs matching ``query``: without their tasks unless ``tasks`` (reading a run's
        tasks costs a row each, and a summary shows none)."""

    def add_task_ids(self, run_id: str, task_ids: list[str]) -> None: ...
    def run_of_task(self, task_id: str) -> str | None: ...
    def runs_of_tasks(self, task_ids: Collection[str]) -> dict[str, str]:
        """The run id of each of ``task_ids`` that names a task, in one query."""
        ...

    def task_run_for_update(
        self, task_id: str
    ) -> tuple[str, tuple[RunState, str] | None, QueueEntry | None] | None:
        """A task's run id, its run locked as ``get_run(for_update=True)`` locks it (None if
        the run is gone), and the task's queue row as it stands once the run is held; None
        if no task has that id."""
        ...

    def get_idempotent_run(self, name: str, key: str) -> str | None: ...
    def put_idempotent_run(self, name: str, key: str, run_id: str) -> None: ...
    def remove_ended_runs(self, ended_before: int, limit: int, *, archive: bool, now: int) -> int:
        """Delete (or move to the archive) up to ``limit`` runs that ended before
        ``ended_before``, with their tasks and idempotency keys; returns how many went."""
        ...

    def remove_settled_events(self, published_before: int, limit: int) -> int:
        """Delete up to ``limit`` events published before ``published_before`` that no
        pending delivery or broker send needs, with their deliveries; returns how many."""
        ...

    # queue
    def enqueue(
        self,
        task_id: str,
        run_id: str,
        queue: str,
        available_at: int,
        response_timeout_ms: int,
        priority: int = 0,
    ) -> None:
        """Make the task claimable; a claim takes higher ``priority`` (0-99) first."""
        ...

    def dequeue(self, task_id: str) -> None: ...
    def queue_entry(self, task_id: str) -> QueueEntry | None: ...
    def queue_entries(self, run_id: str) -> list[QueueEntry]: ...
    def claim(
        self,
        queue: str,
        worker_id: str,
        count: int,
        now: int,
        *,
        lease_key: str | None,
        known_run: str | None = None,
    ) -> list[tuple[QueueEntry, tuple[RunState, str] | None]]:
        """Lease up to ``count`` ready tasks of ``queue`` to ``worker_id``, highest priority
        and then oldest first,
        each with a new random ``lease_token`` and the ``lease_key`` given, and with its run
        and definition key, read (not locked) as the claim is made; None for ``known_run``
        (the caller holds it already) or a run that is gone."""
        ...

    def extend_lease(self, task_id: str, lease_until: int) -> None: ...
    def expired_leases(self, now: int, limit: int) -> list[QueueEntry]:
        """Up to ``limit`` leases that ran out by ``now``, the oldest first (not locked)."""
        ...

    def release_lease(self, task_id: str, available_at: int | None = None) -> None:
        """End the task's lease without ending the task: it waits on its queue again, to be
        claimed from ``available_at`` (unchanged when None)."""
        ...

    def next_available_at(self, now: int) -> int | None: ...
    def next_lease_expiry(self) -> int | None: ...
    def queues_ready_between(self, after: int, until: int) -> list[str]: ...
    def queue_sizes(self, queues: list[str] | None) -> dict[str, int]: ...
    def queue_backlog(self, now: int) -> dict[str, tuple[int, int]]:
        """Each queue with tasks ready by ``now`` and not handed out: how many, and when
        the one waiting longest became ready (epoch ms)."""
        ...

    def announce_ready(self, queues: Collection[str]) -> None:
        """Tell every instance, once this transaction commits, that ``queues`` have tasks."""
        ...

    # services and resilience
    def put_service(self, name: str, body: dict[str, Any], now: int) -> None:
        """Register or replace a service (bumps the definitions generation)."""
        ...

    def get_service(self, name: str) -> dict[str, Any] | None: ...
    def list_services(self) -> list[dict[str, Any]]: ...
    def delete_service(self, name: str) -> bool: ...
    def get_breaker(self, service: str, *, for_update: bool = False) -> dict[str, Any] | None: ...
    def put_breaker(self, service: str, body: dict[str, Any], now: int) -> None: ...
    def list_breakers(self) -> dict[str, dict[str, Any]]: ...
    def add_breaker_event(
        self, service: str, at: int, from_state: str, to_state: str, reason: str
    ) -> None: ...
    def breaker_events(self, service: str, limit: int) -> list[dict[str, Any]]:
        """The latest transitions of a service's breaker, newest first."""
        ...

    def lock_queue(self, queue: str) -> None:
        """Hold the queue's dispatch limits until commit (a single-writer backend may no-op)."""
        ...

    def count_leased(self, queue: str) -> int: ...
    def rate_window(self, queue: str) -> tuple[int, int] | None:
        """``(window_start, used)`` of the queue's current rate-limit window, if any."""
        ...

    def put_rate_window(self, queue: str, window_start: int, used: int) -> None: ...
    def get_cached_result(self, key: str, now: int) -> dict[str, Any] | None: ...
    def put_cached_result(self, key: str, body: dict[str, Any], expires_at: int) -> None: ...
    def defer(self, task_id: str, available_at: int) -> None:
        """Give a claimed task back to its queue, claimable again from ``available_at``."""
        ...

    # authentication
    def put_api_key(
        self, key_id: str, secret_hash: str, body: dict[str, Any], now: int
    ) -> None: ...
    def get_api_key(self, key_id: str) -> tuple[str, dict[str, Any], int | None] | None:
        """``(secret_hash, body, disabled_at)`` of a key."""
        ...

    def list_api_keys(self) -> list[tuple[str, dict[str, Any], int, int | None]]:
        """``(key_id, body, created_at, disabled_at)`` of every key, oldest first."""
        ...

    def disable_api_key(self, key_id: str, now: int) -> bool: ...
    def auth_secret(self, candidate: str) -> str:
        """The token-signing secret; ``candidate`` becomes it if there is none yet."""
        ...

    # timers
    def put_timer(self, run_id: str, key: str, due_at: int) -> None: ...
    def delete_timer(self, run_id: str, key: str) -> None: ...
    def take_due_timers(self, now: int, limit: int) -> list[tuple[str, str]]: ...
    def next_timer_due(self) -> int | None: ...


class Store(Protocol):
    """A backend. ``write`` runs ``fn`` in a transaction and commits before returning."""

    name: str
    side_by_side: bool
    """Whether units run side by side (PostgreSQL's pool), each in its own transaction, rather
    than one after another on one writer that commits the units waiting together (SQLite)."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def write(self, fn: Callable[[StoreTx], T]) -> T: ...
    async def read(self, fn: Callable[[StoreTx], T]) -> T: ...
    async def ping(self) -> None:
        """Return if the store can take units now, else raise ``StoreError`` (the readiness
        check of ``/api/health``); answers within a second or two either way."""
        ...

    def subscribe(self, on_ready: Callable[[str | None], None]) -> None:
        """Call ``on_ready(queue)`` when another instance announces a queue has tasks, and
        ``on_ready(None)`` when announcements may have been missed (wake every poll)."""
        ...
