"""Shared fixtures: a real Podium server per test, over each store backend.

``server`` runs every test that uses it once on a fresh SQLite file and once on a fresh
PostgreSQL schema (in a database created for this test session and dropped after it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from podium.testing import PodiumTestServer
from tests.postgres import drop_schema, fresh_database, new_schema_name

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test session's own on the local PostgreSQL server."""
    with fresh_database() as url:
        yield url


class StoreChoice:
    """Where a test's server keeps its runs; several servers may share one choice."""

    def __init__(self, backend: str, tmp_path: Path, postgres_url: str | None) -> None:
        self.backend = backend
        self.sqlite_path = tmp_path / "podium.db"
        self.postgres_url = postgres_url
        self.schema = new_schema_name()

    def server(self, **settings: Any) -> PodiumTestServer:
        """A (not yet started) server on this store."""
        if self.backend == "postgres":
            assert self.postgres_url is not None
            return PodiumTestServer(self.postgres_url, database_schema=self.schema, **settings)
        return PodiumTestServer(self.sqlite_path, **settings)

    def environment(self) -> dict[str, str]:
        """``PODIUM_*`` variables that point a server process at this store."""
        if self.backend == "postgres":
            assert self.postgres_url is not None
            return {"PODIUM_DATABASE_URL": self.postgres_url, "PODIUM_DATABASE_SCHEMA": self.schema}
        return {"PODIUM_DATABASE": str(self.sqlite_path)}

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        """Rows of a read-only SQL statement run directly on this store's database."""
        if self.backend == "postgres":
            assert self.postgres_url is not None
            with psycopg.connect(self.postgres_url) as conn:
                conn.execute(f"SET search_path TO {self.schema}")
                return conn.execute(statement).fetchall()  # type: ignore[arg-type]
        with sqlite3.connect(self.sqlite_path) as conn:
            return conn.execute(statement).fetchall()

    def cleanup(self) -> None:
        if self.backend == "postgres" and self.postgres_url is not None:
            drop_schema(self.postgres_url, self.schema)


@pytest.fixture(params=BACKENDS)
def store_choice(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreChoice]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    choice = StoreChoice(request.param, tmp_path, url)
    try:
        yield choice
    finally:
        choice.cleanup()


@pytest.fixture
def server(store_choice: StoreChoice) -> Iterator[PodiumTestServer]:
    """A running server on a fresh database of each backend."""
    with store_choice.server(sweep_interval_s=0.2) as running:
        yield running


@pytest.fixture
def api(server: PodiumTestServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
