"""What a key may do once the request is read: the task types it is limited to, its grants.

The middleware decides from the method and path alone. Two questions need more: which type
the task a request names is (a key with ``taskTypes`` may act only on those), and whether the
request carries an inline definition (which needs ``definitions:inline``). Routes ask them
here, of the key the middleware left in the request's scope; with auth off there is none, and
everything is allowed, as every route is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.auth.keys import ApiKey, Role
from podium.auth.rules import Permission, key_may
from podium.errors import ForbiddenError

__all__ = [
    "CALLER_KEY",
    "caller",
    "caller_id",
    "check_task_type",
    "require",
    "task_limited",
]

CALLER_KEY = "podium.api_key"
"""Where the middleware leaves the caller's ``ApiKey`` in the ASGI scope."""


def caller(scope: Mapping[str, Any]) -> ApiKey | None:
    """The key the request was let in with; None with auth off (or on a public route)."""
    found = scope.get(CALLER_KEY)
    return found if isinstance(found, ApiKey) else None


def caller_id(scope: Mapping[str, Any]) -> str | None:
    key = caller(scope)
    return key.key_id if key is not None else None


def task_limited(key: ApiKey | None) -> bool:
    """Whether ``key`` may act only on the task types it names (an admin never is, as polls
    have always treated it)."""
    return key is not None and bool(key.task_types) and Role.ADMIN not in key.roles


def check_task_type(key: ApiKey | None, task_type: str, what: str) -> None:
    """403 naming the type when ``key`` is limited to other task types; ``what`` says which
    task, for the message."""
    if key is None or not task_limited(key) or task_type in key.task_types:
        return
    raise ForbiddenError(
        f"key {key.key_id} may act only on tasks of type {', '.join(sorted(key.task_types))}; "
        f"{what} is of type {task_type}",
        service="server",
        field="taskType",
    )


def require(key: ApiKey | None, permission: Permission, field: str, why: str) -> None:
    """403 naming the permission, and the ``field`` of the request that needs it, unless the
    key (by a role or a grant) has it."""
    if key is None or key_may(key, permission):
        return
    roles = ", ".join(sorted(key.roles)) or "none"
    raise ForbiddenError(
        f"key {key.key_id} (roles: {roles}) may not {why}: it needs the admin role or the "
        f"{permission} grant",
        service="server",
        field=field,
    )
