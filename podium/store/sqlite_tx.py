"""The domain operations of a SQLite transaction (see ``store.base.StoreTx``)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Collection
from typing import Any

import orjson

from podium.engine.state import RunState
from podium.store.base import QueueEntry, RunQuery, run_order_sql
from podium.store.events_tx import EventsTxMixin
from podium.store.pending_runs import PendingRuns
from podium.store.run_cache import RunCache

__all__ = ["SQLiteTx"]

_QUEUE_COLUMNS = (
    "task_id, run_id, queue, available_at, response_timeout_ms, lease_owner, lease_until, "
    "poll_count, started_at, lease_token, lease_key"
)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def _entry(row: tuple[Any, ...]) -> QueueEntry:
    return QueueEntry(*row)


class SQLiteTx(EventsTxMixin):
    """Runs on the store's own thread, inside a transaction the store opened."""

    __slots__ = ("conn", "defer_runs", "pending", "runs")

    conn: sqlite3.Connection

    def __init__(self, conn: sqlite3.Connection, runs: RunCache | None = None) -> None:
        self.conn = conn
        self.runs = runs if runs is not None else RunCache()
        self.pending = PendingRuns(self._write_run)
        self.defer_runs = True
        """Whether a changed run waits in ``pending`` for the transaction's end (the store's
        choice; it turns this off to run a batch again with every unit on its own)."""

    # ---- definitions ----------------------------------------------------------------------

    def put_task_def(self, name: str, body: dict[str, Any], now: int) -> None:
        self.conn.execute(
            "INSERT INTO task_defs (name, body, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            (name, _dumps(body), now),
        )
        self._bump()

    def get_task_def(self, name: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT body FROM task_defs WHERE name = ?", (name,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def list_task_defs(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT body FROM task_defs ORDER BY name").fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def delete_task_def(self, name: str) -> bool:
        self._bump()
        return self.conn.execute("DELETE FROM task_defs WHERE name = ?", (name,)).rowcount > 0

    def put_workflow_def(self, name: str, version: int, body: dict[str, Any], now: int) -> None:
        self.conn.execute(
            "INSERT INTO workflow_defs (name, version, body, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name, version) DO UPDATE "
            "SET body = excluded.body, updated_at = excluded.updated_at",
            (name, version, _dumps(body), now, now),
        )
        self._bump()

    def get_workflow_def(self, name: str, version: int | None) -> dict[str, Any] | None:
        if version is None:
            row = self.conn.execute(
                "SELECT body FROM workflow_defs WHERE name = ? ORDER BY version DESC LIMIT 1",
                (name,),
            ).fetchone()
        else:
            row = self.conn.execute(
                "SELECT body FROM workflow_defs WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
        return orjson.loads(row[0]) if row else None

    def list_workflow_defs(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT body FROM workflow_defs ORDER BY name, version").fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def delete_workflow_def(self, name: str, version: int) -> bool:
        self._bump()
        cursor = self.conn.execute(
            "DELETE FROM workflow_defs WHERE name = ? AND version = ?", (name, version)
        )
        return cursor.rowcount > 0

    def _bump(self) -> None:
        self.conn.execute("UPDATE definitions_generation SET generation = generation + 1")

    def definitions_generation(self) -> int:
        row = self.conn.execute("SELECT generation FROM definitions_generation").fetchone()
        return int(row[0])

    def put_run_definition(self, key: str, body: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO run_definitions (key, body) VALUES (?, ?)", (key, _dumps(body))
        )

    def get_run_definition(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT body FROM run_definitions WHERE key = ?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else None

    # ---- contracts ------------------------------------------------------------------------

    def put_contract(
        self, kind: str, name: str, semver: tuple[int, int, int], body: dict[str, Any], now: int
    ) -> bool:
        version = ".".join(str(part) for part in semver)
        cursor = self.conn.execute(
            "INSERT INTO contracts (kind, name, version, major, minor, patch, body, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, name, version) DO NOTHING",
            (kind, name, version, *semver, _dumps(body), now),
        )
        return cursor.rowcount > 0

    def get_contract(self, kind: str, name: str, version: str | None) -> dict[str, Any] | None:
        if version is None:
            row = self.conn.execute(
                "SELECT body FROM contracts WHERE kind = ? AND name = ? "
                "ORDER BY major DESC, minor DESC, patch DESC LIMIT 1",
                (kind, name),
            ).fetchone()
        else:
            row = self.conn.execute(
                "SELECT body FROM contracts WHERE kind = ? AND name = ? AND version = ?",
                (kind, name, version),
            ).fetchone()
        return orjson.loads(row[0]) if row else None

    def list_contract_versions(self, kind: str, name: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT version FROM contracts WHERE kind = ? AND name = ? "
            "ORDER BY major, minor, patch",
            (kind, name),
        ).fetchall()
        return [row[0] for row in rows]

    def list_contracts(self, kind: str | None, *, latest_only: bool) -> list[dict[str, Any]]:
        where = "WHERE c.kind = ?" if kind else ""
        if latest_only:
            where += " AND " if where else "WHERE "
            where += (
                "NOT EXISTS (SELECT 1 FROM contracts AS h WHERE h.kind = c.kind "
                "AND h.name = c.name AND (h.major, h.minor, h.patch) > (c.major, c.minor, c.patch))"
            )
        rows = self.conn.execute(
            f"SELECT c.body FROM contracts AS c {where} "
            "ORDER BY c.kind, c.name, c.major, c.minor, c.patch",
            (kind,) if kind else (),
        ).fetchall()
        return [orjson.loads(row[0]) for row in rows]

    # ---- runs -----------------------------------------------------------------------------

    def insert_run(self, state: RunState, definition_key: str) -> None:
        stored = state.to_json()
        self.conn.execute(
            "INSERT INTO runs (run_id, name, version, status, correlation_id, parent_run_id, "
            "definition_key, created_at, updated_at, ended_at, state) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        if self.defer_runs:
            self.pending.put(state)
        else:
            self._write_run(state)

    def _write_run(self, state: RunState) -> None:
        stored = state.to_json()
        self.conn.execute(
            "UPDATE runs SET status = ?, updated_at = ?, ended_at = ?, state = ? WHERE run_id = ?",
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
        self.conn.execute(
            "UPDATE runs SET definition_key = ?, version = ? WHERE run_id = ?",
            (definition_key, version, run_id),
        )

    def get_run(self, run_id: str, *, for_update: bool = False) -> tuple[RunState, str] | None:
        # One writer thread: nothing else can decide for this run while this unit runs.
        pending = self.pending.get(run_id)
        if pending is not None:
            row = self.conn.execute(
                "SELECT definition_key FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            return (pending, row[0]) if row else None
        row = self.conn.execute(
            "SELECT state, definition_key FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        if row is None:
            return None
        return self.runs.decode(run_id, row[0]), row[1]

    def delete_run(self, run_id: str) -> bool:
        self.pending.drop(run_id)
        self.conn.execute("DELETE FROM queue WHERE run_id = ?", (run_id,))
        self.conn.execute("DELETE FROM timers WHERE run_id = ?", (run_id,))
        self.conn.execute("DELETE FROM tasks WHERE run_id = ?", (run_id,))
        self.conn.execute("DELETE FROM idempotency WHERE run_id = ?", (run_id,))
        return self.conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,)).rowcount > 0

    def search_runs(self, query: RunQuery) -> tuple[int, list[RunState]]:
        self.pending.store()
        clauses: list[str] = []
        params: list[Any] = []
        if query.name:
            clauses.append("name = ?")
            params.append(query.name)
        if query.statuses:
            clauses.append(f"status IN ({', '.join('?' for _ in query.statuses)})")
            params.extend(query.statuses)
        if query.names:
            clauses.append(f"name IN ({', '.join('?' for _ in query.names)})")
            params.extend(query.names)
        if query.run_ids:
            clauses.append(f"run_id IN ({', '.join('?' for _ in query.run_ids)})")
            params.extend(query.run_ids)
        if query.correlation_id:
            clauses.append("correlation_id = ?")
            params.append(query.correlation_id)
        if query.started_after is not None:
            clauses.append("created_at >= ?")
            params.append(query.started_after)
        if query.started_before is not None:
            clauses.append("created_at <= ?")
            params.append(query.started_before)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        total = self.conn.execute(f"SELECT COUNT(*) FROM runs {where}", params).fetchone()[0]
        rows = self.conn.execute(
            f"SELECT state FROM runs {where} ORDER BY {run_order_sql(query)} LIMIT ? OFFSET ?",
            [*params, query.size, query.start],
        ).fetchall()
        return total, [RunState.from_dict(orjson.loads(row[0])) for row in rows]

    def add_task_ids(self, run_id: str, task_ids: list[str]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO tasks (task_id, run_id) VALUES (?, ?)",
            [(task_id, run_id) for task_id in task_ids],
        )

    def run_of_task(self, task_id: str) -> str | None:
        row = self.conn.execute("SELECT run_id FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
        return row[0] if row else None

    def task_run_for_update(
        self, task_id: str
    ) -> tuple[str, tuple[RunState, str] | None, QueueEntry | None] | None:
        run_id = self.run_of_task(task_id)
        if run_id is None:
            return None
        return run_id, self.get_run(run_id, for_update=True), self.queue_entry(task_id)

    def get_idempotent_run(self, name: str, key: str) -> str | None:
        row = self.conn.execute(
            "SELECT run_id FROM idempotency WHERE name = ? AND key = ?", (name, key)
        ).fetchone()
        return row[0] if row else None

    def put_idempotent_run(self, name: str, key: str, run_id: str) -> None:
        self.conn.execute(
            "INSERT INTO idempotency (name, key, run_id) VALUES (?, ?, ?)", (name, key, run_id)
        )

    def remove_ended_runs(self, ended_before: int, limit: int, *, archive: bool, now: int) -> int:
        self.pending.store()
        ids = [
            row[0]
            for row in self.conn.execute(
                "SELECT run_id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ? LIMIT ?",
                (ended_before, limit),
            )
        ]
        if archive:
            self.conn.executemany(
                "INSERT OR REPLACE INTO archived_runs (run_id, name, version, status, "
                "correlation_id, created_at, ended_at, archived_at, state) "
                "SELECT run_id, name, version, status, correlation_id, created_at, ended_at, ?, "
                "state FROM runs WHERE run_id = ?",
                [(now, run_id) for run_id in ids],
            )
        for run_id in ids:
            self.delete_run(run_id)
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
        self.conn.execute(
            "INSERT OR REPLACE INTO queue (task_id, run_id, queue, available_at, "
            "response_timeout_ms, priority) VALUES (?, ?, ?, ?, ?, ?)",
            (task_id, run_id, queue, available_at, response_timeout_ms, priority),
        )

    def dequeue(self, task_id: str) -> None:
        self.conn.execute("DELETE FROM queue WHERE task_id = ?", (task_id,))

    def queue_entry(self, task_id: str) -> QueueEntry | None:
        row = self.conn.execute(
            f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE task_id = ?", (task_id,)
        ).fetchone()
        return _entry(row) if row else None

    def queue_entries(self, run_id: str) -> list[QueueEntry]:
        rows = self.conn.execute(
            f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE run_id = ?", (run_id,)
        ).fetchall()
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
        # The store runs units of work one at a time, so select-then-update cannot race.
        rows = self.conn.execute(
            "SELECT task_id FROM queue WHERE queue = ? AND lease_owner IS NULL "
            "AND available_at <= ? ORDER BY priority DESC, available_at LIMIT ?",
            (queue, now, count),
        ).fetchall()
        claimed: list[QueueEntry] = []
        for (task_id,) in rows:
            # uuid4 draws on os.urandom: a token nobody can guess from what a route shows.
            row = self.conn.execute(
                "UPDATE queue SET lease_owner = ?, lease_until = ? + response_timeout_ms, "
                "poll_count = poll_count + 1, started_at = COALESCE(started_at, ?), "
                f"lease_token = ?, lease_key = ? WHERE task_id = ? RETURNING {_QUEUE_COLUMNS}",
                (worker_id, now, now, str(uuid.uuid4()), lease_key, task_id),
            ).fetchone()
            claimed.append(_entry(row))
        runs = {
            run_id: None if run_id == known_run else self.get_run(run_id)
            for run_id in {entry.run_id for entry in claimed}
        }
        return [(entry, runs[entry.run_id]) for entry in claimed]

    def extend_lease(self, task_id: str, lease_until: int) -> None:
        self.conn.execute(
            "UPDATE queue SET lease_until = ? WHERE task_id = ? AND lease_owner IS NOT NULL",
            (lease_until, task_id),
        )

    def expired_leases(self, now: int, limit: int) -> list[QueueEntry]:
        rows = self.conn.execute(
            f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE lease_owner IS NOT NULL "
            "AND lease_until <= ? ORDER BY lease_until LIMIT ?",
            (now, limit),
        ).fetchall()
        return [_entry(row) for row in rows]

    def release_lease(self, task_id: str, available_at: int | None = None) -> None:
        self.conn.execute(
            "UPDATE queue SET lease_owner = NULL, lease_until = NULL, "
            "available_at = COALESCE(?, available_at) WHERE task_id = ?",
            (available_at, task_id),
        )

    def next_available_at(self, now: int) -> int | None:
        row = self.conn.execute(
            "SELECT MIN(available_at) FROM queue WHERE lease_owner IS NULL AND available_at > ?",
            (now,),
        ).fetchone()
        return row[0] if row and row[0] is not None else None

    def next_lease_expiry(self) -> int | None:
        row = self.conn.execute(
            "SELECT MIN(lease_until) FROM queue WHERE lease_owner IS NOT NULL"
        ).fetchone()
        return row[0] if row and row[0] is not None else None

    def queues_ready_between(self, after: int, until: int) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT queue FROM queue WHERE lease_owner IS NULL "
            "AND available_at > ? AND available_at <= ?",
            (after, until),
        ).fetchall()
        return [row[0] for row in rows]

    def queue_sizes(self, queues: list[str] | None) -> dict[str, int]:
        sql = "SELECT queue, COUNT(*) FROM queue WHERE lease_owner IS NULL"
        params: list[Any] = []
        if queues:
            sql += f" AND queue IN ({', '.join('?' for _ in queues)})"
            params.extend(queues)
        sizes = {queue: 0 for queue in queues or []}
        for queue, size in self.conn.execute(sql + " GROUP BY queue", params):
            sizes[queue] = size
        return sizes

    def announce_ready(self, queues: Collection[str]) -> None:
        """Nothing to do: one process owns a SQLite file, and it wakes its own polls."""

    # ---- services and resilience ------------------------------------------------------------

    def put_service(self, name: str, body: dict[str, Any], now: int) -> None:
        self.conn.execute(
            "INSERT INTO services (name, body, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            (name, _dumps(body), now),
        )
        self._bump()

    def get_service(self, name: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT body FROM services WHERE name = ?", (name,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def list_services(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT body FROM services ORDER BY name").fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def delete_service(self, name: str) -> bool:
        self._bump()
        return self.conn.execute("DELETE FROM services WHERE name = ?", (name,)).rowcount > 0

    def get_breaker(self, service: str, *, for_update: bool = False) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT body FROM breakers WHERE service = ?", (service,)
        ).fetchone()
        return orjson.loads(row[0]) if row else None

    def put_breaker(self, service: str, body: dict[str, Any], now: int) -> None:
        self.conn.execute(
            "INSERT INTO breakers (service, body, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (service) DO UPDATE SET body = excluded.body, "
            "updated_at = excluded.updated_at",
            (service, _dumps(body), now),
        )

    def list_breakers(self) -> dict[str, dict[str, Any]]:
        rows = self.conn.execute("SELECT service, body FROM breakers ORDER BY service").fetchall()
        return {row[0]: orjson.loads(row[1]) for row in rows}

    def add_breaker_event(
        self, service: str, at: int, from_state: str, to_state: str, reason: str
    ) -> None:
        self.conn.execute(
            "INSERT INTO breaker_events (service, at, from_state, to_state, reason) "
            "VALUES (?, ?, ?, ?, ?)",
            (service, at, from_state, to_state, reason),
        )

    def breaker_events(self, service: str, limit: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT at, from_state, to_state, reason FROM breaker_events WHERE service = ? "
            "ORDER BY id DESC LIMIT ?",
            (service, limit),
        ).fetchall()
        return [{"at": r[0], "from": r[1], "to": r[2], "reason": r[3]} for r in rows]

    def lock_queue(self, queue: str) -> None:
        """Nothing to do: the single writer already runs one unit at a time."""

    def count_leased(self, queue: str) -> int:
        row = self.conn.execute(
            "SELECT COUNT(*) FROM queue WHERE queue = ? AND lease_owner IS NOT NULL", (queue,)
        ).fetchone()
        return int(row[0])

    def rate_window(self, queue: str) -> tuple[int, int] | None:
        row = self.conn.execute(
            "SELECT window_start, used FROM rate_windows WHERE queue = ?", (queue,)
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def put_rate_window(self, queue: str, window_start: int, used: int) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO rate_windows (queue, window_start, used) VALUES (?, ?, ?)",
            (queue, window_start, used),
        )

    def get_cached_result(self, key: str, now: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT body FROM result_cache WHERE key = ? AND expires_at > ?", (key, now)
        ).fetchone()
        return orjson.loads(row[0]) if row else None

    def put_cached_result(self, key: str, body: dict[str, Any], expires_at: int) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO result_cache (key, body, expires_at) VALUES (?, ?, ?)",
            (key, _dumps(body), expires_at),
        )

    def defer(self, task_id: str, available_at: int) -> None:
        self.conn.execute(
            # Not handed out after all: the claim leaves no trace in poll count or start time.
            "UPDATE queue SET lease_owner = NULL, lease_until = NULL, available_at = ?, "
            "started_at = CASE WHEN poll_count <= 1 THEN NULL ELSE started_at END, "
            "poll_count = MAX(poll_count - 1, 0) WHERE task_id = ?",
            (available_at, task_id),
        )

    # ---- authentication -------------------------------------------------------------------

    def put_api_key(self, key_id: str, secret_hash: str, body: dict[str, Any], now: int) -> None:
        self.conn.execute(
            "INSERT INTO api_keys (key_id, secret_hash, body, created_at) VALUES (?, ?, ?, ?)",
            (key_id, secret_hash, _dumps(body), now),
        )

    def get_api_key(self, key_id: str) -> tuple[str, dict[str, Any], int | None] | None:
        row = self.conn.execute(
            "SELECT secret_hash, body, disabled_at FROM api_keys WHERE key_id = ?", (key_id,)
        ).fetchone()
        return (row[0], orjson.loads(row[1]), row[2]) if row else None

    def list_api_keys(self) -> list[tuple[str, dict[str, Any], int, int | None]]:
        rows = self.conn.execute(
            "SELECT key_id, body, created_at, disabled_at FROM api_keys ORDER BY created_at, key_id"
        ).fetchall()
        return [(row[0], orjson.loads(row[1]), row[2], row[3]) for row in rows]

    def disable_api_key(self, key_id: str, now: int) -> bool:
        cursor = self.conn.execute(
            "UPDATE api_keys SET disabled_at = ? WHERE key_id = ? AND disabled_at IS NULL",
            (now, key_id),
        )
        return cursor.rowcount > 0

    def auth_secret(self, candidate: str) -> str:
        self.conn.execute(
            "INSERT OR IGNORE INTO auth_secret (id, secret) VALUES (1, ?)", (candidate,)
        )
        row = self.conn.execute("SELECT secret FROM auth_secret WHERE id = 1", ()).fetchone()
        assert row is not None
        return str(row[0])

    # ---- timers ---------------------------------------------------------------------------

    def put_timer(self, run_id: str, key: str, due_at: int) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO timers (run_id, key, due_at) VALUES (?, ?, ?)",
            (run_id, key, due_at),
        )

    def delete_timer(self, run_id: str, key: str) -> None:
        self.conn.execute("DELETE FROM timers WHERE run_id = ? AND key = ?", (run_id, key))

    def take_due_timers(self, now: int, limit: int) -> list[tuple[str, str]]:
        rows = self.conn.execute(
            "SELECT run_id, key FROM timers WHERE due_at <= ? ORDER BY due_at LIMIT ?",
            (now, limit),
        ).fetchall()
        self.conn.executemany("DELETE FROM timers WHERE run_id = ? AND key = ?", rows)
        return [(row[0], row[1]) for row in rows]

    def next_timer_due(self) -> int | None:
        row = self.conn.execute("SELECT MIN(due_at) FROM timers").fetchone()
        return row[0] if row and row[0] is not None else None
