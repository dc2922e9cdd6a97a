"""The checks a route makes of the caller's key once it knows the task type."""

from __future__ import annotations

import pytest

from podium.auth.keys import ApiKey, Role
from podium.auth.scope import CALLER_KEY, caller, caller_id, check_task_type
from podium.errors import ForbiddenError


def _key(*roles: Role, task_types: tuple[str, ...] = ()) -> ApiKey:
    return ApiKey("k", frozenset(roles), frozenset(task_types))


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


def test_the_caller_is_read_from_the_scope_the_middleware_left() -> None:
    key = _key(Role.READER)
    assert caller({CALLER_KEY: key}) is key and caller_id({CALLER_KEY: key}) == "k"
    assert caller({}) is None and caller_id({}) is None
