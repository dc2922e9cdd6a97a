"""RunState's copy-on-write tasks, its change tracking for the store and its task indexes."""

from __future__ import annotations

import copy
import dataclasses
import random
from typing import Any

import orjson
import pytest

from podium.engine import RunState, RunStatus, TaskState, TaskStatus, decide
from podium.engine.events import RunStarted, TaskResult
from podium.engine.task_state import TaskChanges, is_sealed
from tests.unit.engine_helpers import (
    blueprint,
    calls_to_decide,
    fresh_state,
    simple,
    step,
    workflow,
)

_TRACKING = {
    "_indexed",
    "_count",
    "_pos",
    "_ref_pos",
    "_def_pos",
    "_open",
    "_owned",
    "_changed",
    "_added",
    "_removed",
    "_committed",
}


def _task(
    task_id: str,
    seq: int,
    ref: str | None = None,
    status: TaskStatus = TaskStatus.SCHEDULED,
    type: str = "SIMPLE",
    **extra: Any,
) -> TaskState:
    return TaskState(
        task_id=task_id,
        ref=ref or f"s{seq}",
        name="work",
        type=type,
        status=status,
        seq=seq,
        scheduled_at=seq,
        **extra,
    )


def _state(*tasks: TaskState) -> RunState:
    return fresh_state(tasks=list(tasks), next_seq=len(tasks) + 1)


def _committed(state: RunState) -> RunState:
    """``state`` as a store that keeps a row per task would read it back."""
    tasks = [TaskState.from_dict(orjson.loads(orjson.dumps(t))) for t in state.tasks]
    return RunState.from_parts(orjson.loads(orjson.dumps(state.header_dict())), tasks)


# ---- copy on write -------------------------------------------------------------------------


def test_a_clone_shares_the_task_objects_but_not_the_list() -> None:
    original = _state(_task("a", 1), _task("b", 2))
    clone = original.clone()
    assert clone.tasks is not original.tasks
    assert all(c is o for c, o in zip(clone.tasks, original.tasks, strict=True))
    assert all(is_sealed(task) for task in original.tasks)


def test_editing_a_clone_leaves_its_source_as_it_was() -> None:
    original = _state(_task("a", 1), _task("b", 2))
    before = original.to_dict()
    clone = original.clone()
    mine = clone.edit(clone.tasks[0])
    mine.status = TaskStatus.COMPLETED
    mine.output = {"x": 1}
    assert clone.edit(original.tasks[0]) is mine  # already its own: no second copy
    clone.add_task(_task("c", 3))
    clone.remove_tasks(lambda task: task.task_id == "b")
    assert original.to_dict() == before
    assert [t.task_id for t in clone.tasks] == ["a", "c"]
    assert clone.task("a") is mine and clone.task("a") is not original.task("a")
    assert original.task("a") is not None and original.task("a").status == TaskStatus.SCHEDULED


def test_a_state_rolled_back_leaves_the_earlier_one_intact() -> None:
    # A store keeps an uncommitted unit's state; a later unit clones and changes it, then
    # is rolled back: the earlier state must be what it was, whatever the later one did.
    earlier = _state(_task("a", 1)).clone()
    earlier.edit(earlier.tasks[0]).status = TaskStatus.IN_PROGRESS
    snapshot = earlier.to_dict()
    later = earlier.clone()
    later.edit(later.tasks[0]).status = TaskStatus.FAILED
    assert earlier.to_dict() == snapshot
    with pytest.raises(AttributeError, match="sealed"):
        earlier.tasks[0].status = TaskStatus.COMPLETED  # earlier gave it away to share


def test_a_sealed_task_refuses_every_write() -> None:
    state = _state(_task("a", 1))
    state.clone()
    task = state.tasks[0]
    with pytest.raises(AttributeError, match=r"state\.edit"):
        task.status = TaskStatus.COMPLETED
    with pytest.raises(AttributeError):
        task.advanced = True
    with pytest.raises(AttributeError):
        del task.reason
    assert task.status == TaskStatus.SCHEDULED


def test_copies_of_a_sealed_task_are_plain_and_equal() -> None:
    state = _state(_task("a", 1, input={"k": [1]}))
    state.clone()
    sealed = state.tasks[0]
    for made in (copy.deepcopy(sealed), copy.copy(sealed), dataclasses.replace(sealed)):
        assert not is_sealed(made)
        assert made == sealed and sealed == made
        made.status = TaskStatus.COMPLETED  # writable
    assert sealed.status == TaskStatus.SCHEDULED


