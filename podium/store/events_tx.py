"""The event bus's domain operations, shared by both backends (see ``events_base``).

The SQL is the same on SQLite and PostgreSQL but for placeholders and row locks: queries are
written with ``?`` and PostgreSQL's transaction rewrites them, and PostgreSQL adds
``FOR UPDATE SKIP LOCKED`` where instances must not hand one delivery out twice. SQLite has a
single writer, so there the plain select is already exclusive.
"""

from __future__ import annotations

from typing import Any

import orjson

from podium.store.dialect import TxDialect
from podium.store.events_base import BusEvent, Delivery, DeliveryStatus, OutboxEntry

__all__ = ["EventsTxMixin"]

_EVENT_COLUMNS = (
    "event_id, topic, type, time, payload, source, correlation_id, causation_id, run_id, "
    "task_id, seq"
)
_DELIVERY_COLUMNS = (
    "event_id, kind, subscriber, status, attempts, max_attempts, next_attempt_at, "
    "lease_owner, last_error, outcome, updated_at"
)


def _event(row: tuple[Any, ...]) -> BusEvent:
    values = list(row)
    values[4] = orjson.loads(values[4])
    return BusEvent(*values)


def _delivery(row: tuple[Any, ...]) -> Delivery:
    values = list(row)
    values[9] = orjson.loads(values[9]) if values[9] is not None else None
    return Delivery(*values)


