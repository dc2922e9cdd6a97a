"""Schedules' domain operations, shared by both backends (see ``schedules_base``).

Written once in the SQL both backends accept (see ``dialect``). The scheduler locks a
schedule's row before it acts on its ticks; on PostgreSQL with ``SKIP LOCKED``, so instances
ticking at once each take different schedules and none waits on another.
"""

from __future__ import annotations

from typing import Any

import orjson

from podium.store.dialect import TxDialect
from podium.store.schedules_base import TICK_ORDER, ScheduleRow, TickQuery, TickRow, TickState

__all__ = ["SchedulesTxMixin"]

_SCHEDULE_COLUMNS = (
    "name, workflow_name, body, paused, paused_reason, next_tick_ms, last_tick_ms, "
    "consecutive_failures, created_at, updated_at"
)
_TICK_COLUMNS = (
    "schedule_name, nominal_ms, workflow_name, run_id, state, started_ms, reason, updated_at"
)
_OPEN = "state IN ('RUNNING', 'BUFFERED')"
assert TickState.OPEN == ("RUNNING", "BUFFERED")


def _schedule(row: tuple[Any, ...]) -> ScheduleRow:
    return ScheduleRow(
        name=row[0],
        workflow_name=row[1],
        body=orjson.loads(row[2]),
        paused=bool(row[3]),
        paused_reason=row[4],
        next_tick_ms=row[5],
        last_tick_ms=row[6],
        consecutive_failures=int(row[7]),
        created_at=row[8],
        updated_at=row[9],
    )


def _tick(row: tuple[Any, ...]) -> TickRow:
    return TickRow(*row)


