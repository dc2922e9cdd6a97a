"""Reading PODIUM_DATABASE_URL: one server, several hosts, or a list of URLs."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import PoolTimeout

from podium.errors import ValidationError
from podium.store.postgres_conninfo import is_postgres_url, primary_conninfo
from podium.store.postgres_outage import is_primary_lost


def _parts(url: str) -> dict[str, object]:
    return dict(conninfo_to_dict(primary_conninfo(url)))


def test_one_server_gets_a_connect_timeout_and_no_session_attrs():
    parts = _parts("postgresql://u@db:5432/podium")
    assert parts == {
        "user": "u",
        "host": "db",
        "port": "5432",
        "dbname": "podium",
        "connect_timeout": "2",
        "keepalives": "1",
        "keepalives_idle": "5",
        "keepalives_interval": "2",
        "keepalives_count": "3",
        "tcp_user_timeout": "10000",
    }
    assert _parts("postgresql://u@db/podium?keepalives_idle=60")["keepalives_idle"] == "60"


def test_several_hosts_keep_to_the_one_that_accepts_writes():
    parts = _parts("postgresql://u@a:5432,b:5433/podium")
    assert parts["host"] == "a,b" and parts["port"] == "5432,5433"
    assert parts["target_session_attrs"] == "read-write"
    spelled = _parts("host=a,b port=1,2 dbname=podium target_session_attrs=primary")
    assert spelled["target_session_attrs"] == "primary"  # what the operator chose stands


def test_a_list_of_urls_becomes_one_multi_host_string():
    parts = _parts(
        "postgresql://u@a:1/podium?connect_timeout=5, postgresql://u@b:2/podium?connect_timeout=5"
    )
    assert parts["host"] == "a,b" and parts["port"] == "1,2"
    assert parts["dbname"] == "podium" and parts["connect_timeout"] == "5"
    assert parts["target_session_attrs"] == "read-write"


def test_a_list_whose_databases_differ_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as refused:
        primary_conninfo("postgresql://u@a/one,postgresql://u@b/two")
    assert refused.value.field == "database_url"
    with pytest.raises(ValidationError):
        primary_conninfo("host=a dbname='unterminated")


def test_urls_and_keyword_strings_name_postgres():
    assert is_postgres_url("postgresql://a/b") and is_postgres_url("postgres://a/b")
    assert is_postgres_url("host=a,b dbname=podium")
    assert not is_postgres_url("podium.db") and not is_postgres_url("/var/lib/podium.db")


def test_a_lost_primary_is_told_from_a_statement_that_failed():
    assert is_primary_lost(PoolTimeout("no connection"))
    assert is_primary_lost(psycopg.OperationalError("server closed the connection"))
    assert is_primary_lost(pg_errors.AdminShutdown("terminating connection"))
    assert is_primary_lost(pg_errors.ReadOnlySqlTransaction("read-only"))
    assert is_primary_lost(pg_errors.ConnectionFailure("gone"))
    assert not is_primary_lost(pg_errors.QueryCanceled("statement timeout"))
    assert not is_primary_lost(pg_errors.UniqueViolation("duplicate"))
    assert not is_primary_lost(ValueError("not a driver error"))
