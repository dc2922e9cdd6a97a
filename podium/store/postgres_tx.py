"""The domain operations of a PostgreSQL transaction (see ``store.base.StoreTx``).

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
from podium.store.events_tx import EventsTxMixin
from podium.store.postgres_trips import Params, RoundTrips
from podium.store.ready_notes import note_for
from podium.store.run_cache import RunCache

__all__ = ["PostgresTx"]

_QUEUE_COLUMNS = (
    "task_id, run_id, queue, available_at, response_timeout_ms, lease_owner, lease_until, "
    "poll_count, started_at, lease_token, lease_key"
)


_GENERATION = "SELECT generation FROM definitions_generation"


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def _entry(row: tuple[Any, ...]) -> QueueEntry:
    return QueueEntry(*row)


class PostgresTx(EventsTxMixin):
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

    # ---- definitions ----------------------------------------------------------------------

    def put_task_def(self, name: str, body: dict[str, Any], now: int) -> None:
        self._trips.later(
            "INSERT INTO task_defs (name, body, updated_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            (name, _dumps(body), now),
        )
        self._bump()

    def get_task_def(self, name: str) -> dict[str, Any] | None:
        row = self._one("SELECT body FROM task_defs WHERE name = %s", (name,))
        return orjson.loads(row[0]) if row else None

    def list_task_defs(self) -> list[dict[str, Any]]:
        return [
            orjson.loads(row[0]) for row in self._all("SELECT body FROM task_defs ORDER BY name")
        ]

    def delete_task_def(self, name: str) -> bool:
        self._bump()
        return self._trips.now("DELETE FROM task_defs WHERE name = %s", (name,)).rowcount > 0

    def put_workflow_def(self, name: str, version: int, body: dict[str, Any], now: int) -> None:
        self._trips.later(
            "INSERT INTO workflow_defs (name, version, body, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name, version) DO UPDATE "
            "SET body = excluded.body, updated_at = excluded.updated_at",
            (name, version, _dumps(body), now, now),
        )
        self._bump()

    def get_workflow_def(self, name: str, version: int | None) -> dict[str, Any] | None:
        if version is None:
            row = self._one(
                "SELECT body FROM workflow_defs WHERE name = %s ORDER BY version DESC LIMIT 1",
                (name,),
            )
        else:
            row = self._one(
                "SELECT body FROM workflow_defs WHERE name = %s AND version = %s", (name, version)
            )
        return orjson.loads(row[0]) if row else None

    def list_workflow_defs(self) -> list[dict[str, Any]]:
        rows = self._all("SELECT body FROM workflow_defs ORDER BY name, version")
        return [orjson.loads(row[0]) for row in rows]

    def delete_workflow_def(self, name: str, version: int) -> bool:
        self._bump()
        cursor = self._trips.now(
            "DELETE FROM workflow_defs WHERE name = %s AND version = %s", (name, version)
        )
        return cursor.rowcount > 0

    def _bump(self) -> None:
        self._trips.later("UPDATE definitions_generation SET generation = generation + 1")
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

    def put_run_definition(self, key: str, body: dict[str, Any]) -> None:
        self._trips.later(
            "INSERT INTO run_definitions (key, body) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (key, _dumps(body)),
        )

    def get_run_definition(self, key: str) -> dict[str, Any] | None:
        row = self._one("SELECT body FROM run_definitions WHERE key = %s", (key,))
        return orjson.loads(row[0]) if row else None

    # ---- contracts ------------------------------------------------------------------------

    def put_contract(
        self, kind: str, name: str, semver: tuple[int, int, int], body: dict[str, Any], now: int
    ) -> bool:
        version = ".".join(str(part) for part in semver)
        cursor = self._trips.now(
            "INSERT INTO contracts (kind, name, version, major, minor, patch, body, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (kind, name, version) DO NOTHING",
            (kind, name, version, *semver, _dumps(body), now),
        )
        return cursor.rowcount > 0

    def get_contract(self, kind: str, name: str, version: str | None) -> dict[str, Any] | None:
        if version is None:
            row = self._trips.now(
                "SELECT body FROM contracts WHERE kind = %s AND name = %s "
                "ORDER BY major DESC, minor DESC, patch DESC LIMIT 1",
                (kind, name),
            ).fetchone()
        else:
            row = self._trips.now(
                "SELECT body FROM contracts WHERE kind = %s AND name = %s AND version = %s",
                (kind, name, version),
            ).fetchone()
        return orjson.loads(row[0]) if row else None

    def list_contract_versions(self, kind: str, name: str) -> list[str]:
        rows = self._trips.now(
            "SELECT version FROM contracts WHERE kind = %s AND name = %s "
            "ORDER BY major, minor, patch",
            (kind, name),
        ).fetchall()
        return [row[0] for row in rows]

    def list_contracts(self, kind: str | None, *, latest_only: bool) -> list[dict[str, Any]]:
        where = "WHERE c.kind = %s" if kind else ""
        if latest_only:
            where += " AND " if where else "WHERE "
            where += (
                "NOT EXISTS (SELECT 1 FROM contracts AS h WHERE h.kind = c.kind "
                "AND h.name = c.name AND (h.major, h.minor, h.patch) > (c.major, c.minor, c.patch))"
            )
        rows = self._trips.now(
            f"SELECT c.body FROM contracts AS c {where} "
            "ORDER BY c.kind, c.name, c.major, c.minor, c.patch",
            (kind,) if kind else (),
        ).fetchall()
        return [orjson.loads(row[0]) for row in rows]

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

    # ---- queue ----------------------------------------------------------------------------

    def enqueue(
        self,
        task_id: str,
        run_id: str,
        queue: str,
        available_at: int,
        response_timeout_ms: int,
        priority: int = 0,
    ) -> None:
        self._trips.later(
            "INSERT INTO queue (task_id, run_id, queue, available_at, response_timeout_ms, "
            "priority) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (task_id) DO UPDATE SET "
            "run_id = excluded.run_id, queue = excluded.queue, "
            "available_at = excluded.available_at, "
            "response_timeout_ms = excluded.response_timeout_ms, lease_owner = NULL, "
            "lease_until = NULL, poll_count = 0, started_at = NULL, priority = excluded.priority",
            (task_id, run_id, queue, available_at, response_timeout_ms, priority),
        )

    def dequeue(self, task_id: str) -> None:
        self._trips.later("DELETE FROM queue WHERE task_id = %s", (task_id,))

    def queue_entry(self, task_id: str) -> QueueEntry | None:
        row = self._one(f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE task_id = %s", (task_id,))
        return _entry(row) if row else None

    def queue_entries(self, run_id: str) -> list[QueueEntry]:
        rows = self._all(f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE run_id = %s", (run_id,))
        return [_entry(row) for row in rows]

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

    def extend_lease(self, task_id: str, lease_until: int) -> None:
        self._trips.later(
            "UPDATE queue SET lease_until = %s WHERE task_id = %s AND lease_owner IS NOT NULL",
            (lease_until, task_id),
        )

    def expired_leases(self, now: int, limit: int) -> list[QueueEntry]:
        rows = self._all(
            f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE lease_owner IS NOT NULL "
            "AND lease_until <= %s ORDER BY lease_until LIMIT %s",
            (now, limit),
        )
        return [_entry(row) for row in rows]

    def release_lease(self, task_id: str, available_at: int | None = None) -> None:
        self._trips.later(
            "UPDATE queue SET lease_owner = NULL, lease_until = NULL, "
            "available_at = COALESCE(%s, available_at) WHERE task_id = %s",
            (available_at, task_id),
        )

    def next_available_at(self, now: int) -> int | None:
        row = self._one(
            "SELECT MIN(available_at) FROM queue WHERE lease_owner IS NULL AND available_at > %s",
            (now,),
        )
        return int(row[0]) if row and row[0] is not None else None

    def next_lease_expiry(self) -> int | None:
        row = self._one("SELECT MIN(lease_until) FROM queue WHERE lease_owner IS NOT NULL")
        return int(row[0]) if row and row[0] is not None else None

    def queues_ready_between(self, after: int, until: int) -> list[str]:
        rows = self._all(
            "SELECT DISTINCT queue FROM queue WHERE lease_owner IS NULL "
            "AND available_at > %s AND available_at <= %s",
            (after, until),
        )
        return [row[0] for row in rows]

    def queue_sizes(self, queues: list[str] | None) -> dict[str, int]:
        sql = "SELECT queue, COUNT(*) FROM queue WHERE lease_owner IS NULL"
        params: list[Any] = []
        if queues:
            sql += " AND queue = ANY(%s)"
            params.append(list(queues))
        sizes = {queue: 0 for queue in queues or []}
        for queue, size in self._all(sql + " GROUP BY queue", params):
            sizes[queue] = int(size)
        return sizes

    def announce_ready(self, queues: Collection[str]) -> None:
        # NOTIFY is transactional: listeners hear it only if this transaction commits.
        for queue in queues:
            self._trips.later(
                "SELECT pg_notify(%s, %s)", (self.channel, note_for(self.origin, queue))
            )

    # ---- services and resilience ------------------------------------------------------------

    def put_service(self, name: str, body: dict[str, Any], now: int) -> None:
        self._trips.later(
            "INSERT INTO services (name, body, updated_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            (name, _dumps(body), now),
        )
        self._bump()

    def get_service(self, name: str) -> dict[str, Any] | None:
        row = self._one("SELECT body FROM services WHERE name = %s", (name,))
        return orjson.loads(row[0]) if row else None

    def list_services(self) -> list[dict[str, Any]]:
        return [
            orjson.loads(row[0]) for row in self._all("SELECT body FROM services ORDER BY name")
        ]

    def delete_service(self, name: str) -> bool:
        self._bump()
        return self._trips.now("DELETE FROM services WHERE name = %s", (name,)).rowcount > 0

    def get_breaker(self, service: str, *, for_update: bool = False) -> dict[str, Any] | None:
        lock = " FOR UPDATE" if for_update else ""
        row = self._one(f"SELECT body FROM breakers WHERE service = %s{lock}", (service,))
        return orjson.loads(row[0]) if row else None

    def put_breaker(self, service: str, body: dict[str, Any], now: int) -> None:
        self._trips.later(
            "INSERT INTO breakers (service, body, updated_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (service) DO UPDATE SET body = excluded.body, "
            "updated_at = excluded.updated_at",
            (service, _dumps(body), now),
        )

    def list_breakers(self) -> dict[str, dict[str, Any]]:
        rows = self._all("SELECT service, body FROM breakers ORDER BY service")
        return {row[0]: orjson.loads(row[1]) for row in rows}

    def add_breaker_event(
        self, service: str, at: int, from_state: str, to_state: str, reason: str
    ) -> None:
        self._trips.later(
            "INSERT INTO breaker_events (service, at, from_state, to_state, reason) "
            "VALUES (%s, %s, %s, %s, %s)",
            (service, at, from_state, to_state, reason),
        )

    def breaker_events(self, service: str, limit: int) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT at, from_state, to_state, reason FROM breaker_events WHERE service = %s "
            "ORDER BY id DESC LIMIT %s",
            (service, limit),
        )
        return [{"at": r[0], "from": r[1], "to": r[2], "reason": r[3]} for r in rows]

    def lock_queue(self, queue: str) -> None:
        # Instances dispatching from one limited queue take turns, so limits hold across them.
        self._trips.later("SELECT pg_advisory_xact_lock(hashtext(%s))", ("queue:" + queue,))

    def count_leased(self, queue: str) -> int:
        row = self._one(
            "SELECT COUNT(*) FROM queue WHERE queue = %s AND lease_owner IS NOT NULL", (queue,)
        )
        return int(row[0]) if row else 0

    def rate_window(self, queue: str) -> tuple[int, int] | None:
        row = self._one("SELECT window_start, used FROM rate_windows WHERE queue = %s", (queue,))
        return (int(row[0]), int(row[1])) if row else None

    def put_rate_window(self, queue: str, window_start: int, used: int) -> None:
        self._trips.later(
            "INSERT INTO rate_windows (queue, window_start, used) VALUES (%s, %s, %s) "
            "ON CONFLICT (queue) DO UPDATE SET window_start = excluded.window_start, "
            "used = excluded.used",
            (queue, window_start, used),
        )

    def get_cached_result(self, key: str, now: int) -> dict[str, Any] | None:
        row = self._one(
            "SELECT body FROM result_cache WHERE key = %s AND expires_at > %s", (key, now)
        )
        return orjson.loads(row[0]) if row else None

    def put_cached_result(self, key: str, body: dict[str, Any], expires_at: int) -> None:
        self._trips.later(
            "INSERT INTO result_cache (key, body, expires_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET body = excluded.body, expires_at = excluded.expires_at",
            (key, _dumps(body), expires_at),
        )

    def defer(self, task_id: str, available_at: int) -> None:
        self._trips.later(
            # Not handed out after all: the claim leaves no trace in poll count or start time.
            "UPDATE queue SET lease_owner = NULL, lease_until = NULL, available_at = %s, "
            "started_at = CASE WHEN poll_count <= 1 THEN NULL ELSE started_at END, "
            "poll_count = GREATEST(poll_count - 1, 0) WHERE task_id = %s",
            (available_at, task_id),
        )

    # ---- authentication -------------------------------------------------------------------

    def put_api_key(self, key_id: str, secret_hash: str, body: dict[str, Any], now: int) -> None:
        self._trips.later(
            "INSERT INTO api_keys (key_id, secret_hash, body, created_at) VALUES (%s, %s, %s, %s)",
            (key_id, secret_hash, _dumps(body), now),
        )

    def get_api_key(self, key_id: str) -> tuple[str, dict[str, Any], int | None] | None:
        row = self._one(
            "SELECT secret_hash, body, disabled_at FROM api_keys WHERE key_id = %s", (key_id,)
        )
        return (row[0], orjson.loads(row[1]), row[2]) if row else None

    def list_api_keys(self) -> list[tuple[str, dict[str, Any], int, int | None]]:
        rows = self._all(
            "SELECT key_id, body, created_at, disabled_at FROM api_keys ORDER BY created_at, key_id"
        )
        return [(row[0], orjson.loads(row[1]), row[2], row[3]) for row in rows]

    def disable_api_key(self, key_id: str, now: int) -> bool:
        cursor = self._trips.now(
            "UPDATE api_keys SET disabled_at = %s WHERE key_id = %s AND disabled_at IS NULL",
            (now, key_id),
        )
        return cursor.rowcount > 0

    def auth_secret(self, candidate: str) -> str:
        self._trips.now(
            "INSERT INTO auth_secret (id, secret) VALUES (1, %s) ON CONFLICT DO NOTHING",
            (candidate,),
        )
        row = self._one("SELECT secret FROM auth_secret WHERE id = 1", ())
        assert row is not None
        return str(row[0])

    # ---- timers ---------------------------------------------------------------------------

    def put_timer(self, run_id: str, key: str, due_at: int) -> None:
        self._trips.later(
            "INSERT INTO timers (run_id, key, due_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (run_id, key) DO UPDATE SET due_at = excluded.due_at",
            (run_id, key, due_at),
        )

    def delete_timer(self, run_id: str, key: str) -> None:
        self._trips.later("DELETE FROM timers WHERE run_id = %s AND key = %s", (run_id, key))

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

    def next_timer_due(self) -> int | None:
        row = self._one("SELECT MIN(due_at) FROM timers")
        return int(row[0]) if row and row[0] is not None else None