class SchedulesTxMixin(TxDialect):
    __slots__ = ()

    # ---- schedules ------------------------------------------------------------------------

    def put_schedule(
        self,
        name: str,
        workflow_name: str,
        body: dict[str, Any],
        *,
        paused: bool,
        paused_reason: str | None,
        next_tick_ms: int | None,
        last_tick_ms: int | None,
        now: int,
    ) -> bool:
        new = self._x("SELECT 1 FROM schedules WHERE name = ?", (name,)).fetchone() is None
        self._w(
            f"INSERT INTO schedules ({_SCHEDULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET workflow_name = excluded.workflow_name, "
            "body = excluded.body, paused = excluded.paused, "
            "paused_reason = excluded.paused_reason, next_tick_ms = excluded.next_tick_ms, "
            "last_tick_ms = excluded.last_tick_ms, updated_at = excluded.updated_at",
            (
                name,
                workflow_name,
                orjson.dumps(body),
                int(paused),
                paused_reason,
                next_tick_ms,
                last_tick_ms,
                now,
                now,
            ),
        )
        return new

    def get_schedule(self, name: str, *, for_update: bool = False) -> ScheduleRow | None:
        lock = self._for_update if for_update else ""
        row = self._x(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE name = ?{lock}", (name,)
        ).fetchone()
        return _schedule(row) if row else None

    def lock_schedule(self, name: str) -> ScheduleRow | None:
        row = self._x(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE name = ?{self._skip_locked}",
            (name,),
        ).fetchone()
        return _schedule(row) if row else None

    def list_schedules(self, workflow_name: str | None = None) -> list[ScheduleRow]:
        if workflow_name is None:
            rows = self._x(f"SELECT {_SCHEDULE_COLUMNS} FROM schedules ORDER BY name").fetchall()
        else:
            rows = self._x(
                f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE workflow_name = ? ORDER BY name",
                (workflow_name,),
            ).fetchall()
        return [_schedule(row) for row in rows]

    def delete_schedule(self, name: str) -> bool:
        self._w("DELETE FROM schedule_ticks WHERE schedule_name = ?", (name,))
        return bool(self._x("DELETE FROM schedules WHERE name = ?", (name,)).rowcount > 0)

    def set_schedule_paused(
        self, name: str, paused: bool, reason: str | None, now: int, *, next_tick_ms: int | None
    ) -> bool:
        if paused:
            cursor = self._x(
                "UPDATE schedules SET paused = 1, paused_reason = ?, updated_at = ? WHERE name = ?",
                (reason, now, name),
            )
        else:
            # A resumed schedule counts failures afresh, and ticks from now on: those that
            # fell while it was paused are not caught up.
            cursor = self._x(
                "UPDATE schedules SET paused = 0, paused_reason = NULL, next_tick_ms = ?, "
                "last_tick_ms = ?, consecutive_failures = 0, updated_at = ? WHERE name = ?",
                (next_tick_ms, now, now, name),
            )
        return bool(cursor.rowcount > 0)

    def advance_schedule(
        self,
        name: str,
        *,
        next_tick_ms: int | None,
        last_tick_ms: int | None,
        consecutive_failures: int,
        now: int,
    ) -> None:
        self._w(
            "UPDATE schedules SET next_tick_ms = ?, last_tick_ms = ?, consecutive_failures = ?, "
            "updated_at = ? WHERE name = ?",
            (next_tick_ms, last_tick_ms, consecutive_failures, now, name),
        )

    def schedules_to_check(
        self, now: int, limit: int, *, ticking: bool, after: str | None = None
    ) -> list[str]:
        open_ticks = (
            "EXISTS (SELECT 1 FROM schedule_ticks AS t WHERE t.schedule_name = s.name "
            f"AND t.{_OPEN})"
        )
        where = (
            f"((s.paused = 0 AND s.next_tick_ms <= ?) OR {open_ticks})" if ticking else open_ticks
        )
        params: list[Any] = [now] if ticking else []
        if after is not None:
            where += " AND s.name > ?"
            params.append(after)
        rows = self._x(
            f"SELECT s.name FROM schedules AS s WHERE {where} ORDER BY s.name LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [row[0] for row in rows]

    def next_schedule_due(self) -> int | None:
        row = self._x(
            "SELECT MIN(next_tick_ms) FROM schedules WHERE paused = 0 AND next_tick_ms IS NOT NULL"
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def schedules_paused(self) -> bool:
        row = self._x("SELECT paused FROM scheduler_admin WHERE id = 1").fetchone()
        return bool(row and row[0])

    def set_schedules_paused(self, paused: bool) -> None:
        self._w(
            "INSERT INTO scheduler_admin (id, paused) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET paused = excluded.paused",
            (int(paused),),
        )

    # ---- ticks ----------------------------------------------------------------------------

    def insert_tick(self, tick: TickRow) -> bool:
        row = self._x(
            f"INSERT INTO schedule_ticks ({_TICK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (schedule_name, nominal_ms) DO NOTHING RETURNING nominal_ms",
            (
                tick.schedule_name,
                tick.nominal_ms,
                tick.workflow_name,
                tick.run_id,
                tick.state,
                tick.started_ms,
                tick.reason,
                tick.updated_at,
            ),
        ).fetchone()
        return row is not None

    def update_tick(
        self,
        schedule_name: str,
        nominal_ms: int,
        *,
        state: str,
        run_id: str | None,
        started_ms: int | None,
        reason: str | None,
        now: int,
    ) -> None:
        self._w(
            "UPDATE schedule_ticks SET state = ?, run_id = ?, started_ms = ?, reason = ?, "
            "updated_at = ? WHERE schedule_name = ? AND nominal_ms = ?",
            (state, run_id, started_ms, reason, now, schedule_name, nominal_ms),
        )

    def get_tick(self, schedule_name: str, nominal_ms: int) -> TickRow | None:
        row = self._x(
            f"SELECT {_TICK_COLUMNS} FROM schedule_ticks WHERE schedule_name = ? "
            "AND nominal_ms = ?",
            (schedule_name, nominal_ms),
        ).fetchone()
        return _tick(row) if row else None

    def open_ticks(self, schedule_name: str) -> list[TickRow]:
        rows = self._x(
            f"SELECT {_TICK_COLUMNS} FROM schedule_ticks WHERE schedule_name = ? AND {_OPEN} "
            "ORDER BY nominal_ms",
            (schedule_name,),
        ).fetchall()
        return [_tick(row) for row in rows]

    def recent_ticks(self, schedule_name: str, limit: int) -> list[TickRow]:
        rows = self._x(
            f"SELECT {_TICK_COLUMNS} FROM schedule_ticks WHERE schedule_name = ? "
            "ORDER BY nominal_ms DESC LIMIT ?",
            (schedule_name, limit),
        ).fetchall()
        return [_tick(row) for row in rows]

    def remove_old_ticks(self, before_ms: int, limit: int) -> int:
        # Ticks still open stay: a running run is watched, a buffered tick waits to start.
        cursor = self._x(
            "DELETE FROM schedule_ticks WHERE (schedule_name, nominal_ms) IN "
            "(SELECT schedule_name, nominal_ms FROM schedule_ticks WHERE nominal_ms < ? "
            f"AND NOT {_OPEN} ORDER BY nominal_ms LIMIT ?)",
            (before_ms, limit),
        )
        return int(cursor.rowcount)

    def search_ticks(self, query: TickQuery) -> tuple[int, list[TickRow]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column, values in (
            ("schedule_name", query.schedule_names),
            ("workflow_name", query.workflow_names),
            ("state", query.states),
        ):
            if values:
                clause, values_params = self._in(column, values)
                clauses.append(clause)
                params.extend(values_params)
        if query.text:
            pattern = f"%{query.text.lower()}%"
            clauses.append(
                "(LOWER(schedule_name) LIKE ? OR LOWER(workflow_name) LIKE ? "
                "OR LOWER(COALESCE(run_id, '')) LIKE ? OR LOWER(COALESCE(reason, '')) LIKE ?)"
            )
            params.extend([pattern] * 4)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        total_row = self._x(f"SELECT COUNT(*) FROM schedule_ticks{where}", params).fetchone()
        # Only TICK_ORDER's columns reach the SQL; ties break on the key, so pages never overlap.
        order = [
            f"{TICK_ORDER[name]} {'DESC' if descending else 'ASC'} NULLS LAST"
            for name, descending in query.order or (("scheduledTime", True),)
        ]
        rows = self._x(
            f"SELECT {_TICK_COLUMNS} FROM schedule_ticks{where} "
            f"ORDER BY {', '.join(order)}, schedule_name, nominal_ms LIMIT ? OFFSET ?",
            [*params, query.size, query.start],
        ).fetchall()
        return int(total_row[0]) if total_row else 0, [_tick(row) for row in rows]
