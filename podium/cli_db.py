"""``podium db ...``: the database schema, outside of a running server."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from podium.settings import Settings

__all__ = ["db_app"]

db_app = typer.Typer(help="The database: apply schema migrations.", no_args_is_help=True)


@db_app.command()
def migrate(
    db: Annotated[
        str | None, typer.Option("--db", help="SQLite file [env: PODIUM_DATABASE].")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="postgresql://... [env: PODIUM_DATABASE_URL]."),
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option("--schema", help="PostgreSQL schema [env: PODIUM_DATABASE_SCHEMA]."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Apply the schema migrations the database lacks (servers also do this as they start).

    Safe to run while servers run, and from several places at once: migrations take a lock.
    """
    from podium.errors import PodiumError
    from podium.store import postgres, sqlite
    from podium.store.migrations import migrations

    settings = Settings.from_env(database=db, database_url=database_url, database_schema=schema)
    url = settings.database_url or (
        settings.database if postgres.is_postgres_url(settings.database) else None
    )
    try:
        if url is not None:
            applied = postgres.migrate(url, settings.database_schema)
            latest = migrations("postgres")[-1][0]
        else:
            applied = sqlite.migrate(settings.database)
            latest = migrations("sqlite")[-1][0]
    except PodiumError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        report = {"store": settings.store_description, "applied": applied, "version": latest}
        typer.echo(json.dumps(report))
        return
    done = ", ".join(str(version) for version in applied) or "none (already up to date)"
    typer.echo(f"{settings.store_description}: schema version {latest}; applied {done}")
