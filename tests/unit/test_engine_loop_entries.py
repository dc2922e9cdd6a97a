"""A DO_WHILE's stored change is the same size at every iteration, and loads back whole.

The loop's output keeps every iteration's body outputs (Conductor's shape); what a store
writes of the loop at each iteration (``loop_entries.stored_form`` of the tasks
``task_changes`` names) must not grow with them, and a run read back from those stored forms
must show the same outputs as the run in memory.
"""

from __future__ import annotations

from typing import Any

import orjson

from podium.engine import RunState, TaskStatus, decide, loop_entries
from podium.engine.events import RunStarted, TaskResult
from podium.engine.loop_entries import SPAN, stored_form, tasks_from
from podium.engine.task_state import TaskState
from tests.unit.engine_helpers import blueprint, fresh_state, simple, step, workflow


def _loop(body: list[dict[str, Any]], condition: str, **params: Any) -> dict[str, Any]:
    return step(
        "loop", type="DO_WHILE", inputParameters=params, loopCondition=condition, loopOver=body
    )


def _stored(task_changes: Any) -> list[dict[str, Any]]:
    return [orjson.loads(orjson.dumps(stored_form(task))) for task in task_changes.changed]


def _drive(
    definition: dict[str, Any], iterations: int, *, sizes_at: set[int]
) -> tuple[RunState, dict[int, int]]:
    """Run the loop, completing each iteration's one worker task; the stored bytes of each
    decision's changes at the iterations in ``sizes_at``."""
    plan = blueprint(definition)
    state = decide(fresh_state(), RunStarted(0), plan).state
    sizes: dict[int, int] = {}
    for i in range(1, iterations + 1):
        state.mark_committed()
        work = state.tasks[-1]
        assert work.ref.endswith(f"__{i}") and work.status == TaskStatus.SCHEDULED
        event = TaskResult(i, work.task_id, TaskStatus.COMPLETED, {"i": i, "pad": "x" * 50})
        state = decide(state, event, plan).state
        if i in sizes_at:
            sizes[i] = sum(len(orjson.dumps(data)) for data in _stored(state.task_changes()))
    return state, sizes


COUNTING = workflow([_loop([simple("work")], "$.loop['iteration'] < 100000")])


def test_what_an_iteration_stores_does_not_grow_with_the_loop():
    state, sizes = _drive(COUNTING, 1000, sizes_at={10, 1000})
    loop = state.tasks[0]
    # In memory the loop's output is Conductor's: every iteration's entry is there.
    assert len(loop.output) == 1001
    assert loop.output["7"] == {"work": {"i": 7, "pad": "x" * 50}}
    # Written: the loop and the two body tasks the decision touched, each of a size that
    # differs only by the digits of the iteration numbers and ids in it.
    assert abs(sizes[1000] - sizes[10]) <= 64, sizes


def test_a_run_read_back_from_its_stored_tasks_has_the_loops_whole_output():
    definition = workflow(
        [_loop([simple("work"), simple("more")], "$.loop['iteration'] < 5"), simple("after")]
    )
    plan = blueprint(definition)
    state = decide(fresh_state(), RunStarted(0), plan).state
    for now in range(1, 11):
        task = state.tasks[-1]
        output = {"at": now, "ref": task.ref}
        state = decide(state, TaskResult(now, task.task_id, TaskStatus.COMPLETED, output), plan)
        state = state.state
    loop = state.tasks[0]
    assert loop.status == TaskStatus.COMPLETED and len(loop.output) == 6
    stored = [orjson.loads(orjson.dumps(stored_form(task))) for task in state.tasks]
    assert stored[0][SPAN] == [1, 5] and stored[0]["output"] == {"iteration": 5}
    restored = tasks_from(stored)
    assert [task.output for task in restored] == [task.output for task in state.tasks]
    assert list(restored[0].output) == list(loop.output)


def test_keep_last_n_stores_and_restores_only_the_kept_iterations():
    definition = workflow([_loop([simple("work")], "$.loop['iteration'] < 6", keepLastN=2)])
    plan = blueprint(definition)
    state = decide(fresh_state(), RunStarted(0), plan).state
    for now in range(1, 7):
        task = state.tasks[-1]
        event = TaskResult(now, task.task_id, TaskStatus.COMPLETED, {"n": now})
        state = decide(state, event, plan).state
    loop = state.tasks[0]
    assert loop.output == {"iteration": 6, "5": {"work": {"n": 5}}, "6": {"work": {"n": 6}}}
    stored = [orjson.loads(orjson.dumps(stored_form(task))) for task in state.tasks]
    assert stored[0][SPAN] == [5, 6]
    assert tasks_from(stored)[0].output == loop.output


