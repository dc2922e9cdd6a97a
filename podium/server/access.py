"""The checks a route makes once it knows what a request acts on (see ``auth/scope.py``).

A key with ``taskTypes`` may act only on tasks of those types: every task route that names a
task (by id, or by run and reference name) refuses, before anything changes, one of another
type. Results and signals are checked inside the unit of work that records them, once it has
loaded the task, so the check costs no extra read and holds for what that unit records. Keys
without ``taskTypes`` are not checked at all.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from podium.auth.rules import Permission, key_may
from podium.auth.scope import caller, check_task_type, require, task_limited
from podium.dsl.models import TaskType
from podium.engine.state import TaskState
from podium.errors import ForbiddenError
from podium.server.state import orchestrator_of
from podium.store.base import StoreTx

__all__ = [
    "check_inline",
    "check_sync",
    "check_task",
    "check_task_id",
    "scope_type",
    "task_check",
]


def scope_type(task: TaskState) -> str:
    """The type a key's ``taskTypes`` name a task by: what a worker polls for a SIMPLE task
    (its name), the task's type otherwise (``HUMAN``, ``WAIT``, ...), as ``taskType`` reads."""
    return task.name if task.type == TaskType.SIMPLE else str(task.type)


def task_check(request: Request) -> Callable[[TaskState], None] | None:
    """What the orchestrator's unit calls on the task a result or signal names; None when the
    caller's key is not limited to task types."""
    key = caller(request.scope)
    if key is None or not task_limited(key):
        return None

    def check(task: TaskState) -> None:
        check_task_type(key, scope_type(task), f"task {task.task_id}")

    return check


def check_task(request: Request, task: TaskState) -> None:
    """403 if the caller's key is limited to task types that do not include ``task``'s."""
    check = task_check(request)
    if check is not None:
        check(task)


def _stored_task(tx: StoreTx, task_id: str) -> TaskState | None:
    run_id = tx.run_of_task(task_id)
    found = tx.get_run(run_id) if run_id is not None else None
    return found[0].task(task_id) if found is not None else None


async def check_task_id(request: Request, task_id: str) -> None:
    """As ``check_task`` for a task named by id, read first (for rare routes: a log line). An
    unknown id passes: the route answers 404 for it as it always has. A task's type never
    changes, so the check holds for the unit that follows."""
    if not task_limited(caller(request.scope)):
        return
    store = orchestrator_of(request).store
    task = await store.read(lambda tx: _stored_task(tx, task_id))
    if task is not None:
        check_task(request, task)


def check_sync(request: Request) -> None:
    """``/sync`` answers the whole run, every task's input and output: a key limited to task
    types gets it only if it may also read runs."""
    key = caller(request.scope)
    if key is None or not task_limited(key) or key_may(key, Permission.READ):
        return
    raise ForbiddenError(
        f"key {key.key_id} is limited to tasks of type {', '.join(sorted(key.task_types))} "
        "and may not read runs, and /sync answers the whole run: signal without /sync",
        service="server",
    )


def check_inline(request: Request) -> None:
    """An inline ``workflowDef`` runs what nobody registered, and registering is the admin's:
    it needs the admin role or the ``definitions:inline`` grant."""
    require(
        caller(request.scope),
        Permission.DEFINITIONS_INLINE,
        "workflowDef",
        "start a run of an inline workflowDef (a definition nobody registered)",
    )
