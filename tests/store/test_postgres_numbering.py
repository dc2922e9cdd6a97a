"""PostgreSQL databases migrated under the old migration numbers are renumbered, once.

``OLD_NUMBERS`` is the PostgreSQL migration set as it was numbered before the numbers were
aligned with SQLite's, by the files' names (a migration's file is never edited after release,
only renumbered): a schema built from it, then opened by today's ``migrate``, must end with
the aligned versions and the very schema a fresh one gets.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from importlib import resources
from typing import Any

import psycopg
import pytest
from psycopg import sql

from podium.store.migrations import migrations, statements
from podium.store.postgres import migrate
from tests.postgres import fresh_database, new_schema_name

OLD_NUMBERS = {
    1: "initial",
    2: "contracts",
    3: "resilience",
    4: "events",
    5: "auth",
    6: "runs_fillfactor",
    7: "retention_of_keys",
    8: "lease_tokens",
}
"""Each old number and the name of its migration, as PostgreSQL's files were named then."""
SHIPPED = resources.files("podium.store") / "sql" / "postgres"
ALL_VERSIONS = [version for version, _ in migrations("postgres")]
NEWER = [version for version in ALL_VERSIONS if version > 10]
"""Migrations added after the numbering was aligned: an old database gets them as it opens."""


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with fresh_database() as database:
        yield database


def migrate_the_old_way(url: str, schema: str, up_to: int) -> None:
    """What ``migrate`` did before: the old files in order, each recorded by its old number."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        conn.execute(
            "CREATE TABLE schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ DEFAULT now())"
        )
        for version, name in sorted(OLD_NUMBERS.items()):
            if version > up_to:
                break
            (path,) = [f for f in SHIPPED.iterdir() if f.name.endswith(f"_{name}.sql")]
            for statement in statements(path.read_text()):
                conn.execute(statement.encode())
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))


def query(url: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(statement, params).fetchall()


def versions(url: str, schema: str) -> list[int]:
    return [
        row[0]
        for row in query(
            url,
            sql.SQL("SELECT version FROM {}.schema_migrations ORDER BY version")
            .format(sql.Identifier(schema))
            .as_string(),
        )
    ]


def shape(url: str, schema: str) -> dict[str, Any]:
    """Every table's columns, every index and every table's storage options in ``schema``."""
    columns = query(
        url,
        "SELECT table_name, column_name, data_type, is_nullable, "
        "replace(column_default, %s, '') FROM information_schema.columns "
        "WHERE table_schema = %s ORDER BY table_name, column_name",
        schema + ".",
        schema,
    )
    indexes = query(
        url,
        "SELECT tablename, indexname, replace(indexdef, %s, '') FROM pg_indexes "
        "WHERE schemaname = %s ORDER BY indexname",
        schema + ".",
        schema,
    )
    options = query(
        url,
        "SELECT c.relname, c.reloptions FROM pg_class AS c JOIN pg_namespace AS n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname",
        schema,
    )
    return {"columns": columns, "indexes": indexes, "options": options}


def test_the_numbers_name_the_same_migrations_on_both_backends():
    sqlite = {version: sql for version, sql in migrations("sqlite")}
    postgres = {version: sql for version, sql in migrations("postgres")}
    assert sorted(sqlite) == sorted(postgres) == list(range(1, len(sqlite) + 1))
    # Where one backend has nothing to do, its file says why (and holds no statement).
    assert statements(postgres[2]) == statements(postgres[3]) == []
    assert statements(sqlite[10]) == []
    assert "fillfactor" in postgres[10] and "contracts" in postgres[4]


def test_a_fresh_database_gets_every_migration_and_is_not_renumbered_later(url):
    schema = new_schema_name()
    assert migrate(url, schema) == ALL_VERSIONS
    assert migrate(url, schema) == []
    assert versions(url, schema) == ALL_VERSIONS
    marker = f"SELECT id, numbering FROM {schema}.schema_numbering"
    assert query(url, marker) == [(1, "aligned")]


def test_a_fully_migrated_old_database_is_renumbered_with_nothing_to_apply(url):
    old, fresh = new_schema_name(), new_schema_name()
    migrate_the_old_way(url, old, up_to=8)
    assert versions(url, old) == list(range(1, 9))
    assert migrate(url, old) == NEWER
    assert versions(url, old) == ALL_VERSIONS
    migrate(url, fresh)
    assert shape(url, old) == shape(url, fresh)
    assert shape(url, old)["options"]  # the comparison saw the tables
    assert migrate(url, old) == []  # and only once
    assert versions(url, old) == ALL_VERSIONS


def test_a_partly_migrated_old_database_is_renumbered_then_gets_what_it_lacks(url):
    old, fresh = new_schema_name(), new_schema_name()
    # Old 1-5: initial, contracts, resilience, events, auth; lacking old 6-8.
    migrate_the_old_way(url, old, up_to=5)
    assert migrate(url, old) == [8, 9, 10, *NEWER]
    assert versions(url, old) == ALL_VERSIONS
    migrate(url, fresh)
    assert shape(url, old) == shape(url, fresh)


def test_the_renumbering_keeps_when_each_migration_was_applied(url):
    old = new_schema_name()
    migrate_the_old_way(url, old, up_to=8)
    stamp = f"SELECT version, applied_at FROM {old}.schema_migrations ORDER BY version"
    before = dict(query(url, stamp))
    migrate(url, old)
    after = dict(query(url, stamp))
    assert after[4] == before[2] and after[10] == before[6] and after[9] == before[8]
    assert after[2] == after[3] == before[1]


def test_instances_starting_together_renumber_an_old_database_once(url):
    old, fresh = new_schema_name(), new_schema_name()
    migrate_the_old_way(url, old, up_to=4)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            results.append(migrate(url, old))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results, key=len) == [[], [], [], [7, 8, 9, 10, *NEWER]]
    assert versions(url, old) == ALL_VERSIONS
    migrate(url, fresh)
    assert shape(url, old) == shape(url, fresh)
