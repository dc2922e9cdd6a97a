"""RunState.clone: an equal copy the engine may change without touching the original."""

from __future__ import annotations

from dataclasses import fields, replace

from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus


def _run() -> RunState:
    task = TaskState(
        task_id="t1",
        ref="s1__2",
        name="charge",
        type="SIMPLE",
        status=TaskStatus.SCHEDULED,
        seq=1,
        scheduled_at=5,
        input={"amount": 3},
        logs=[{"log": "hi"}],
        scope_loops=["loop"],
        scope_iterations=[2],
    )
    return RunState(
        run_id="r1",
        name="order",
        version=2,
        status=RunStatus.RUNNING,
        created_at=1,
        variables={"v": 1},
        failed_refs=["x"],
        tasks=[task],
        skips={"s9": {}},
        compensation={"steps": [{"ref": "s0"}]},
    )


def test_clone_copies_every_field_of_the_run_and_shares_its_tasks() -> None:
    original = _run()
    copy = original.clone()
    assert copy == original
    for f in fields(RunState):
        assert getattr(copy, f.name) == getattr(original, f.name), f.name
    assert copy.tasks is not original.tasks
    assert copy.tasks[0] is original.tasks[0]  # shared, sealed: neither may change it


def test_changing_the_clone_leaves_the_original_as_it_was() -> None:
    original = _run()
    copy = original.clone()
    copy.edit(copy.tasks[0]).status = TaskStatus.COMPLETED
    copy.edit(copy.tasks[0]).logs = [*copy.tasks[0].logs, {"log": "more"}]
    copy.add_task(replace(original.tasks[0], task_id="t2", seq=2))
    copy.variables["v"] = 2
    copy.failed_refs.append("y")
    copy.skips.pop("s9")
    assert copy.compensation is not None
    copy.compensation["steps"][0]["ref"] = "changed"
    assert original == _run()
    assert copy.tasks[0].status == TaskStatus.COMPLETED
    assert [t.task_id for t in copy.tasks] == ["t1", "t2"]
