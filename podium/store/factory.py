"""Choosing the backend from settings: PostgreSQL when a URL is given, else the SQLite file."""

from __future__ import annotations

from podium.errors import ValidationError
from podium.settings import Settings
from podium.store.base import Store
from podium.store.postgres import PostgresStore, is_postgres_url
from podium.store.sqlite import SQLiteStore

__all__ = ["store_for"]


def store_for(settings: Settings) -> Store:
    """``database_url`` (or a ``database`` that is a URL) selects PostgreSQL."""
    url = settings.database_url or (
        settings.database if is_postgres_url(settings.database) else None
    )
    if url is None:
        return SQLiteStore(settings.database, synchronous=settings.sqlite_synchronous)
    if not is_postgres_url(url):
        raise ValidationError(
            f"database URL must start with postgresql://, not {url.split(':', 1)[0]!r}; "
            "for SQLite give a file path as the database instead",
            service="server",
            field="database_url",
        )
    return PostgresStore(
        url, schema=settings.database_schema, pool_size=settings.database_pool_size
    )