# ---- what changed --------------------------------------------------------------------------


def _chain() -> Any:
    return blueprint(workflow([simple("a"), simple("b"), simple("c")]))


def test_task_changes_after_a_decision_lists_exactly_the_tasks_it_touched() -> None:
    plan = _chain()
    started = decide(fresh_state(), RunStarted(0), plan).state
    first = decide(started, TaskResult(1, started.tasks[0].task_id, TaskStatus.COMPLETED), plan)
    stored = _committed(first.state)
    assert stored.task_changes() == TaskChanges((), (), False)
    b = stored.latest("b")
    assert b is not None
    after = decide(stored, TaskResult(2, b.task_id, TaskStatus.COMPLETED, {"o": 1}), plan).state
    changes = after.task_changes()
    assert not changes.rewrite
    assert [t.ref for t in changes.changed] == ["b", "c"]  # b finished, c added, a untouched
    assert changes.changed[0].output == {"o": 1}
    assert changes.removed == ()
    assert stored.task_changes() == TaskChanges((), (), False)  # the input state is untouched


def test_changes_add_up_over_units_not_yet_committed() -> None:
    plan = _chain()
    started = decide(fresh_state(), RunStarted(0), plan).state
    stored = _committed(started)
    one = decide(stored, TaskResult(1, stored.tasks[0].task_id, TaskStatus.COMPLETED), plan)
    b = one.state.latest("b")
    assert b is not None
    two = decide(one.state, TaskResult(2, b.task_id, TaskStatus.COMPLETED), plan)
    assert [t.ref for t in two.state.task_changes().changed] == ["a", "b", "c"]
    assert [t.ref for t in one.state.task_changes().changed] == ["a", "b"]


def test_tasks_keep_last_n_drops_are_removed_and_new_ones_are_not() -> None:
    loop = step(
        "loop",
        "DO_WHILE",
        loopCondition="$.loop['iteration'] < 6",
        loopOver=[simple("body")],
        inputParameters={"keepLastN": 2},
    )
    plan = blueprint(workflow([loop]))
    state = decide(fresh_state(), RunStarted(0), plan).state
    for now in range(1, 5):
        state = _committed(state)
        before = {t.task_id for t in state.tasks}
        body = state.latest(f"body__{now}")
        assert body is not None
        state = decide(state, TaskResult(now, body.task_id, TaskStatus.COMPLETED), plan).state
        after = {t.task_id for t in state.tasks}
        changes = state.task_changes()
        assert set(changes.removed) == before - after
        assert {t.task_id for t in changes.changed} >= after - before
        assert not set(changes.removed) & {t.task_id for t in changes.changed}
    assert changes.removed  # keepLastN did drop an iteration's task


def test_mark_committed_clears_the_changes_and_seals_the_tasks() -> None:
    state = _committed(_state(_task("a", 1), _task("b", 2))).clone()
    state.edit(state.tasks[0]).status = TaskStatus.COMPLETED
    state.add_task(_task("c", 3))
    state.remove_tasks(lambda task: task.task_id == "b")
    assert [t.task_id for t in state.task_changes().changed] == ["a", "c"]
    assert state.task_changes().removed == ("b",)
    state.mark_committed()
    assert state.task_changes() == TaskChanges((), (), False)
    assert all(is_sealed(task) for task in state.tasks)


def test_a_task_added_then_removed_before_a_commit_is_neither_changed_nor_removed() -> None:
    state = _committed(_state(_task("a", 1))).clone()
    state.add_task(_task("b", 2))
    state.remove_tasks(lambda task: task.task_id == "b")
    assert state.task_changes() == TaskChanges((), (), False)


def test_rewrite_only_for_a_state_never_committed() -> None:
    new = _state(_task("a", 1))
    assert new.task_changes().rewrite
    assert new.clone().task_changes().rewrite
    decoded = RunState.from_dict(orjson.loads(new.to_json()))
    assert decoded.task_changes().rewrite
    assert [t.task_id for t in decoded.task_changes().changed] == ["a"]
    stored = _committed(new)
    assert not stored.task_changes().rewrite
    assert not stored.clone().task_changes().rewrite
    new.mark_committed()
    assert not new.task_changes().rewrite


