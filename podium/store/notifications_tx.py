"""Notifications' domain operations, shared by both backends (see ``notifications_base``).

Written once in the SQL both backends accept (see ``dialect``). The pump takes due rows with
``SKIP LOCKED`` on PostgreSQL, so instances pumping at once each send different rows.
"""

from __future__ import annotations

from typing import Any

import orjson

from podium.store.dialect import TxDialect
from podium.store.notifications_base import NotificationRow, NotificationState

__all__ = ["NotificationsTxMixin"]

_COLUMNS = (
    "id, dedupe_key, channel, kind, event, run_id, service, target, body, state, attempts, "
    "next_at, last_error, created_at, updated_at"
)


def _row(row: tuple[Any, ...]) -> NotificationRow:
    return NotificationRow(
        id=row[0],
        dedupe_key=row[1],
        channel=row[2],
        kind=row[3],
        event=row[4],
        run_id=row[5],
        service=row[6],
        target=orjson.loads(row[7]),
        body=orjson.loads(row[8]),
        state=row[9],
        attempts=int(row[10]),
        next_at=int(row[11]),
        last_error=row[12],
        created_at=int(row[13]),
        updated_at=int(row[14]),
    )


class NotificationsTxMixin(TxDialect):
    __slots__ = ()

    def add_notification(self, row: NotificationRow) -> bool:
        cursor = self._x(
            f"INSERT INTO notifications ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (dedupe_key) DO NOTHING",
            (
                row.id,
                row.dedupe_key,
                row.channel,
                row.kind,
                row.event,
                row.run_id,
                row.service,
                orjson.dumps(row.target),
                orjson.dumps(row.body),
                row.state,
                row.attempts,
                row.next_at,
                row.last_error,
                row.created_at,
                row.updated_at,
            ),
        )
        return bool(cursor.rowcount > 0)

    def due_notifications(self, now: int, limit: int) -> list[NotificationRow]:
        rows = self._x(
            f"SELECT {_COLUMNS} FROM notifications WHERE state = ? AND next_at <= ? "
            f"ORDER BY next_at, id LIMIT ?{self._skip_locked}",
            (NotificationState.PENDING, now, limit),
        ).fetchall()
        return [_row(row) for row in rows]

    def next_notification_due(self) -> int | None:
        row = self._x(
            "SELECT MIN(next_at) FROM notifications WHERE state = ?", (NotificationState.PENDING,)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def get_notification(self, notification_id: str) -> NotificationRow | None:
        row = self._x(
            f"SELECT {_COLUMNS} FROM notifications WHERE id = ?{self._for_update}",
            (notification_id,),
        ).fetchone()
        return _row(row) if row else None

    def set_notification(
        self,
        notification_id: str,
        *,
        state: str,
        attempts: int,
        next_at: int,
        last_error: str | None,
        now: int,
    ) -> None:
        self._w(
            "UPDATE notifications SET state = ?, attempts = ?, next_at = ?, last_error = ?, "
            "updated_at = ? WHERE id = ?",
            (state, attempts, next_at, last_error, now, notification_id),
        )

    def add_notification_attempt(
        self, notification_id: str, at: int, ok: bool, detail: str
    ) -> None:
        self._w(
            "INSERT INTO notification_attempts (notification_id, at, ok, detail) "
            "VALUES (?, ?, ?, ?)",
            (notification_id, at, int(ok), detail),
        )

    def notification_attempts(self, notification_id: str) -> list[dict[str, Any]]:
        rows = self._x(
            "SELECT at, ok, detail FROM notification_attempts WHERE notification_id = ? "
            "ORDER BY id",
            (notification_id,),
        ).fetchall()
        return [{"at": r[0], "ok": bool(r[1]), "detail": r[2]} for r in rows]

    def list_notifications(
        self, state: str | None, run_id: str | None, limit: int
    ) -> list[NotificationRow]:
        where, params = ["1 = 1"], []
        if state is not None:
            where.append("state = ?")
            params.append(state)
        if run_id is not None:
            where.append("run_id = ?")
            params.append(run_id)
        rows = self._x(
            f"SELECT {_COLUMNS} FROM notifications WHERE {' AND '.join(where)} "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [_row(row) for row in rows]

    def remove_old_notifications(self, before_ms: int, limit: int) -> int:
        # Pending ones stay whatever their age: they are still to be sent.
        rows = self._x(
            "SELECT id FROM notifications WHERE created_at < ? AND state <> ? "
            "ORDER BY created_at LIMIT ?",
            (before_ms, NotificationState.PENDING, limit),
        ).fetchall()
        if not rows:
            return 0
        ids = [row[0] for row in rows]
        clause, params = self._in("notification_id", ids)
        self._x(f"DELETE FROM notification_attempts WHERE {clause}", params)
        clause, params = self._in("id", ids)
        return int(self._x(f"DELETE FROM notifications WHERE {clause}", params).rowcount)
