"""SLOs' domain operations, shared by both backends (see ``slos_base``).

Written once in the SQL both backends accept (see ``dialect``). Counting reads one index
range of the outcomes (a workflow's runs, a step's or a service's task attempts) and sums
every window's counts in the same pass.
"""

from __future__ import annotations

from typing import Any

import orjson

from podium.store.dialect import TxDialect
from podium.store.slos_base import Good, OutcomeFilter, OutcomeRow, SloRow

__all__ = ["SlosTxMixin"]


def _slo(row: tuple[Any, ...]) -> SloRow:
    return SloRow(row[0], int(row[1]), orjson.loads(row[2]), int(row[3]))


class SlosTxMixin(TxDialect):
    __slots__ = ()

    # ---- registered SLOs ------------------------------------------------------------------

    def put_slo(self, name: str, body: dict[str, Any], now: int) -> int | None:
        latest = self.get_slo(name)
        if latest is not None and latest.body == body:
            return None
        version = 1 if latest is None else latest.version + 1
        self._w(
            "INSERT INTO slos (name, version, body, created_at) VALUES (?, ?, ?, ?)",
            (name, version, orjson.dumps(body), now),
        )
        return version

    def get_slo(self, name: str, version: int | None = None) -> SloRow | None:
        if version is None:
            row = self._x(
                "SELECT name, version, body, created_at FROM slos WHERE name = ? "
                "ORDER BY version DESC LIMIT 1",
                (name,),
            ).fetchone()
        else:
            row = self._x(
                "SELECT name, version, body, created_at FROM slos WHERE name = ? AND version = ?",
                (name, version),
            ).fetchone()
        return _slo(row) if row else None

    def list_slos(self) -> list[SloRow]:
        rows = self._x(
            "SELECT s.name, s.version, s.body, s.created_at FROM slos AS s WHERE NOT EXISTS "
            "(SELECT 1 FROM slos AS h WHERE h.name = s.name AND h.version > s.version) "
            "ORDER BY s.name"
        ).fetchall()
        return [_slo(row) for row in rows]

    def list_slo_versions(self, name: str) -> list[SloRow]:
        rows = self._x(
            "SELECT name, version, body, created_at FROM slos WHERE name = ? ORDER BY version",
            (name,),
        ).fetchall()
        return [_slo(row) for row in rows]

    def delete_slo(self, name: str) -> bool:
        return bool(self._x("DELETE FROM slos WHERE name = ?", (name,)).rowcount > 0)

    # ---- outcomes -------------------------------------------------------------------------

    def add_outcomes(self, rows: list[OutcomeRow]) -> None:
        for row in rows:
            self._w(
                "INSERT INTO slo_outcomes (ended_at, workflow, step, service, status, "
                "duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
                (row.ended_at, row.workflow, row.step, row.service, row.status, row.duration_ms),
            )

    def _outcomes_where(self, which: OutcomeFilter) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if which.service is not None:
            clauses.append("service = ?")
            params.append(which.service)
            if which.workflow is not None:
                clauses.append("workflow = ?")
                params.append(which.workflow)
        else:
            clauses += ["workflow = ?", "step = ?"]
            params += [which.workflow, which.step]
        return clauses, params

    def count_outcomes(
        self, which: OutcomeFilter, good: Good, now: int, since: list[int]
    ) -> list[tuple[int, int]]:
        clauses, params = self._outcomes_where(which)
        if good.max_duration_ms is not None:
            clauses.append("duration_ms IS NOT NULL")
            test, test_params = "duration_ms <= ?", [good.max_duration_ms]
        else:
            test, test_params = self._in("status", good.statuses or ("",))
        sums: list[str] = []
        sum_params: list[Any] = []
        for start in since:
            sums.append("SUM(CASE WHEN ended_at > ? THEN 1 ELSE 0 END)")
            sums.append(f"SUM(CASE WHEN ended_at > ? AND {test} THEN 1 ELSE 0 END)")
            sum_params += [start, start, *test_params]
        row = self._x(
            f"SELECT {', '.join(sums)} FROM slo_outcomes "
            f"WHERE {' AND '.join(clauses)} AND ended_at > ? AND ended_at <= ?",
            [*sum_params, *params, min(since), now],
        ).fetchone()
        values = [int(v or 0) for v in row]
        return [(values[i], values[i + 1]) for i in range(0, len(values), 2)]

    def outcome_duration_at(
        self, which: OutcomeFilter, now: int, since: int, rank: int
    ) -> int | None:
        clauses, params = self._outcomes_where(which)
        row = self._x(
            f"SELECT duration_ms FROM slo_outcomes WHERE {' AND '.join(clauses)} "
            "AND duration_ms IS NOT NULL AND ended_at > ? AND ended_at <= ? "
            "ORDER BY duration_ms LIMIT 1 OFFSET ?",
            [*params, since, now, rank],
        ).fetchone()
        return int(row[0]) if row else None

    def remove_outcomes(self, ended_before: int, limit: int) -> int:
        # In slices of about ``limit`` rows, the oldest first, so that a backlog does not
        # hold the store in one long statement: up to the limit-th oldest row's time.
        row = self._x(
            "SELECT ended_at FROM slo_outcomes WHERE ended_at < ? "
            "ORDER BY ended_at LIMIT 1 OFFSET ?",
            (ended_before, limit),
        ).fetchone()
        if row is None:
            cursor = self._x("DELETE FROM slo_outcomes WHERE ended_at < ?", (ended_before,))
        else:
            cursor = self._x("DELETE FROM slo_outcomes WHERE ended_at <= ?", (row[0],))
        return int(cursor.rowcount or 0)
