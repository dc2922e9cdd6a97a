"""The domain operations of a PostgreSQL transaction (see ``store.base.StoreTx``).

Most operations are shared with SQLite (``definitions_tx``, ``queue_tx``, ``services_tx``,
``events_tx``); this transaction sends their statements (``_execute`` and ``_write``) and keeps
what PostgreSQL does its own way.

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

import orjson
import psycopg

from podium.engine.state import RunState
from podium.store.base import QueueEntry, RunQuery, run_order_sql
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
from podium.store.services_tx import ServicesTxMixin

__all__ = ["PostgresTx"]


class PostgresTx(DefinitionsTxMixin, QueueTxMixin, ServicesTxMixin, EventsTxMixin):
    """Runs on one pooled connection, inside a transaction the store opened."""

    __slots__ = (
        "_generation",
        "_generation_ahead",
        "_trips",
        "channel",
        "conn",
        "origin",
        "runs",
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
        self.runs = runs
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

    # ---- runs -----------------------------------------------------------------------------

    def insert_run(self, state: RunState, definition_key: str) -> None:
        stored = state.to_json()
        self._trips.later(
            "INSERT INTO runs (run_id, name, version, status, correlation_id, parent_run_id, "
            "definition_key, created_at, updated_at, ended_at, state) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                state.run_id,
                state.name,
                state.version,
                str(state.status),
                state.correlation_id,
                state.parent_run_id,
                definition_key,
                state.created_at,
                state.updated_at or state.created_at,
                state.end_at,
                stored,
            ),
        )
        self.runs.put(state.run_id, stored, state)

    def update_run(self, state: RunState) -> None:
        stored = state.to_json()
        self._trips.later(
            "UPDATE runs SET status = %s, updated_at = %s, ended_at = %s, state = %s "
            "WHERE run_id = %s",
            (
                str(state.status),
                state.updated_at or state.created_at,
                state.end_at,
                stored,
                state.run_id,
            ),
        )
        self.runs.put(state.run_id, stored, state)

    def set_run_definition(self, run_id: str, definition_key: str, version: int) -> None:
        self._trips.later(
            "UPDATE runs SET definition_key = %s, version = %s WHERE run_id = %s",
            (definition_key, version, run_id),
        )

    def get_run(self, run_id: str, *, for_update: bool = False) -> tuple[RunState, str] | None:
        lock = " FOR UPDATE" if for_update else ""
        row = self._one(
            f"SELECT state, definition_key FROM runs WHERE run_id = %s{lock}", (run_id,)
        )
        if row is None:
            return None
        return self.runs.decode(run_id, row[0]), row[1]

    def delete_run(self, run_id: str) -> bool:
        self._trips.later("DELETE FROM queue WHERE run_id = %s", (run_id,))
        self._trips.later("DELETE FROM timers WHERE run_id = %s", (run_id,))
        self._trips.later("DELETE FROM tasks WHERE run_id = %s", (run_id,))
        self._trips.later("DELETE FROM idempotency WHERE run_id = %s", (run_id,))
        return self._trips.now("DELETE FROM runs WHERE run_id = %s", (run_id,)).rowcount > 0

    def search_runs(self, query: RunQuery) -> tuple[int, list[RunState]]:
        clauses: list[str] = []
        params: list[Any] = []
        if query.name:
            clauses.append("name = %s")
            params.append(query.name)
        if query.statuses:
            clauses.append("status = ANY(%s)")
            params.append(list(query.statuses))
        if query.names:
            clauses.append("name = ANY(%s)")
            params.append(list(query.names))
        if query.run_ids:
            clauses.append("run_id = ANY(%s)")
            params.append(list(query.run_ids))
        if query.correlation_id:
            clauses.append("correlation_id = %s")
            params.append(query.correlation_id)
        if query.started_after is not None:
            clauses.append("created_at >= %s")
            params.append(query.started_after)
        if query.started_before is not None:
            clauses.append("created_at <= %s")
            params.append(query.started_before)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        count = self._one(f"SELECT COUNT(*) FROM runs {where}", params)
        assert count is not None
        rows = self._all(
            f"SELECT state FROM runs {where} ORDER BY {run_order_sql(query)} LIMIT %s OFFSET %s",
            [*params, query.size, query.start],
        )
        return int(count[0]), [RunState.from_dict(orjson.loads(row[0])) for row in rows]

    def add_task_ids(self, run_id: str, task_ids: list[str]) -> None:
        self._trips.later(
            "INSERT INTO tasks (task_id, run_id) SELECT unnest(%s::text[]), %s "
            "ON CONFLICT DO NOTHING",
            (task_ids, run_id),
        )

    def run_of_task(self, task_id: str) -> str | None:
        row = self._one("SELECT run_id FROM tasks WHERE task_id = %s", (task_id,))
        return row[0] if row else None

    def runs_of_tasks(self, task_ids: Collection[str]) -> dict[str, str]:
        rows = self._all(
            "SELECT task_id, run_id FROM tasks WHERE task_id = ANY(%s)", (list(task_ids),)
        )
        return dict(rows)

    def task_run_for_update(
        self, task_id: str
    ) -> tuple[str, tuple[RunState, str] | None, QueueEntry | None] | None:
        run = self._trips.ahead(
            "SELECT r.run_id, r.state, r.definition_key FROM tasks AS t "
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
        found = self.runs.decode(row[0], row[1]), row[2]
        return row[0], found, _entry(entry) if entry else None

    def get_idempotent_run(self, name: str, key: str) -> str | None:
        row = self._one("SELECT run_id FROM idempotency WHERE name = %s AND key = %s", (name, key))
        return row[0] if row else None

    def put_idempotent_run(self, name: str, key: str, run_id: str) -> None:
        # Two instances starting the same key at once: the second waits on the first's row
        # and fails with a unique violation, which the store answers by running its unit
        # again, and then it finds the first run.
        self._trips.later(
            "INSERT INTO idempotency (name, key, run_id) VALUES (%s, %s, %s)", (name, key, run_id)
        )

    def remove_ended_runs(self, ended_before: int, limit: int, *, archive: bool, now: int) -> int:
        # SKIP LOCKED: a run some decision holds right now is simply left for the next batch.
        ids = [
            row[0]
            for row in self._all(
                "SELECT run_id FROM runs WHERE ended_at IS NOT NULL AND ended_at < %s "
                "LIMIT %s FOR UPDATE SKIP LOCKED",
                (ended_before, limit),
            )
        ]
        if not ids:
            return 0
        if archive:
            self._trips.later(
                "INSERT INTO archived_runs (run_id, name, version, status, correlation_id, "
                "created_at, ended_at, archived_at, state) "
                "SELECT run_id, name, version, status, correlation_id, created_at, ended_at, %s, "
                "state FROM runs WHERE run_id = ANY(%s) ON CONFLICT (run_id) DO NOTHING",
                (now, ids),
            )
        for table in ("queue", "timers", "tasks", "idempotency", "runs"):
            self._trips.later(f"DELETE FROM {table} WHERE run_id = ANY(%s)", (ids,))
        return len(ids)

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
            "q.lease_key, q.priority) SELECT c.*, r.state, r.definition_key FROM claimed AS c "
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
                run = runs[entry.run_id] = self.runs.decode(entry.run_id, row[12]), row[13]
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
