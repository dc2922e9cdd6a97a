"""How the PostgreSQL tables are laid out where it matters for speed."""

from __future__ import annotations

import psycopg
from psycopg import sql

from podium.store.postgres import migrate
from tests.postgres import drop_schema, new_schema_name


def test_runs_pages_keep_room_for_each_steps_new_row_version(postgres_url: str) -> None:
    schema = new_schema_name()
    migrate(postgres_url, schema)
    try:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            table = sql.Identifier(schema, "runs").as_string(conn)
            row = conn.execute(
                "SELECT reloptions FROM pg_class WHERE oid = %s::regclass", (table,)
            ).fetchone()
            assert row == (["fillfactor=70"],)
    finally:
        drop_schema(postgres_url, schema)
