"""RunState.to_json: the bytes the store keeps, the same as encoding ``to_dict``."""

from __future__ import annotations

import orjson

from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus


def _every_field_set() -> RunState:
    """A run whose fields, and its tasks' fields, all differ from their defaults."""
    task = TaskState(
        task_id="t1",
        ref="s1__2",
        name="charge",
        type="SIMPLE",
        status=TaskStatus.FAILED,
        seq=3,
        scheduled_at=5,
        input={"amount": 3, "nested": {"list": [1, None, "x"]}},
        output={"ok": False},
        retry_count=1,
        queue="payments",
        available_at=6,
        start_at=7,
        end_at=8,
        update_at=9,
        worker_id="w-1",
        poll_count=2,
        reason="declined",
        retried=True,
        retried_task_id="t2",
        advanced=True,
        sub_workflow_id="child",
        callback_after_s=30,
        logs=[{"log": "hi", "createdTime": 1}],
        iteration=2,
        scope_loops=["loop"],
        scope_iterations=[2],
        dynamic_step={"name": "x", "taskReferenceName": "x"},
    )
    return RunState(
        run_id="r1",
        name="order",
        version=2,
        status=RunStatus.FAILED,
        created_at=1,
        input={"order": 7},
        output={"total": 3.5},
        variables={"v": 1},
        correlation_id="c1",
        idempotency_key="k1",
        parent_run_id="p1",
        parent_task_id="pt1",
        reason="declined",
        start_at=1,
        end_at=10,
        updated_at=10,
        failed_refs=["s1__2"],
        tasks=[task, TaskState("t2", "s2", "ship", "SIMPLE", TaskStatus.SCHEDULED, 4, 10)],
        next_seq=5,
        restarts=1,
        skips={"s9": {"input": {}, "output": {"skipped": True}}},
        depth=1,
        compensation={"reason": "x", "steps": [{"ref": "s0", "status": "COMPLETED"}]},
    )


def test_to_json_is_byte_for_byte_the_encoded_dict() -> None:
    run = _every_field_set()
    assert run.to_json() == orjson.dumps(run.to_dict())


def test_to_json_reads_back_as_the_same_run() -> None:
    run = _every_field_set()
    assert RunState.from_dict(orjson.loads(run.to_json())) == run
