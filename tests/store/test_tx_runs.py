"""StoreTx contract: the run operations' observable behaviour (put, get, search, delete,
task ids, idempotency, retention), with the same assertions on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

from podium.engine import decide
from podium.engine.events import RunStarted, TaskResult
from podium.engine.state import RunState, RunStatus, TaskStatus
from podium.store.base import RunOrder, RunQuery
from tests.unit.engine_helpers import blueprint, fresh_state, simple, step, workflow


def a_run(run_id: str, **fields) -> RunState:
    name = fields.pop("name", "wf")
    status = fields.pop("status", RunStatus.RUNNING)
    return RunState(run_id, name, 1, status, 100, **fields)


def test_a_run_is_inserted_updated_and_read_with_its_definition(db):
    state = a_run("r1", input={"x": 1}, correlation_id="c")
    db.insert_run(state, "key-1")
    found, key = db.get_run("r1")
    assert key == "key-1" and found.to_json() == state.to_json()
    done = dataclasses.replace(
        state, status=RunStatus.COMPLETED, output={"y": 2}, end_at=300, updated_at=300
    )
    db.update_run(done)
    found, _ = db.get_run("r1", for_update=True)
    assert (found.status, found.output, found.end_at) == (RunStatus.COMPLETED, {"y": 2}, 300)
    db.set_run_definition("r1", "key-2", 7)
    assert db.get_run("r1")[1] == "key-2"
    assert db.search_runs(RunQuery(run_ids=("r1",)))[1][0].run_id == "r1"
    assert db.get_run("none") is None


def test_an_update_in_the_same_unit_is_what_the_unit_reads(db):
    db.insert_run(a_run("r1"), "k")

    def unit(tx):
        state, _ = tx.get_run("r1", for_update=True)
        tx.update_run(dataclasses.replace(state, variables={"n": 1}, updated_at=150))
        return tx.get_run("r1")[0].variables

    assert db.unit(unit) == {"n": 1}
    assert db.get_run("r1")[0].variables == {"n": 1}


def test_runs_are_searched_filtered_sorted_and_paged(db):
    db.insert_run(a_run("r1", name="a", correlation_id="c1"), "k")
    db.insert_run(dataclasses.replace(a_run("r2", name="b"), created_at=200), "k")
    db.insert_run(dataclasses.replace(a_run("r3", name="a"), created_at=300), "k")
    db.update_run(
        dataclasses.replace(a_run("r3", name="a"), created_at=300, status=RunStatus.FAILED)
    )

    def ids(**query) -> tuple[int, list[str]]:
        total, runs = db.search_runs(RunQuery(**query))
        return total, [run.run_id for run in runs]

    assert ids() == (3, ["r3", "r2", "r1"])  # newest first
    assert ids(name="a") == (2, ["r3", "r1"])
    assert ids(statuses=("FAILED",)) == (1, ["r3"])
    assert ids(statuses=("RUNNING", "FAILED"), names=("b",)) == (1, ["r2"])
    assert ids(names=("a", "b"), size=1, start=1) == (3, ["r2"])
    assert ids(run_ids=("r1", "r2", "none")) == (2, ["r2", "r1"])
    assert ids(correlation_id="c1") == (1, ["r1"])
    assert ids(started_after=200, started_before=250) == (1, ["r2"])
    assert ids(order=((RunOrder.CREATED, False),)) == (3, ["r1", "r2", "r3"])


def test_runs_are_searched_by_when_they_ended(db):
    for run_id, ended in (("r1", 400), ("r2", 500), ("r3", None)):
        db.insert_run(a_run(run_id), "k")
        if ended is not None:
            db.update_run(a_run(run_id, status=RunStatus.FAILED, end_at=ended, updated_at=ended))

    def ids(**query) -> list[str]:
        return [run.run_id for run in db.search_runs(RunQuery(**query))[1]]

    latest_first = ((RunOrder.ENDED, True),)
    assert ids(ended_after=400, order=latest_first) == ["r2", "r1"]  # a running run never ended
    assert ids(ended_after=401) == ["r2"]
    assert ids(ended_before=400) == ["r1"]
    assert ids(ended_after=450, ended_before=600) == ["r2"]


def test_tasks_name_their_run(db):
    db.insert_run(a_run("r1"), "k")
    db.add_task_ids("r1", ["t1", "t2"])
    db.add_task_ids("r1", ["t2", "t3"])  # a known id again is no error
    assert db.run_of_task("t3") == "r1"
    assert db.run_of_task("none") is None
    db.enqueue("t1", "r1", "q", 0, 100)
    run_id, (state, key), entry = db.task_run_for_update("t1")
    assert (run_id, state.run_id, key, entry.task_id) == ("r1", "r1", "k", "t1")
    assert db.task_run_for_update("t2")[2] is None  # not queued
    assert db.task_run_for_update("none") is None


def test_idempotency_keys_find_their_run(db):
    assert db.get_idempotent_run("wf", "key") is None
    db.put_idempotent_run("wf", "key", "r1")
    assert db.get_idempotent_run("wf", "key") == "r1"
    assert db.get_idempotent_run("other", "key") is None


def test_deleting_a_run_removes_what_it_owns(db):
    db.insert_run(a_run("r1"), "k")
    db.insert_run(a_run("r2"), "k")
    for run_id in ("r1", "r2"):
        db.add_task_ids(run_id, [f"{run_id}-t"])
        db.enqueue(f"{run_id}-t", run_id, "q", 0, 100)
        db.put_timer(run_id, "wait", 50)
        db.put_idempotent_run("wf", run_id, run_id)
    assert db.delete_run("r1") is True
    assert db.delete_run("r1") is False
    assert db.get_run("r1") is None
    assert db.run_of_task("r1-t") is None and db.queue_entry("r1-t") is None
    assert db.get_idempotent_run("wf", "r1") is None
    assert db.take_due_timers(100, 10) == [("r2", "wait")]
    assert db.run_of_task("r2-t") == "r2" and db.get_idempotent_run("wf", "r2") == "r2"


def test_ended_runs_are_removed_in_batches_and_archived_if_asked(db):
    for n, end in enumerate([100, 200, 300, None]):
        state = a_run(f"r{n}", end_at=end, status=RunStatus.COMPLETED if end else RunStatus.RUNNING)
        db.insert_run(state, "k")
        db.add_task_ids(state.run_id, [f"t{n}"])
    assert db.remove_ended_runs(250, 1, archive=True, now=1000) == 1
    assert db.remove_ended_runs(250, 10, archive=False, now=1000) == 1
    assert db.remove_ended_runs(250, 10, archive=True, now=1000) == 0
    assert db.search_runs(RunQuery())[0] == 2
    assert db.run_of_task("t0") is None and db.run_of_task("t1") is None
    assert db.run_of_task("t2") == "r2"
    archived = db.query("SELECT run_id, archived_at, status FROM archived_runs")
    assert len(archived) == 1 and archived[0][0] in {"r0", "r1"}
    assert archived[0][1:] == (1000, "COMPLETED")


def test_a_loops_iteration_outputs_are_stored_once_and_read_back_whole(db):
    plan = blueprint(
        workflow(
            [
                step(
                    "loop",
                    type="DO_WHILE",
                    loopCondition="$.loop['iteration'] < 4",
                    loopOver=[simple("work")],
                )
            ]
        )
    )
    state = decide(fresh_state(run_id="loop-run"), RunStarted(0), plan).state
    db.insert_run(state, "k")
    for now in range(1, 5):
        state, _ = db.get_run("loop-run", for_update=True)
        work = state.tasks[-1]
        output = {"n": now, "text": f"iteration {now}"}
        state = decide(
            state, TaskResult(now, work.task_id, TaskStatus.COMPLETED, output), plan
        ).state
        db.update_run(state)
    db.unit(lambda tx: tx.runs.clear())  # read from the rows, not from the cache
    found, _ = db.get_run("loop-run")
    assert found.to_json() == state.to_json()
    assert found.tasks[0].output["3"] == {"work": {"n": 3, "text": "iteration 3"}}
    # The loop's row holds none of the outputs its iteration tasks hold.
    rows = db.query("SELECT body FROM tasks WHERE body IS NOT NULL")
    bodies = [bytes(row[0]) for row in rows]
    assert sum(b"iteration 3" in body for body in bodies) == 1