# ---- what the store sees -------------------------------------------------------------------


def test_to_json_is_the_bytes_of_to_dict_whatever_the_tracking_holds() -> None:
    state = _committed(_state(_task("a", 1, scope_loops=["l"], scope_iterations=[1]))).clone()
    state.edit(state.tasks[0]).output = {"o": 1}
    state.add_task(_task("b", 2))
    state.clone()  # seals a and b: sealed tasks encode as before
    encoded = state.to_json()
    assert encoded == orjson.dumps(state.to_dict())
    assert set(orjson.loads(encoded)) == {f.name for f in dataclasses.fields(RunState)}
    assert not _TRACKING & set(state.header_dict())
    assert not _TRACKING & set(state.to_dict())
    assert RunState.from_dict(orjson.loads(encoded)).to_json() == encoded


def test_to_json_bytes_are_those_of_a_plain_encoding() -> None:
    task = _task("a", 1, input={"k": 1}, logs=[{"log": "x"}])
    expected = (
        b'{"run_id":"r1","name":"wf","version":1,"status":"RUNNING","created_at":0,'
        b'"input":{},"output":{},"variables":{},"correlation_id":null,"trace_only":false,'
        b'"idempotency_key":null,"parent_run_id":null,"parent_task_id":null,"reason":null,'
        b'"start_at":null,"end_at":null,"updated_at":null,"failed_refs":[],"tasks":[{'
        b'"task_id":"a","ref":"s1","name":"work","type":"SIMPLE","status":"SCHEDULED",'
        b'"seq":1,"scheduled_at":1,"input":{"k":1},"output":{},"retry_count":0,"queue":null,'
        b'"available_at":0,"start_at":null,"end_at":null,"update_at":null,"worker_id":null,'
        b'"poll_count":0,"reason":null,"retried":false,"retried_task_id":null,'
        b'"advanced":false,"sub_workflow_id":null,"callback_after_s":0,'
        b'"logs":[{"log":"x"}],"iteration":0,"scope_loops":[],"scope_iterations":[],'
        b'"dynamic_step":null,"domain":null,"secrets":null}],"next_seq":2,"restarts":0,'
        b'"skips":{},"depth":0,"compensation":null,"id_secret":null,"created_by":null,'
        b'"inline_definition":null,"task_to_domain":{},"priority":0,"schedule_name":null,'
        b'"scheduled_time":null}'
    )
    state = _state(task)
    assert state.to_json() == expected
    state.clone()
    assert is_sealed(state.tasks[0])
    assert state.to_json() == expected


# ---- indexes -------------------------------------------------------------------------------


def _check_indexes(state: RunState) -> None:
    tasks = state.tasks
    for task in tasks:
        assert state.task(task.task_id) is next(
            t for t in reversed(tasks) if t.task_id == task.task_id
        )
    for ref in {t.ref for t in tasks} | {"nowhere"}:
        assert state.latest(ref) is next((t for t in reversed(tasks) if t.ref == ref), None)
    names: dict[str, TaskState] = {}
    for task in tasks:
        names[task.ref] = task
        if task.scope_iterations:
            names[task.def_ref] = task
    for name, task in names.items():
        assert state.latest_named(name) is task, name
    assert set(state.names()) == set(names)
    assert state.active_tasks() == [t for t in tasks if t.status.is_active]
    assert state.has_active() == any(t.status.is_active for t in tasks)
    moving = [i for i, t in enumerate(tasks) if _may_move(t)]
    assert state.moving_positions() == moving
    assert set(state.refs()) == {t.ref for t in tasks}


_WAITING = {"JOIN", "DO_WHILE", "ROUTING_SLIP", "EXCLUSIVE_JOIN"}


def _may_move(task: TaskState) -> bool:
    """What a decision looks at, by a scan: a task finished and not followed, or a running
    one that waits on others (a running SIMPLE task moves only by its own result)."""
    if task.status.is_active:
        return task.status == TaskStatus.IN_PROGRESS and task.type in _WAITING
    return not task.advanced


def _expected_changes(
    state: RunState, committed: dict[str, dict[str, Any]]
) -> tuple[set[str], set[str]]:
    now = {t.task_id: t.to_dict() for t in state.tasks}
    changed = {i for i, data in now.items() if committed.get(i) != data}
    return changed, set(committed) - set(now)


