"""The runs of the tasks a server handed out, kept within a bound for their results."""

from __future__ import annotations

from podium.server.task_runs import TaskRuns


def test_known_tasks_name_their_run_and_the_others_are_listed_to_look_up():
    runs = TaskRuns()
    runs.note("t1", "r1")
    runs.note("t2", "r1")
    runs.note("t3", "r2")
    assert runs.known(["t1", "t3", "t9"]) == ({"t1": "r1", "t3": "r2"}, ["t9"])
    runs.forget("t1")
    assert runs.known(["t1"]) == ({}, ["t1"])


def test_the_oldest_tasks_are_forgotten_past_the_bound():
    runs = TaskRuns(limit=10)
    for n in range(11):
        runs.note(f"t{n}", f"r{n}")
    assert len(runs) <= 10
    found, unknown = runs.known([f"t{n}" for n in range(11)])
    assert "t10" in found and "t0" in unknown
    # What is kept is exactly what was noted.
    assert all(found[task] == "r" + task[1:] for task in found)
