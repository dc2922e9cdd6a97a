"""The StoreTx contract suite's fixture: one store per test, on each backend in turn.

``db`` runs each operation as a unit of work of its own (its own transaction, committed
before the call returns), straight on the store with no server; ``db.unit(fn)`` runs several
operations in one. PostgreSQL tests get a fresh schema in this session's own database.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg import sql

from podium.store.base import Store, StoreTx
from podium.store.postgres import PostgresStore
from podium.store.sqlite import SQLiteStore
from tests.postgres import drop_schema, new_schema_name

T = TypeVar("T")


class Units:
    """Calls StoreTx operations on an open store, one transaction per call."""

    def __init__(self, backend: str, store: Store, loop: asyncio.AbstractEventLoop) -> None:
        self.backend = backend
        self.store = store
        self.loop = loop
        self.query: Callable[[str], list[tuple[Any, ...]]]

    def unit(self, fn: Callable[[StoreTx], T]) -> T:
        return self.loop.run_until_complete(self.store.write(fn))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return self.unit(lambda tx: getattr(tx, name)(*args, **kwargs))

        return call


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Units]:
    loop = asyncio.new_event_loop()
    schema = new_schema_name()
    url = ""
    store: Store
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        store = PostgresStore(url, schema=schema, pool_size=2)
    else:
        store = SQLiteStore(tmp_path / "podium.db")
    loop.run_until_complete(store.open())
    units = Units(request.param, store, loop)

    def query(statement: str) -> list[tuple[Any, ...]]:
        """Read the tables directly, for what no StoreTx operation shows."""
        if request.param == "postgres":
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
                return conn.execute(statement.encode()).fetchall()
        with sqlite3.connect(tmp_path / "podium.db") as conn:
            return conn.execute(statement).fetchall()

    units.query = query
    try:
        yield units
    finally:
        loop.run_until_complete(store.close())
        loop.close()
        if request.param == "postgres":
            drop_schema(url, schema)
