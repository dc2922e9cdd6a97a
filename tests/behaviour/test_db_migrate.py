"""``podium db migrate``: brings a database to the current schema, once."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from podium.cli import app
from podium.store.migrations import migrations


def test_migrate_applies_every_migration_then_nothing(store_choice, monkeypatch):
    for name, value in store_choice.environment().items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    first = runner.invoke(app, ["db", "migrate", "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    expected = [version for version, _ in migrations(store_choice.backend)]
    assert report["applied"] == expected
    assert report["version"] == expected[-1]

    again = runner.invoke(app, ["db", "migrate"])
    assert again.exit_code == 0, again.output
    assert "already up to date" in again.output
    assert store_choice.query("SELECT COUNT(*) FROM runs") == [(0,)]


def test_migrate_reports_an_unreachable_database(monkeypatch):
    monkeypatch.setenv("PODIUM_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(app, ["db", "migrate"])
    assert result.exit_code == 1
    assert "error:" in result.output
