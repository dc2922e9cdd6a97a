"""How the shared transaction mixins speak to either backend (see ``definitions_tx`` and co).

The domain SQL is written once, with ``?`` placeholders, in the dialect both backends accept;
the few places they differ are small hooks here. PostgreSQL's placeholders are rewritten once
per statement text and remembered, so a hot statement costs a dictionary lookup, not a
rewrite. Reads go out at once (``_x``); writes whose result nobody reads go through ``_w``,
which PostgreSQL's transaction queues for the next round trip (see ``postgres_trips``) and
SQLite runs at once (it is in-process: a statement costs no round trip).
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any, ClassVar

__all__ = ["Params", "TxDialect", "postgres_sql"]

Params = tuple[Any, ...] | list[Any]


@functools.cache
def postgres_sql(sql: str) -> str:
    """``sql`` with psycopg's placeholders (no shared statement has a literal ``?``)."""
    return sql.replace("?", "%s")


class TxDialect:
    """The hooks; a backend's transaction sets ``_POSTGRES`` and overrides what it sends."""

    __slots__ = ()
    conn: Any
    _POSTGRES: ClassVar[bool] = False

    def _x(self, sql: str, params: Params = ()) -> Any:
        """Run ``sql`` now and return its cursor, results in hand."""
        return self._execute(postgres_sql(sql) if self._POSTGRES else sql, params)

    def _w(self, sql: str, params: Params = ()) -> None:
        """Run a write whose result nobody reads (PostgreSQL may send it with the next one)."""
        self._write(postgres_sql(sql) if self._POSTGRES else sql, params)

    def _execute(self, sql: str, params: Params) -> Any:
        return self.conn.execute(sql, params)

    def _write(self, sql: str, params: Params) -> None:
        self._execute(sql, params)

    @property
    def _skip_locked(self) -> str:
        """Rows another instance holds are left to it (SQLite's single writer holds them all)."""
        return " FOR UPDATE SKIP LOCKED" if self._POSTGRES else ""

    @property
    def _for_update(self) -> str:
        return " FOR UPDATE" if self._POSTGRES else ""

    @property
    def _greatest(self) -> str:
        """The two-argument maximum: SQLite's scalar MAX is PostgreSQL's GREATEST."""
        return "GREATEST" if self._POSTGRES else "MAX"

    def _in(self, column: str, values: Collection[str]) -> tuple[str, list[Any]]:
        """``column`` is one of ``values``: one array parameter on PostgreSQL (one statement
        text whatever the count), a list of placeholders on SQLite (which has no arrays)."""
        if self._POSTGRES:
            return f"{column} = ANY(?)", [list(values)]
        return f"{column} IN ({', '.join('?' for _ in values)})", list(values)