def test_an_output_not_of_the_loops_shape_is_stored_whole():
    state, _ = _drive(COUNTING, 3, sizes_at=set())
    loop = state.edit(state.tasks[0])
    loop.output = {"iteration": 3, "1": {}, "note": "by hand", "3": {}}
    data = stored_form(loop)
    assert data is loop  # no span: written as it is


def test_a_condition_reading_only_the_iteration_is_told_apart_from_one_reading_more():
    from podium.engine.handlers.do_while import _reads_only_iteration

    names = {"loop"}
    for condition in (
        "$.loop['iteration'] < $.times",
        '$.loop["iteration"] < 3 && $.work.ok',
        "$.loop.iteration < 10",
    ):
        assert _reads_only_iteration(condition, names), condition
    for condition in (
        "$.loop['3'].work.ok",
        "$.loop.iteration < 3 && $.loop['2']",
        "Object.keys($.loop).length < 5",
        "JSON.stringify($).length < 100",
        "$['loop'].iteration < 3",
        "$.loop['iter\\x61tion'] < 3",
        "this.$.loop['1']",
    ):
        assert not _reads_only_iteration(condition, names), condition


def test_a_condition_reading_earlier_iterations_still_sees_them():
    condition = "$.loop['iteration'] < 2 || !$.loop['1'].work.stop"
    plan = blueprint(workflow([_loop([simple("work")], condition)]))
    state = decide(fresh_state(), RunStarted(0), plan).state
    outputs = [{"stop": False}, {"stop": False}, {"stop": True}]
    for now, output in enumerate(outputs, start=1):
        task = state.tasks[-1]
        event = TaskResult(now, task.task_id, TaskStatus.COMPLETED, output)
        state = decide(state, event, plan).state
    # Iteration 1's output said not to stop, so the loop only ends when the condition is
    # false for the first time: after iteration 2 it reads $.loop['1'] and goes on.
    loop = state.tasks[0]
    assert loop.status == TaskStatus.IN_PROGRESS and loop.iteration == 4


def test_a_loop_written_at_each_iteration_is_not_checked_key_by_key(monkeypatch):
    # The span the loop's output carries is what the write trusts: checking the keys would
    # cost every iteration's at every write, the step's cost growing with the loop.
    state, _ = _drive(COUNTING, 300, sizes_at=set())
    loop = state.tasks[0]
    assert isinstance(loop.output, loop_entries.LoopOutput) and loop.output.span == (1, 300)

    def no_key_walk(output: dict[str, Any]) -> None:
        raise AssertionError("the keys were walked")

    monkeypatch.setattr(loop_entries, "_checked_span", no_key_walk)
    assert stored_form(loop)[SPAN] == [1, 300]  # type: ignore[index]


def test_entries_added_beside_the_loop_are_noticed_and_stored_whole():
    entries = loop_entries.with_entry({"iteration": 1}, 1, {"work": {"i": 1}})
    entries = loop_entries.with_entry(entries, 2, {"work": {"i": 2}})
    assert entries.span == (1, 2)
    extra = loop_entries.LoopOutput(entries)  # a copy that keeps no span
    extra.span = entries.span
    extra["note"] = "by hand"
    for output, stored_short in ((entries, True), (extra, False)):
        loop = TaskState("t1", "loop", "loop", "DO_WHILE", TaskStatus.IN_PROGRESS, 1, 0)
        loop.output = output
        form = stored_form(loop)
        assert (isinstance(form, dict) and SPAN in form) is stored_short


def test_adding_an_entry_leaves_the_output_it_was_given_as_it_was():
    first = loop_entries.with_entry({"iteration": 1}, 1, {"work": {}})
    second = loop_entries.with_entry(first, 2, {"work": {}})
    assert list(first) == ["iteration", "1"] and first["iteration"] == 1
    assert list(second) == ["iteration", "1", "2"] and second["iteration"] == 2
    # A gap is not the loop's own shape: no span, so the keys decide when it is written.
    assert loop_entries.with_entry(first, 3, {"work": {}}).span is None
