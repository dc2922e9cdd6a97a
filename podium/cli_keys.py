"""``podium keys ...``: API keys for a server with authentication on."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from podium.auth.rules import GRANTABLE
from podium.cli_output import client, echo_json, fail, stdout
from podium.client import DEFAULT_SERVER

__all__ = ["keys_app"]

keys_app = typer.Typer(
    help="API keys: create (the secret is shown once), list, revoke.", no_args_is_help=True
)

ServerOpt = Annotated[
    str,
    typer.Option("--server", envvar="PODIUM_SERVER", help="Base URL of the Podium server."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _create_in_store(
    db: str | None, database_url: str | None, schema: str | None, spec: dict[str, Any]
) -> dict[str, Any]:
    """Write a key straight into the store: how the first admin key is made."""
    from podium.auth.keys import ApiKey, Role, hash_secret, new_secret
    from podium.settings import Settings
    from podium.store.factory import store_for

    settings = Settings.from_env(database=db, database_url=database_url, database_schema=schema)
    key = ApiKey(
        key_id=spec.get("keyId") or f"key-{secrets.token_hex(6)}",
        roles=frozenset(Role(role) for role in spec["roles"]),
        task_types=frozenset(spec["taskTypes"]),
        grants=frozenset(spec["grants"]),
        description=spec["description"],
    )
    secret = new_secret()
    now = time.time_ns() // 1_000_000

    async def write() -> None:
        store = store_for(settings)
        await store.open()
        try:

            def unit(tx: Any) -> None:
                if tx.get_api_key(key.key_id) is not None:
                    raise ValueError(f"key {key.key_id} already exists")
                tx.put_api_key(key.key_id, hash_secret(secret), key.to_body(), now)

            await store.write(unit)
        finally:
            await store.close()

    asyncio.run(write())
    return {"keyId": key.key_id, "keySecret": secret, **key.to_body()}


@keys_app.command("create")
def create(
    role: Annotated[
        list[str],
        typer.Option("--role", help="admin, operator, worker or reader (repeatable)."),
    ],
    task_type: Annotated[
        list[str] | None,
        typer.Option("--task-type", help="For worker keys: a task type it may poll."),
    ] = None,
    grant: Annotated[
        list[str] | None,
        typer.Option(
            "--grant",
            help="A permission beyond the roles' (repeatable): definitions:inline lets an "
            "operator key start runs of inline workflowDefs.",
        ),
    ] = None,
    key_id: Annotated[str | None, typer.Option("--id", help="The key's id.")] = None,
    description: Annotated[str, typer.Option(help="What the key is for.")] = "",
    db: Annotated[
        str | None, typer.Option("--db", help="Write into this SQLite file directly.")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Write into this PostgreSQL database directly."),
    ] = None,
    schema: Annotated[str | None, typer.Option("--schema", help="PostgreSQL schema.")] = None,
    server: ServerOpt = DEFAULT_SERVER,
    as_json: JsonOpt = False,
) -> None:
    """Create a key. With --db or --database-url it goes straight into the store (the way to
    make the first admin key); otherwise through the server, with an admin key."""
    allowed = {"admin", "operator", "worker", "reader"}
    unknown = [r for r in role if r not in allowed]
    if unknown:
        raise typer.BadParameter(
            f"unknown role {unknown[0]!r}; use one of {', '.join(sorted(allowed))}",
            param_hint="--role",
        )
    refused = [g for g in grant or [] if g not in GRANTABLE]
    if refused:
        raise typer.BadParameter(
            f"{refused[0]!r} cannot be granted; use {', '.join(sorted(GRANTABLE))}",
            param_hint="--grant",
        )
    spec = {
        "keyId": key_id,
        "roles": role,
        "taskTypes": task_type or [],
        "grants": grant or [],
        "description": description,
    }
    if db or database_url:
        try:
            created = _create_in_store(db, database_url, schema, spec)
        except Exception as exc:  # the store's and the driver's errors alike end the command
            fail(str(exc))
    else:
        with client(server) as api:
            created = api.create_key(
                role,
                key_id=key_id,
                task_types=task_type or [],
                description=description,
                grants=grant or [],
            )
    if as_json:
        echo_json(created)
        return
    out = stdout()
    out.print(f"key {created['keyId']} ({', '.join(created['roles'])})")
    if created.get("grants"):
        out.print(f"  grants: {', '.join(created['grants'])}")
    out.print(f"  secret: {created['keySecret']}  (shown this once)")
    out.print(f"  use as: PODIUM_API_KEY={created['keyId']}:{created['keySecret']}")


@keys_app.command("list")
def list_keys(server: ServerOpt = DEFAULT_SERVER, as_json: JsonOpt = False) -> None:
    """Every key (never secrets)."""
    with client(server) as api:
        keys = api.list_keys()
    if as_json:
        echo_json(keys)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("key", "roles", "task types", "grants", "revoked", "description"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key["keyId"],
            ", ".join(key.get("roles", [])),
            ", ".join(key.get("taskTypes", [])),
            ", ".join(key.get("grants", [])),
            "yes" if key.get("revokedAt") else "",
            key.get("description", ""),
        )
    stdout().print(table)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id.")],
    server: ServerOpt = DEFAULT_SERVER,
) -> None:
    """Revoke a key: it and its tokens stop working within seconds on every instance."""
    with client(server) as api:
        api.revoke_key(key_id)
    stdout().print(f"revoked key {key_id}")