class EventsTxMixin(TxDialect):
    __slots__ = ()

    # ---- events ---------------------------------------------------------------------------

    def insert_event(self, event: BusEvent) -> int | None:
        row = self._x(
            "INSERT INTO events (event_id, topic, type, time, payload, source, correlation_id, "
            "causation_id, run_id, task_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (event_id) DO NOTHING RETURNING seq",
            (
                event.event_id,
                event.topic,
                event.type,
                event.time,
                orjson.dumps(event.payload),
                event.source,
                event.correlation_id,
                event.causation_id,
                event.run_id,
                event.task_id,
            ),
        ).fetchone()
        return int(row[0]) if row else None

    def get_event(self, event_id: str) -> BusEvent | None:
        row = self._x(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id = ?", (event_id,)
        ).fetchone()
        return _event(row) if row else None

    def list_events(
        self,
        *,
        topic: str | None = None,
        correlation_id: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[BusEvent]:
        clauses = ["seq > ?"]
        params: list[Any] = [after_seq]
        if topic is not None:
            clauses.append("topic = ?")
            params.append(topic)
        if correlation_id is not None:
            clauses.append("correlation_id = ?")
            params.append(correlation_id)
        rows = self._x(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE {' AND '.join(clauses)} "
            "ORDER BY seq LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [_event(row) for row in rows]

    # ---- handlers and subscriptions -------------------------------------------------------

    def put_handler(
        self, name: str, event: str, active: bool, body: dict[str, Any], now: int
    ) -> None:
        self._x(
            "INSERT INTO event_handlers (name, event, active, body, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET event = excluded.event, "
            "active = excluded.active, body = excluded.body, updated_at = excluded.updated_at",
            (name, event, int(active), orjson.dumps(body), now),
        )

    def get_handler(self, name: str) -> dict[str, Any] | None:
        row = self._x("SELECT body FROM event_handlers WHERE name = ?", (name,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def list_handlers(self) -> list[dict[str, Any]]:
        rows = self._x("SELECT body FROM event_handlers ORDER BY name").fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def delete_handler(self, name: str) -> bool:
        return bool(self._x("DELETE FROM event_handlers WHERE name = ?", (name,)).rowcount > 0)

    def put_subscription(self, name: str, topic: str, max_attempts: int, now: int) -> None:
        self._x(
            "INSERT INTO event_subscriptions (name, topic, active, max_attempts, created_at) "
            "VALUES (?, ?, 1, ?, ?) ON CONFLICT (name) DO UPDATE SET topic = excluded.topic, "
            "max_attempts = excluded.max_attempts",
            (name, topic, max_attempts, now),
        )

    def list_subscriptions(self) -> list[dict[str, Any]]:
        rows = self._x(
            "SELECT name, topic, max_attempts, created_at FROM event_subscriptions ORDER BY name"
        ).fetchall()
        return [{"name": r[0], "topic": r[1], "maxAttempts": r[2], "createdAt": r[3]} for r in rows]

    def delete_subscription(self, name: str) -> bool:
        self._x("DELETE FROM event_deliveries WHERE kind = 'pull' AND subscriber = ?", (name,))
        return bool(self._x("DELETE FROM event_subscriptions WHERE name = ?", (name,)).rowcount > 0)

    # ---- deliveries -----------------------------------------------------------------------

    def add_delivery(
        self, event_id: str, kind: str, subscriber: str, max_attempts: int, now: int
    ) -> None:
        self._x(
            "INSERT INTO event_deliveries (event_id, kind, subscriber, status, attempts, "
            "max_attempts, next_attempt_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (event_id, kind, subscriber, DeliveryStatus.PENDING, max_attempts, now, now),
        )

    def due_deliveries(self, kind: str, now: int, limit: int) -> list[tuple[str, str]]:
        rows = self._x(
            "SELECT event_id, subscriber FROM event_deliveries WHERE status = ? AND kind = ? "
            "AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
            (DeliveryStatus.PENDING, kind, now, limit),
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def lock_delivery(self, event_id: str, kind: str, subscriber: str) -> Delivery | None:
        row = self._x(
            f"SELECT {_DELIVERY_COLUMNS} FROM event_deliveries WHERE event_id = ? AND kind = ? "
            f"AND subscriber = ? AND status = ?{self._skip_locked}",
            (event_id, kind, subscriber, DeliveryStatus.PENDING),
        ).fetchone()
        return _delivery(row) if row else None

    def update_delivery(self, delivery: Delivery) -> None:
        outcome = orjson.dumps(delivery.outcome) if delivery.outcome is not None else None
        self._x(
            "UPDATE event_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, "
            "lease_owner = ?, last_error = ?, outcome = ?, updated_at = ? "
            "WHERE event_id = ? AND kind = ? AND subscriber = ?",
            (
                delivery.status,
                delivery.attempts,
                delivery.next_attempt_at,
                delivery.lease_owner,
                delivery.last_error,
                outcome,
                delivery.updated_at,
                delivery.event_id,
                delivery.kind,
                delivery.subscriber,
            ),
        )

    def claim_deliveries(
        self, subscriber: str, owner: str, count: int, now: int, lease_ms: int
    ) -> list[Delivery]:
        rows = self._x(
            f"SELECT {_DELIVERY_COLUMNS} FROM event_deliveries WHERE kind = 'pull' "
            "AND subscriber = ? AND status = ? AND next_attempt_at <= ? "
            f"ORDER BY next_attempt_at LIMIT ?{self._skip_locked}",
            (subscriber, DeliveryStatus.PENDING, now, count),
        ).fetchall()
        return [_delivery(row) for row in rows]

    def deliveries_of(self, event_ids: list[str]) -> list[Delivery]:
        if not event_ids:
            return []
        marks = ", ".join("?" for _ in event_ids)
        rows = self._x(
            f"SELECT {_DELIVERY_COLUMNS} FROM event_deliveries WHERE event_id IN ({marks}) "
            "ORDER BY updated_at",
            event_ids,
        ).fetchall()
        return [_delivery(row) for row in rows]

    def dead_letters(self, subscriber: str | None, limit: int) -> list[Delivery]:
        clause, params = ("", []) if subscriber is None else (" AND subscriber = ?", [subscriber])
        rows = self._x(
            f"SELECT {_DELIVERY_COLUMNS} FROM event_deliveries WHERE status = ?{clause} "
            "ORDER BY updated_at LIMIT ?",
            [DeliveryStatus.DEAD, *params, limit],
        ).fetchall()
        return [_delivery(row) for row in rows]

    def replay_dead(self, event_id: str | None, subscriber: str | None, now: int) -> int:
        clauses, params = ["status = ?"], [DeliveryStatus.DEAD]
        if event_id is not None:
            clauses.append("event_id = ?")
            params.append(event_id)
        if subscriber is not None:
            clauses.append("subscriber = ?")
            params.append(subscriber)
        cursor = self._x(
            "UPDATE event_deliveries SET status = ?, attempts = 0, next_attempt_at = ?, "
            f"lease_owner = NULL, updated_at = ? WHERE {' AND '.join(clauses)}",
            [DeliveryStatus.PENDING, now, now, *params],
        )
        return int(cursor.rowcount)

    def next_delivery_due(self, kind: str) -> int | None:
        row = self._x(
            "SELECT MIN(next_attempt_at) FROM event_deliveries WHERE status = ? AND kind = ?",
            (DeliveryStatus.PENDING, kind),
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    # ---- WAIT tasks waiting for an event --------------------------------------------------

    def put_event_wait(
        self, task_id: str, run_id: str, event: str, correlation_id: str | None, now: int
    ) -> None:
        self._x(
            "INSERT INTO event_waits (task_id, run_id, event, correlation_id, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (task_id, run_id, event, correlation_id, now),
        )

    def matching_event_waits(
        self, names: list[str], correlation_id: str | None
    ) -> list[tuple[str, str]]:
        marks = ", ".join("?" for _ in names)
        rows = self._x(
            f"SELECT task_id, run_id FROM event_waits WHERE event IN ({marks}) "
            "AND (correlation_id IS NULL OR correlation_id = ?) ORDER BY created_at",
            [*names, correlation_id],
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def delete_event_wait(self, task_id: str) -> None:
        self._x("DELETE FROM event_waits WHERE task_id = ?", (task_id,))

    # ---- outbox ---------------------------------------------------------------------------

    def add_outbox(self, event_id: str, broker: str, destination: str, now: int) -> None:
        self._x(
            "INSERT INTO event_outbox (event_id, broker, destination, next_attempt_at) "
            "VALUES (?, ?, ?, ?)",
            (event_id, broker, destination, now),
        )

    def claim_outbox(self, broker: str, now: int, limit: int, lease_ms: int) -> list[OutboxEntry]:
        rows = self._x(
            "UPDATE event_outbox SET next_attempt_at = ?, attempts = attempts + 1 "
            "WHERE id IN (SELECT id FROM event_outbox WHERE broker = ? AND next_attempt_at <= ? "
            f"ORDER BY id LIMIT ?{self._skip_locked}) "
            "RETURNING id, event_id, broker, destination, attempts",
            (now + lease_ms, broker, now, limit),
        ).fetchall()
        return sorted((OutboxEntry(*row) for row in rows), key=lambda entry: entry.id)

    def delete_outbox(self, entry_id: int) -> None:
        self._x("DELETE FROM event_outbox WHERE id = ?", (entry_id,))

    def retry_outbox(self, entry_id: int, error: str, next_attempt_at: int) -> None:
        self._x(
            "UPDATE event_outbox SET last_error = ?, next_attempt_at = ? WHERE id = ?",
            (error[:2000], next_attempt_at, entry_id),
        )

    def next_outbox_due(self, broker: str) -> int | None:
        row = self._x(
            "SELECT MIN(next_attempt_at) FROM event_outbox WHERE broker = ?", (broker,)
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    # ---- retention ----------------------------------------------------------------------

    def remove_settled_events(self, published_before: int, limit: int) -> int:
        """Delete up to ``limit`` events published before ``published_before`` that nothing
        still needs (no delivery pending, nothing left to send to a broker), with their
        deliveries; returns how many events went."""
        settled = (
            "e.time < ? AND NOT EXISTS (SELECT 1 FROM event_deliveries AS d "
            "WHERE d.event_id = e.event_id AND d.status = 'PENDING') "
            "AND NOT EXISTS (SELECT 1 FROM event_outbox AS o WHERE o.event_id = e.event_id)"
        )
        row = self._x(
            "SELECT MAX(seq) FROM (SELECT e.seq FROM events AS e "
            f"WHERE {settled} ORDER BY e.seq LIMIT ?) AS batch",
            (published_before, limit),
        ).fetchone()
        if row is None or row[0] is None:
            return 0
        last = int(row[0])
        # A delivery replayed meanwhile is PENDING again and stays, and so does its event.
        self._x(
            "DELETE FROM event_deliveries WHERE status <> 'PENDING' AND event_id IN "
            f"(SELECT e.event_id FROM events AS e WHERE e.seq <= ? AND {settled})",
            (last, published_before),
        )
        gone = self._x(
            "DELETE FROM events WHERE seq <= ? AND time < ? AND NOT EXISTS "
            "(SELECT 1 FROM event_deliveries AS d WHERE d.event_id = events.event_id) "
            "AND NOT EXISTS (SELECT 1 FROM event_outbox AS o WHERE o.event_id = events.event_id)",
            (last, published_before),
        )
        return int(gone.rowcount)
