"""Definitions' domain operations, shared by both backends: task and workflow definitions,
the run definitions runs keep, the generation counter caches watch, and contracts.

Written once in the SQL both backends accept (see ``dialect``); nothing here differs but the
placeholders, which ``TxDialect`` rewrites.
"""

from __future__ import annotations

from typing import Any

import orjson

from podium.store.dialect import TxDialect

__all__ = ["GENERATION_SQL", "DefinitionsTxMixin"]

GENERATION_SQL = "SELECT generation FROM definitions_generation"


class DefinitionsTxMixin(TxDialect):
    __slots__ = ()

    # ---- task and workflow definitions ----------------------------------------------------

    def put_task_def(self, name: str, body: dict[str, Any], now: int) -> None:
        self._w(
            "INSERT INTO task_defs (name, body, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            (name, orjson.dumps(body), now),
        )
        self._bump()

    def get_task_def(self, name: str) -> dict[str, Any] | None:
        row = self._x("SELECT body FROM task_defs WHERE name = ?", (name,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def list_task_defs(self) -> list[dict[str, Any]]:
        rows = self._x("SELECT body FROM task_defs ORDER BY name").fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def delete_task_def(self, name: str) -> bool:
        self._bump()
        return bool(self._x("DELETE FROM task_defs WHERE name = ?", (name,)).rowcount > 0)

    def put_workflow_def(self, name: str, version: int, body: dict[str, Any], now: int) -> None:
        self._w(
            "INSERT INTO workflow_defs (name, version, body, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name, version) DO UPDATE "
            "SET body = excluded.body, updated_at = excluded.updated_at",
            (name, version, orjson.dumps(body), now, now),
        )
        self._bump()

    def get_workflow_def(self, name: str, version: int | None) -> dict[str, Any] | None:
        if version is None:
            row = self._x(
                "SELECT body FROM workflow_defs WHERE name = ? ORDER BY version DESC LIMIT 1",
                (name,),
            ).fetchone()
        else:
            row = self._x(
                "SELECT body FROM workflow_defs WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
        return orjson.loads(row[0]) if row else None

    def list_workflow_defs(self) -> list[dict[str, Any]]:
        rows = self._x("SELECT body FROM workflow_defs ORDER BY name, version").fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def delete_workflow_def(self, name: str, version: int) -> bool:
        self._bump()
        cursor = self._x(
            "DELETE FROM workflow_defs WHERE name = ? AND version = ?", (name, version)
        )
        return bool(cursor.rowcount > 0)

    # ---- the generation -------------------------------------------------------------------

    def _bump(self) -> None:
        """Every change to a definition (or a service) moves the generation on, so each
        instance's definition caches notice it and reload."""
        self._w("UPDATE definitions_generation SET generation = generation + 1")
        self._generation_changed()

    def _generation_changed(self) -> None:
        """Hook: a transaction that remembers the generation forgets it here."""

    def definitions_generation(self) -> int:
        row = self._x(GENERATION_SQL).fetchone()
        return int(row[0])

    # ---- run definitions ------------------------------------------------------------------

    def put_run_definition(self, key: str, body: dict[str, Any]) -> None:
        # A run definition never changes once stored: the first body under a key stands.
        self._w(
            "INSERT INTO run_definitions (key, body) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (key, orjson.dumps(body)),
        )

    def get_run_definition(self, key: str) -> dict[str, Any] | None:
        row = self._x("SELECT body FROM run_definitions WHERE key = ?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else None

    # ---- contracts ------------------------------------------------------------------------

    def put_contract(
        self, kind: str, name: str, semver: tuple[int, int, int], body: dict[str, Any], now: int
    ) -> bool:
        version = ".".join(str(part) for part in semver)
        cursor = self._x(
            "INSERT INTO contracts (kind, name, version, major, minor, patch, body, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, name, version) DO NOTHING",
            (kind, name, version, *semver, orjson.dumps(body), now),
        )
        return bool(cursor.rowcount > 0)

    def get_contract(self, kind: str, name: str, version: str | None) -> dict[str, Any] | None:
        if version is None:
            row = self._x(
                "SELECT body FROM contracts WHERE kind = ? AND name = ? "
                "ORDER BY major DESC, minor DESC, patch DESC LIMIT 1",
                (kind, name),
            ).fetchone()
        else:
            row = self._x(
                "SELECT body FROM contracts WHERE kind = ? AND name = ? AND version = ?",
                (kind, name, version),
            ).fetchone()
        return orjson.loads(row[0]) if row else None

    def list_contract_versions(self, kind: str, name: str) -> list[str]:
        rows = self._x(
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
        rows = self._x(
            f"SELECT c.body FROM contracts AS c {where} "
            "ORDER BY c.kind, c.name, c.major, c.minor, c.patch",
            (kind,) if kind else (),
        ).fetchall()
        return [orjson.loads(row[0]) for row in rows]
