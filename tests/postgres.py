"""PostgreSQL for tests: one fresh database per test session, one fresh schema per test.

The local server is the machine's own (trust auth on 127.0.0.1:5432); ``PODIUM_TEST_POSTGRES``
names another admin URL. The database is created when first asked for and dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

ADMIN_URL = os.environ.get("PODIUM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _with_database(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database on the local server; dropped afterwards, whatever happened."""
    name = f"podium_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(ADMIN_URL, name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def new_schema_name() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
