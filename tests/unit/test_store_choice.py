"""Which backend the settings select, and how they describe it."""

from __future__ import annotations

import pytest

from podium.errors import ValidationError
from podium.settings import Settings
from podium.store.factory import store_for
from podium.store.postgres import PostgresStore
from podium.store.sqlite import SQLiteStore


def test_sqlite_is_the_default(tmp_path):
    store = store_for(Settings(database=str(tmp_path / "p.db")))
    assert isinstance(store, SQLiteStore)


def test_a_database_url_selects_postgres():
    store = store_for(Settings(database_url="postgresql://u@h/db", database_schema="tenant_a"))
    assert isinstance(store, PostgresStore)
    assert store.schema == "tenant_a"
    assert store.channel == "podium_ready_tenant_a"


def test_a_database_that_is_a_url_selects_postgres_too():
    assert isinstance(store_for(Settings(database="postgres://u@h/db")), PostgresStore)


def test_other_urls_are_refused_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        store_for(Settings(database_url="mysql://u@h/db"))
    assert caught.value.field == "database_url"
    assert "postgresql://" in caught.value.message


def test_a_schema_that_is_not_an_identifier_is_refused():
    with pytest.raises(Exception, match="not a plain identifier"):
        PostgresStore("postgresql://u@h/db", schema="a; DROP TABLE runs")


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("PODIUM_DATABASE_URL", "postgresql://podium:secret@db:5432/podium")
    monkeypatch.setenv("PODIUM_DATABASE_SCHEMA", "orders")
    monkeypatch.setenv("PODIUM_RETENTION_DAYS", "30")
    monkeypatch.setenv("PODIUM_RETENTION_MODE", "archive")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql://podium:secret@db:5432/podium"
    assert settings.database_schema == "orders"
    assert settings.retention_days == 30
    assert settings.retention_mode == "archive"


def test_the_store_description_never_shows_a_password():
    settings = Settings(database_url="postgresql://podium:secret@db:5432/podium")
    assert settings.store_description == "postgresql://podium:***@db:5432/podium"
    assert "secret" not in settings.store_description
    assert Settings(database="x.db").store_description == "sqlite:x.db"
    assert (
        Settings(database_url="postgresql://podium@db/podium").store_description
        == "postgresql://podium@db/podium"
    )


def test_no_password_shows_in_a_list_of_servers_or_a_keyword_string():
    listed = Settings(
        database_url="postgresql://p:s1@a:5432/db,postgresql://p:s2@b:5433/db"
    ).store_description
    assert listed == "postgresql://p:***@a:5432/db,postgresql://p:***@b:5433/db"
    spelled = Settings(database_url="host=a,b password='s 3' dbname=db").store_description
    assert spelled == "host=a,b password=*** dbname=db"
    hosts = Settings(database_url="postgresql://a:5432,b:5433/db?password=s4").store_description
    assert hosts == "postgresql://a:5432,b:5433/db?password=***"
