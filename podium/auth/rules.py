"""Who may call what: each request needs one permission, and each role grants some.

Anything not named here needs ADMIN, so a route added later is closed until it is listed.
Some permissions are not a route's: the route asks for them once it has read the request
(an inline ``workflowDef`` needs ``definitions:inline``); a key gets them from a role or as a
grant of its own.
"""

from __future__ import annotations

import re
from enum import StrEnum

from podium.auth.keys import ApiKey, Role

__all__ = ["GRANTABLE", "Permission", "grants", "key_may", "required_permission"]


class Permission(StrEnum):
    PUBLIC = "public"
    READ = "read"
    WORK = "work"
    OPERATE = "operate"
    ADMIN = "admin"
    DEFINITIONS_INLINE = "definitions:inline"
    """Run a definition given with the request instead of a registered one."""


GRANTABLE = frozenset({Permission.DEFINITIONS_INLINE})
"""What a key may be granted beyond its roles: never a role's whole permission."""

_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: frozenset({Permission.PUBLIC, Permission.READ, Permission.OPERATE}),
    Role.READER: frozenset({Permission.PUBLIC, Permission.READ}),
    Role.WORKER: frozenset({Permission.PUBLIC, Permission.WORK}),
}

# The API's own description is no secret (the project is open source), and a browser opening
# ``/docs`` sends no key: the page, its assets and the document it reads are open.
_PUBLIC = ("/api/health", "/api/token", "/ui", "/docs", "/redoc", "/openapi.json")
_ADMIN_READS = ("/api/keys",)
_WORK = [
    ("GET", re.compile(r"^/api/tasks/poll(/batch)?/[^/]+$")),
    ("POST", re.compile(r"^/api/tasks(/update-v2|/update-batch)?$")),
    ("POST", re.compile(r"^/api/tasks/[^/]+/log$")),
    # A run's ids are never ``queue``: ``/api/tasks/queue/requeue/{type}`` is an operator's.
    ("POST", re.compile(r"^/api/tasks/(?!queue/)[^/]+/[^/]+/[A-Z_]+(/sync)?$")),
    ("POST", re.compile(r"^/api/tasks/[^/]+/[A-Z_]+/signal(/sync)?$")),
]
# GETs that change something (Conductor's clients pause schedules so): never a reader's.
_CHANGING_GETS = [
    (Permission.OPERATE, re.compile(r"^/api/scheduler/schedules/[^/]+/(pause|resume)$")),
    (Permission.ADMIN, re.compile(r"^/api/scheduler/admin/")),
]
# Requests that send a body but change nothing (checking a definition).
_READ_POSTS = [("POST", re.compile(r"^/api/metadata/workflow/validate$"))]
_OPERATE = [
    ("POST", re.compile(r"^/api/workflow/?$")),
    ("POST", re.compile(r"^/api/workflow/[^/]+$")),
    ("POST", re.compile(r"^/api/workflow/execute/.+$")),
    ("POST", re.compile(r"^/api/workflow/[^/]+/(retry|restart|rerun|resetcallbacks)$")),
    ("PUT", re.compile(r"^/api/workflow/[^/]+/(pause|resume|skiptask/[^/]+)$")),
    ("DELETE", re.compile(r"^/api/workflow/[^/]+$")),
    ("POST", re.compile(r"^/api/workflow/[^/]+/(signal|tasks)/.+$")),
    ("POST", re.compile(r"^/api/workflow/bulk/.+$")),
    ("PUT", re.compile(r"^/api/workflow/bulk/.+$")),
    ("POST", re.compile(r"^/api/bulk/rerun$")),
    ("POST", re.compile(r"^/api/events/.+$")),
    ("POST", re.compile(r"^/api/tasks/queue/requeue/[^/]+$")),
    ("PUT", re.compile(r"^/api/scheduler/schedules/[^/]+/(pause|resume)$")),
    ("POST", re.compile(r"^/api/scheduler/schedules/[^/]+/backfill$")),
]


def required_permission(method: str, path: str) -> Permission:
    if path.startswith(_PUBLIC) or path in ("/", "/favicon.ico"):
        return Permission.PUBLIC
    for verb, pattern in _WORK:
        if method == verb and pattern.match(path):
            return Permission.WORK
    if method in ("GET", "HEAD"):
        for permission, pattern in _CHANGING_GETS:
            if pattern.match(path):
                return permission
    if method in ("GET", "HEAD") or any(
        method == verb and pattern.match(path) for verb, pattern in _READ_POSTS
    ):
        return Permission.ADMIN if path.startswith(_ADMIN_READS) else Permission.READ
    for verb, pattern in _OPERATE:
        if method == verb and pattern.match(path):
            return Permission.OPERATE
    return Permission.ADMIN


def grants(roles: frozenset[Role], permission: Permission) -> bool:
    return any(permission in _GRANTS[role] for role in roles)


def key_may(key: ApiKey, permission: Permission) -> bool:
    """Whether ``key``'s roles, or a grant of its own, give it ``permission``."""
    return grants(key.roles, permission) or (permission in GRANTABLE and permission in key.grants)
