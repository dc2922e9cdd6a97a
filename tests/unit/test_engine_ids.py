"""Derived ids: RFC 4122 version-5 UUIDs of a run id (runs stored without a secret), or
keyed by the run's secret, so that ids made before and after any change agree and nobody who
knows only a run id can compute its task ids."""

from __future__ import annotations

import uuid

import orjson
import pytest

from podium.engine.state import _ID_NAMESPACE, RunState, RunStatus, derive_id, run_scoped_id
from tests.unit.engine_helpers import Run, step, workflow


@pytest.mark.parametrize(
    ("parent", "salt"),
    [("run-1", "s0"), ("0f3a9c1e-aaaa-bbbb-cccc-123456789abc", "loop__2__3"), ("é", "ü/x")],
)
def test_derive_id_is_uuid5_of_parent_and_salt(parent: str, salt: str) -> None:
    derived = derive_id(parent, salt)
    assert derived == str(uuid.uuid5(_ID_NAMESPACE, f"{parent}/{salt}"))
    assert uuid.UUID(derived).version == 5


def _first_task_id(run_id: str, **state: object) -> str:
    run = Run(workflow([step("a")]), run_id=run_id, **state)
    run.start(now=0)
    return run.tid("a")


def test_a_task_id_cannot_be_computed_from_the_run_id_alone() -> None:
    secret, other = "00" * 15 + "01", "00" * 15 + "02"
    task_id = _first_task_id("run-1", id_secret=secret)
    assert task_id != derive_id("run-1", "0/1")
    # Same run id, another secret: another id. Same secret: the same id (decisions replay).
    assert _first_task_id("run-1", id_secret=other) != task_id
    assert _first_task_id("run-1", id_secret=secret) == task_id
    assert uuid.UUID(task_id).version == 8


def test_runs_stored_without_a_secret_keep_their_ids() -> None:
    assert _first_task_id("run-1") == derive_id("run-1", "0/1")
    old = RunState.from_dict(
        {"run_id": "r", "name": "wf", "version": 1, "status": "RUNNING", "created_at": 0}
    )
    assert old.id_secret is None
    assert run_scoped_id(old, "0/1") == derive_id("r", "0/1")


def test_the_secret_is_kept_with_the_run_and_changes_every_id_it_makes() -> None:
    state = RunState("r", "wf", 1, RunStatus.RUNNING, 0, id_secret="ab" * 16)
    again = RunState.from_dict(orjson.loads(state.to_json()))
    assert again.id_secret == state.id_secret
    assert run_scoped_id(again, "failure/0/5") == run_scoped_id(state, "failure/0/5")
    assert run_scoped_id(state, "failure/0/5") != derive_id("r", "failure/0/5")