@pytest.mark.parametrize("seed", range(12))
def test_indexes_and_changes_agree_with_a_scan_after_random_changes(seed: int) -> None:
    rng = random.Random(seed)
    state = _committed(_state(*(_task(f"t{i}", i, ref=f"r{i % 4}") for i in range(1, 6))))
    committed = {t.task_id: t.to_dict() for t in state.tasks}
    state = state.clone()
    next_id = 6
    for _ in range(200):
        roll = rng.random()
        if roll < 0.3 and state.tasks:
            task = state.edit(rng.choice(state.tasks))
            task.status = rng.choice(list(TaskStatus))
            task.advanced = rng.random() < 0.5
        elif roll < 0.6:
            looped = rng.random() < 0.5
            state.add_task(
                _task(
                    f"t{next_id}",
                    next_id,
                    ref=f"r{rng.randrange(4)}" + ("__1" if looped else ""),
                    scope_loops=["l"] if looped else [],
                    scope_iterations=[1] if looped else [],
                    status=rng.choice(list(TaskStatus)),
                    type=rng.choice(["SIMPLE", "JOIN", "DO_WHILE", "WAIT"]),
                )
            )
            next_id += 1
        elif roll < 0.7 and state.tasks:
            doomed = {t.task_id for t in rng.sample(state.tasks, min(2, len(state.tasks)))}
            state.remove_tasks(lambda task, doomed=doomed: task.task_id in doomed)
        elif roll < 0.85:
            source, snapshot = state, state.to_dict()
            state = state.clone()
            if state.tasks:
                state.edit(state.tasks[0]).reason = "changed in the clone"
            assert source.to_dict() == snapshot
        else:
            state.mark_committed()
            committed = {t.task_id: t.to_dict() for t in state.tasks}
        _check_indexes(state)
        changes = state.task_changes()
        changed, removed = _expected_changes(state, committed)
        assert not changes.rewrite
        assert {t.task_id for t in changes.changed} >= changed
        assert set(changes.removed) == removed
        assert [t.seq for t in changes.changed] == sorted(t.seq for t in changes.changed)


def test_a_list_changed_behind_the_state_is_indexed_again_and_rewritten() -> None:
    state = _committed(_state(_task("a", 1))).clone()
    state.tasks.append(_task("b", 2, status=TaskStatus.IN_PROGRESS))
    assert state.task("b") is state.tasks[1]
    assert [t.task_id for t in state.active_tasks()] == ["a", "b"]
    assert state.task_changes().rewrite


def test_a_run_state_made_by_hand_runs_through_decide() -> None:
    plan = blueprint(workflow([simple("a")]))
    state = decide(fresh_state(), RunStarted(0), plan).state
    done = decide(state, TaskResult(1, state.tasks[0].task_id, TaskStatus.COMPLETED), plan)
    assert done.state.status == RunStatus.COMPLETED
    assert state.tasks[0].status == TaskStatus.SCHEDULED


def test_touched_and_tasks_from_name_what_a_decision_changed_and_added() -> None:
    plan = _chain()
    started = decide(fresh_state(), RunStarted(0), plan).state
    stored = _committed(started)
    after = decide(stored, TaskResult(1, stored.tasks[0].task_id, TaskStatus.COMPLETED), plan)
    assert [t.ref for t in after.state.touched()] == ["a", "b"]
    assert [t.ref for t in after.state.tasks_from(stored.next_seq)] == ["b"]
    assert after.state.clone().touched() == []


def test_a_step_calls_no_more_functions_in_a_long_run_than_in_a_short_one() -> None:
    # Counted, not timed: a per-task walk in Python anywhere in a step shows as more calls.
    steps = 400
    plan = blueprint(workflow([simple(f"s{n}") for n in range(steps)]), validate=False)
    state = decide(fresh_state(), RunStarted(0), plan).state
    counts: dict[int, int] = {}
    for n in range(steps - 1):
        task = state.latest(f"s{n}")
        assert task is not None
        event = TaskResult(n + 1, task.task_id, TaskStatus.COMPLETED, {"n": n})
        counts[n], state = calls_to_decide(state, event, plan)
    assert len(state.tasks) == steps
    # A few calls either way: whether anything is still active stops at the first active
    # task it meets among the open ones, and a set's order differs from task ids to task ids.
    assert abs(counts[steps - 2] - counts[10]) <= 4, (counts[10], counts[steps - 2])
