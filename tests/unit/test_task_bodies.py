"""Task rows decoded for one run share what repeats between them, and decode as before."""

from __future__ import annotations

import orjson

from podium.engine.task_state import TaskState, TaskStatus
from podium.store.task_bodies import TaskBodies


def _task(n: int, **extra: object) -> TaskState:
    fields: dict[str, object] = {
        "task_id": f"id-{n}",
        "ref": f"_work_{n}",
        "name": "work",
        "type": "SIMPLE",
        "status": TaskStatus.COMPLETED,
        "seq": n + 1,
        "scheduled_at": 1_796_351_182_208,
        "input": {"i": n},
        "output": {"i": n + 1},
        "queue": "work",
        "start_at": 1_796_351_185_315,
        "worker_id": "w-1",
        "dynamic_step": {"name": "work", "taskReferenceName": f"_work_{n}", "type": "SIMPLE"},
    }
    fields.update(extra)
    return TaskState(**fields)  # type: ignore[arg-type]


def _body(task: TaskState) -> bytes:
    return orjson.dumps(task.to_dict())


def test_decoded_tasks_equal_those_decoded_one_by_one_and_encode_to_the_same_bytes() -> None:
    tasks = [_task(0), _task(1, retried=True, available_at=1, end_at=1), _task(2, logs=[{"a": 1}])]
    bodies = TaskBodies()
    for task in tasks:
        alone = TaskState.from_dict(orjson.loads(_body(task)))
        shared = bodies.decode(_body(task))
        assert shared == alone
        assert _body(shared) == _body(task)
        assert type(shared.available_at) is int and type(shared.retried) is bool


def test_the_tasks_of_one_run_share_repeated_strings_timestamps_and_empty_lists() -> None:
    bodies = TaskBodies()
    a, b = bodies.decode(_body(_task(0))), bodies.decode(_body(_task(1)))
    assert a.name is b.name and a.type is b.type and a.queue is b.queue
    assert a.worker_id is b.worker_id
    assert a.scheduled_at is b.scheduled_at and a.start_at is b.start_at
    assert a.logs is b.logs and a.scope_loops is b.scope_iterations
    assert a.dynamic_step is not None and a.dynamic_step["taskReferenceName"] is a.ref
    assert a.input is not b.input and a.output is not b.output  # dicts are never shared


def test_a_task_list_with_entries_is_its_own() -> None:
    bodies = TaskBodies()
    a = bodies.decode(_body(_task(0, logs=[{"log": "x"}])))
    b = bodies.decode(_body(_task(1, logs=[{"log": "x"}])))
    assert a.logs == b.logs and a.logs is not b.logs
