"""The checks a route makes of the caller's key once it knows the task type or the request."""

from __future__ import annotations

import pytest

from podium.auth.keys import ApiKey, Role
from podium.auth.rules import Permission, key_may
from podium.auth.scope import CALLER_KEY, caller, caller_id, check_task_type, require
from podium.errors import ForbiddenError


def _key(*roles: Role, task_types: tuple[str, ...] = (), grants: tuple[str, ...] = ()) -> ApiKey:
    return ApiKey("k", frozenset(roles), frozenset(task_types), frozenset(grants))


def test_a_key_limited_to_types_is_refused_others_naming_the_type() -> None:
    worker = _key(Role.WORKER, task_types=("pay",))
    check_task_type(worker, "pay", "task t1")
    with pytest.raises(ForbiddenError) as refused:
        check_task_type(worker, "HUMAN", "task t2")
    assert refused.value.status_code == 403
    assert "HUMAN" in refused.value.message and "pay" in refused.value.message
    assert refused.value.field == "taskType"


@pytest.mark.parametrize(
    "key",
    [None, _key(Role.WORKER), _key(Role.ADMIN, Role.WORKER, task_types=("pay",))],
    ids=["auth off", "no types", "admin"],
)
def test_keys_without_types_and_admins_act_on_any_type(key: ApiKey | None) -> None:
    check_task_type(key, "ship", "task t1")


def test_only_grantable_permissions_come_from_a_grant() -> None:
    granted = _key(Role.OPERATOR, grants=("definitions:inline", "admin"))
    assert key_may(granted, Permission.DEFINITIONS_INLINE)
    # A grant of a role's permission, even written into the store by hand, gives nothing.
    assert not key_may(granted, Permission.ADMIN)
    assert key_may(_key(Role.ADMIN), Permission.DEFINITIONS_INLINE)
    assert not key_may(_key(Role.OPERATOR), Permission.DEFINITIONS_INLINE)


def test_require_names_the_field_and_the_grant() -> None:
    require(None, Permission.DEFINITIONS_INLINE, "workflowDef", "run it")
    with pytest.raises(ForbiddenError) as refused:
        require(_key(Role.OPERATOR), Permission.DEFINITIONS_INLINE, "workflowDef", "run it")
    assert refused.value.field == "workflowDef"
    assert "definitions:inline" in refused.value.message


def test_the_caller_is_read_from_the_scope_the_middleware_left() -> None:
    key = _key(Role.READER)
    assert caller({CALLER_KEY: key}) is key and caller_id({CALLER_KEY: key}) == "k"
    assert caller({}) is None and caller_id({}) is None
