"""The domain operations of a PostgreSQL transaction (see ``store.base.StoreTx``).

Most operations are shared with SQLite (``definitions_tx``, ``queue_tx``, ``services_tx``,
``events_tx``, ``schedules_tx``); this transaction sends their statements (``_execute`` and
``_write``) and keeps what PostgreSQL does its own way.

Several instances write at once, so where SQLite relies on its single writer this relies on
row locks: a decision locks its run's row first (``get_run(for_update=True)``), claims and
sweeps skip rows another transaction holds (``SKIP LOCKED``), and the sweeper locks a run
before it touches that run's timers, the same order every decision uses.

Writes whose result nobody reads are queued (``_trips.later``) and sent with the next
statement that must be answered, or with COMMIT (see ``postgres_trips``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import psycopg

from podium.engine.state import RunState
from podium.store.base import QueueEntry
from podium.store.definitions_tx import GENERATION_SQL as _GENERATION, DefinitionsTxMixin
from podium.store.events_tx import EventsTxMixin
from podium.store.postgres_trips import Params, RoundTrips
from podium.store.queue_tx import (
    QUEUE_COLUMNS as _QUEUE_COLUMNS,
    QueueTxMixin,
    queue_entry_of as _entry,
)
from podium.store.ready_notes import note_for
from podium.store.run_cache import RunCache
from podium.store.runs_tx import RunsTxMixin, TaskRow
from podium.store.schedules_tx import SchedulesTxMixin
from podium.store.services_tx import ServicesTxMixin
from podium.store.slos_tx import SlosTxMixin

__all__ = ["PostgresTx"]


_ROWS_AS_VALUES = 4
"""Up to this many task rows are written as a VALUES list; more as arrays (``unnest``)."""


class PostgresTx(
    RunsTxMixin,
    DefinitionsTxMixin,
    QueueTxMixin,
    ServicesTxMixin,
    EventsTxMixin,
    SchedulesTxMixin,
    SlosTxMixin,
):
    """Runs on one pooled connection, inside a transaction the store opened."""

    __slots__ = (
        "_generation",
        "_generation_ahead",
        "_trips",
        "channel",
        "conn",
        "origin",
    )
    _POSTGRES = True

    conn: psycopg.Connection[Any]

    def __init__(
        self, conn: psycopg.Connection[Any], channel: str, origin: str, runs: RunCache
    ) -> None:
        """``origin`` names the store in its notes, so that it can skip its own; ``runs`` is
        the store's cache of decoded runs, shared by its units."""
        self.conn = conn
        self.channel = channel
        self.origin = origin
        self._init_runs(runs)
        self._trips = RoundTrips(conn)
        # One unit asks for the generation several times (every definition cache checks it);
        # a PostgresTx lives for one attempt of one unit, so the first answer serves them all.
        self._generation: int | None = None
        self._generation_ahead: psycopg.Cursor[Any] | None = None

    # ---- the transaction (the store's, not the protocol's) --------------------------------

    def begin(self) -> None:
        self._trips.begin()
        # Most units consult a definitions cache: asking with the first statement costs no
        # round trip, and the answer is as fresh as the unit's first snapshot.
        self._generation_ahead = self._trips.ahead(_GENERATION)

    def commit(self) -> None:
        self._trips.commit()

    def rollback(self) -> None:
        self._trips.rollback()

    def _one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        return self._trips.now(sql, params).fetchone()

    def _all(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return self._trips.now(sql, params).fetchall()

    def _execute(self, sql: str, params: Params) -> psycopg.Cursor[Any]:
        return self._trips.now(sql, params)

    def _write(self, sql: str, params: Params) -> None:
        self._trips.later(sql, params)

    # ---- the generation, remembered for the unit --------------------------------------------

    def _generation_changed(self) -> None:
        # This unit's own change must show in its caches at once.
        self._generation = self._generation_ahead = None

    def definitions_generation(self) -> int:
        if self._generation is None:
            if self._generation_ahead is not None:
                row = self._trips.answer(self._generation_ahead).fetchone()
                self._generation_ahead = None
            else:
                row = self._one(_GENERATION)
            assert row is not None
            self._generation = int(row[0])
        return self._generation

    # ---- runs (shared in runs_tx; here PostgreSQL's hooks) ---------------------------------

    def _any(self, column: str, values: list[str]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [values]

    def _insert_tasks(self, run_id: str, rows: list[TaskRow], *, update: bool) -> None:
        # One statement for any number of tasks, sent with the unit's next round trip.
        conflict = (
            # An unchanged body is not written again (a run read whole, from a row written
            # before task rows, has every task to write at its next step).
            "ON CONFLICT (task_id) DO UPDATE SET seq = excluded.seq, body = excluded.body "
            "WHERE tasks.body IS DISTINCT FROM excluded.body"
            if update
            else "ON CONFLICT DO NOTHING"
        )
        if len(rows) <= _ROWS_AS_VALUES:
            # A step's few tasks: their values as they are. Arrays for ``unnest`` are built
            # value by value in Python, which costs a step more than the statement saves.
            params: list[Any] = []
            for task_id, seq, body in rows:
                params += (task_id, run_id, seq, body)
            values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
            self._trips.later(
                f"INSERT INTO tasks (task_id, run_id, seq, body) VALUES {values} {conflict}",
                params,
            )
            return
        ids, seqs, bodies = (list(column) for column in zip(*rows, strict=True))
        self._trips.later(
            "INSERT INTO tasks (task_id, run_id, seq, body) "
            "SELECT t.task_id, %s, t.seq, t.body "
            "FROM unnest(%s::text[], %s::bigint[], %s::bytea[]) AS t(task_id, seq, body) "
            + conflict,
            (run_id, ids, seqs, bodies),
        )

    def get_run(self, run_id: str, *, for_update: bool = False) -> tuple[RunState, str] | None:
        if for_update:
            # Locked: the task rows are read by a statement of their own, after the lock.
            return super().get_run(run_id, for_update=True)
        # One round trip for the header and, unless the state known here is still the
        # stored one, the task bodies too, from the same snapshot. Ended runs are not
        # cached, so every read of one (a client waiting for its result) would otherwise
        # cost a second round trip for its tasks.
        row = self._one(
            "SELECT r.state, r.rev, r.definition_key, CASE WHEN r.rev IS DISTINCT FROM "
            "%s::bigint THEN ARRAY(SELECT t.body FROM tasks AS t WHERE t.run_id = r.run_id "
            "AND t.body IS NOT NULL ORDER BY t.seq) END FROM runs AS r WHERE r.run_id = %s",
            (self._known_rev(run_id), run_id),
        )
        if row is None:
            return None
        return self._state(run_id, row[0], row[1], row[3]), row[2]

    def task_run_for_update(
        self, task_id: str
    ) -> tuple[str, tuple[RunState, str] | None, QueueEntry | None] | None:
        run = self._trips.ahead(
            "SELECT r.run_id, r.state, r.rev, r.definition_key FROM tasks AS t "
            "JOIN runs AS r ON r.run_id = t.run_id WHERE t.task_id = %s FOR UPDATE OF r",
            (task_id,),
        )
        # In the same round trip but a statement of its own: PostgreSQL runs it once the
        # lock above is held, with a fresh snapshot, as if it had been sent afterwards.
        entry = self._one(f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE task_id = %s", (task_id,))
        row = run.fetchone()
        if row is None:
            run_id = self.run_of_task(task_id)  # no task, or (rarely) its run is gone
            return None if run_id is None else (run_id, None, _entry(entry) if entry else None)
        found = self._state(row[0], row[1], row[2]), row[3]
        return row[0], found, _entry(entry) if entry else None

    # ---- queue (what relies on row locks and notes) --------------------------------------

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
        # SKIP LOCKED: instances claiming from one queue at once each get different rows.
        # The runs are read in the same statement, unlocked, as a later read would be.
        # gen_random_uuid() draws on a strong random source: each lease's token is unguessable.
        rows = self._all(
            "WITH pick AS (SELECT task_id FROM queue WHERE queue = %s AND lease_owner IS NULL "
            "AND available_at <= %s ORDER BY priority DESC, available_at LIMIT %s "
            "FOR UPDATE SKIP LOCKED), "
            "claimed AS (UPDATE queue AS q SET lease_owner = %s, "
            "lease_until = %s + q.response_timeout_ms, poll_count = q.poll_count + 1, "
            "started_at = COALESCE(q.started_at, %s), lease_token = gen_random_uuid()::text, "
            "lease_key = %s FROM pick WHERE q.task_id = pick.task_id "
            "RETURNING q.task_id, q.run_id, q.queue, q.available_at, q.response_timeout_ms, "
            "q.lease_owner, q.lease_until, q.poll_count, q.started_at, q.lease_token, "
            "q.lease_key, q.priority) SELECT c.*, r.state, r.rev, r.definition_key "
            "FROM claimed AS c "
            "LEFT JOIN runs AS r ON r.run_id = c.run_id AND r.run_id IS DISTINCT FROM %s "
            "ORDER BY c.priority DESC, c.available_at",
            (queue, now, count, worker_id, now, now, lease_key, known_run),
        )
        runs: dict[str, tuple[RunState, str]] = {}
        claimed: list[tuple[QueueEntry, tuple[RunState, str] | None]] = []
        for row in rows:  # in the order picked: highest priority, then oldest, first
            entry = _entry(row[:11])
            run = runs.get(entry.run_id)
            if run is None and row[12] is not None:
                state = self._state(entry.run_id, row[12], row[13])
                run = runs[entry.run_id] = state, row[14]
            claimed.append((entry, run))
        return claimed

    def announce_ready(self, queues: Collection[str]) -> None:
        # NOTIFY is transactional: listeners hear it only if this transaction commits.
        for queue in queues:
            self._trips.later(
                "SELECT pg_notify(%s, %s)", (self.channel, note_for(self.origin, queue))
            )

    def lock_queue(self, queue: str) -> None:
        # Instances dispatching from one limited queue take turns, so limits hold across them.
        self._trips.later("SELECT pg_advisory_xact_lock(hashtext(%s))", ("queue:" + queue,))

    # ---- timers ---------------------------------------------------------------------------

    def take_due_timers(self, now: int, limit: int) -> list[tuple[str, str]]:
        # Lock the runs first (skipping runs another instance is deciding for), so the timer
        # rows are only touched by a transaction that already holds their run.
        rows = self._all(
            "SELECT t.run_id, t.key FROM timers AS t JOIN runs AS r ON r.run_id = t.run_id "
            "WHERE t.due_at <= %s ORDER BY t.due_at LIMIT %s FOR UPDATE OF r SKIP LOCKED",
            (now, limit),
        )
        if rows:
            self._trips.later(
                "DELETE FROM timers WHERE (run_id, key) IN "
                "(SELECT * FROM unnest(%s::text[], %s::text[]))",
                ([row[0] for row in rows], [row[1] for row in rows]),
            )
        return [(row[0], row[1]) for row in rows]
