"""The numbered SQL migration files shipped with the package, one folder per backend.

A migration is applied once, in order, and recorded in ``schema_migrations``; files are never
edited after release, only added, so every database walks the same path to the same schema.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["migrations", "statements"]


def migrations(backend: str) -> list[tuple[int, str]]:
    """``(version, sql)`` of every migration for ``backend`` ("sqlite" or "postgres"), in order."""
    folder = resources.files("podium.store") / "sql" / backend
    found: list[tuple[int, str]] = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


def statements(sql: str) -> list[str]:
    """The statements of a migration file: ``--`` comments dropped, split on semicolons."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [statement.strip() for statement in code.split(";") if statement.strip()]
