"""How the ``podium`` command carries an API key: ``--api-key`` anywhere on the line, and what
to do when a server with auth on refuses the call."""

from __future__ import annotations

import os
from typing import Any

import typer
from typer.core import TyperGroup

__all__ = ["ApiKeyGroup", "hoist_api_key", "unauthenticated"]

_HOW = (
    "set PODIUM_API_KEY=keyId:keySecret or pass --api-key keyId:keySecret (before or after "
    "the command); `podium keys create` makes a key"
)


def unauthenticated(server: str, message: str) -> str:
    """What to tell a CLI user the server refused with 401: the server's own words speak of
    HTTP headers, which the user never sees; they set a variable or a flag."""
    if not os.environ.get("PODIUM_API_KEY"):
        return f"the server at {server} requires an API key: {_HOW}"
    return f"the server at {server} refused the API key ({message}): {_HOW}"


_OPTION = "--api-key"


def hoist_api_key(args: list[str]) -> list[str]:
    """``args`` with every ``--api-key K`` (or ``--api-key=K``) moved to the front.

    The option belongs to the top-level command, and click only reads a group's options
    before the sub-command's name; users write it after (``podium list --api-key K``) just
    as often. Nothing after ``--`` is touched: it is an argument, whatever it looks like.
    Raises ``typer.BadParameter`` for a ``--api-key`` that ends the line.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg == _OPTION:
            if i + 1 == len(args):
                raise typer.BadParameter("needs a value: keyId:keySecret", param_hint=_OPTION)
            front += args[i : i + 2]
            i += 2
            continue
        if arg.startswith(_OPTION + "="):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


class ApiKeyGroup(TyperGroup):
    """The top-level group: reads ``--api-key`` wherever it stands on the command line."""

    # ``ctx`` is click's context, which newer typer releases vendor under a private name.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            hoisted = hoist_api_key(args)
        except typer.BadParameter as exc:
            exc.ctx = ctx
            raise
        return super().parse_args(ctx, hoisted)
