"""Conductor routes beyond the common ones: definition listings and validation, queue
details, a run's task list, callbacks reset, terminate-and-remove, the signal API, and the
answer to a path that names no route."""

from __future__ import annotations

import pytest

from tests.behaviour.helpers import poll, register, run, start, task_of, wait_status

TWO = {
    "name": "two",
    "version": 1,
    "tasks": [
        {"name": "a", "taskReferenceName": "a"},
        {"name": "b", "taskReferenceName": "b"},
    ],
}
DEFS = [{"name": name, "retryCount": 0} for name in ("a", "b")]
GATE = {
    "name": "gate",
    "tasks": [
        {"name": "hold", "taskReferenceName": "hold", "type": "WAIT"},
        {
            "name": "after",
            "taskReferenceName": "after",
            "type": "SET_VARIABLE",
            "inputParameters": {"by": "${hold.output.by}"},
        },
    ],
    "outputParameters": {"by": "${workflow.variables.by}"},
}


def _no_route(response):
    assert response.status_code in (404, 405), response.text
    body = response.json()
    assert body["code"] == "E_NO_ROUTE", body
    return body


def test_literal_paths_are_their_own_routes_and_unknown_ones_say_so(api):
    # Once answered by the task, run and definition routes as if these were ids and names.
    assert api.get("/api/tasks/search").json() == {"totalHits": 0, "results": []}
    assert api.get("/api/tasks/search-v2").json() == {"totalHits": 0, "results": []}
    assert api.get("/api/workflow/search-by-tasks").json()["totalHits"] == 0
    assert api.get("/api/metadata/workflow/names").json() == []
    assert api.get("/api/metadata/workflow/latest-versions").json() == []
    assert api.get("/api/tasks/queue/all/verbose").json() == {}
    requeued = api.post("/api/tasks/queue/requeue/a")
    assert (requeued.status_code, requeued.text) == (200, "0")
    body = _no_route(api.get("/api/tasks/a/b/c/d"))
    assert body["message"] == "GET /api/tasks/a/b/c/d: no such route (the routes: /docs)"
    assert "no such route" in _no_route(api.get("/api/nothing/here"))["message"]
    assert _no_route(api.delete("/api/tasks/search"))["status"] == 405
    assert _no_route(api.put("/api/workflow/some-run/tasks"))["status"] == 405


def test_workflow_names_latest_versions_and_versions(api):
    register(api, TWO, DEFS)
    register(api, {**TWO, "version": 2, "description": "second"})
    register(api, {**TWO, "name": "other"})
    assert api.get("/api/metadata/workflow/names").json() == ["other", "two"]
    latest = api.get("/api/metadata/workflow/latest-versions").json()
    assert [(d["name"], d["version"]) for d in latest] == [("other", 1), ("two", 2)]
    assert latest[1]["description"] == "second" and len(latest[1]["tasks"]) == 2
    versions = api.get("/api/metadata/workflow/two/versions").json()
    assert [(v["name"], v["version"]) for v in versions] == [("two", 1), ("two", 2)]
    missing = api.get("/api/metadata/workflow/none/versions")
    assert missing.status_code == 404
    assert missing.json()["field"] == "name"


def test_validate_checks_a_definition_and_registers_nothing(api):
    api.post("/api/metadata/taskdefs", json=DEFS)
    good = api.post("/api/metadata/workflow/validate", json={**TWO, "name": "checked"})
    assert good.status_code == 200, good.text
    assert good.json() == {"valid": True, "warnings": []}
    noted = api.post("/api/metadata/workflow/validate", json={**TWO, "colour": "blue"})
    assert noted.status_code == 200
    assert any("colour" in warning for warning in noted.json()["warnings"])
    broken = {**TWO, "tasks": [{"name": "x", "taskReferenceName": "x", "type": "NOPE"}]}
    bad = api.post("/api/metadata/workflow/validate", json=broken)
    assert bad.status_code == 400
    assert bad.json()["field"].startswith("tasks")
    nameless = api.post("/api/metadata/workflow/validate", json={"tasks": []})
    assert nameless.status_code == 400
    assert api.post("/api/metadata/workflow/validate", json=[TWO]).json()["field"] == "body"
    assert api.get("/api/metadata/workflow/names").json() == []


def test_queue_verbose_counts_waiting_and_claimed_tasks(api):
    register(api, TWO, DEFS)
    start(api, "two")
    start(api, "two")
    assert api.get("/api/tasks/queue/all/verbose").json() == {"a": {"a": {"size": 2, "uacked": 0}}}
    poll(api, "a")
    assert api.get("/api/tasks/queue/all/verbose").json() == {"a": {"a": {"size": 1, "uacked": 1}}}


def test_requeue_counts_the_pending_tasks_and_refuses_podiums_own_queue(api):
    register(api, TWO, DEFS)
    start(api, "two")
    assert api.post("/api/tasks/queue/requeue/a").text == "1"  # waiting already: still there
    assert api.get("/api/tasks/queue/sizes", params={"taskType": "a"}).json() == {"a": 1}
    own = api.post("/api/tasks/queue/requeue/_podium.http")
    assert own.status_code == 400
    assert own.json()["field"] == "taskType"


def test_a_runs_tasks_page_by_page_with_a_count_per_status(api):
    register(api, TWO, DEFS)
    run_id = start(api, "two")
    [a] = poll(api, "a")
    api.post(
        "/api/tasks",
        json={"taskId": a["taskId"], "status": "COMPLETED", "workerId": "w1", "outputData": {}},
    )
    listed = api.get(f"/api/workflow/{run_id}/tasks").json()
    assert listed["totalHits"] == 2
    assert [t["referenceTaskName"] for t in listed["results"]] == ["a", "b"]
    assert listed["summary"] == {"COMPLETED": 1, "SCHEDULED": 1}
    scheduled = api.get(f"/api/workflow/{run_id}/tasks", params={"status": ["SCHEDULED"]}).json()
    assert [t["referenceTaskName"] for t in scheduled["results"]] == ["b"]
    assert scheduled["totalHits"] == 1
    page = api.get(f"/api/workflow/{run_id}/tasks", params={"start": 1, "count": 1}).json()
    assert [t["referenceTaskName"] for t in page["results"]] == ["b"]
    bad = api.get(f"/api/workflow/{run_id}/tasks", params={"status": "DONE"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "status"
    assert api.get("/api/workflow/no-run/tasks").status_code == 404


def test_reset_callbacks_hands_a_postponed_task_out_again_now(api):
    register(api, TWO, DEFS)
    run_id = start(api, "two")
    [a] = poll(api, "a")
    later = {
        "taskId": a["taskId"],
        "status": "IN_PROGRESS",
        "workerId": "w1",
        "callbackAfterSeconds": 3600,
    }
    assert api.post("/api/tasks", json=later).status_code == 200
    assert poll(api, "a", timeout_ms=0) == []
    reset = api.post(f"/api/workflow/{run_id}/resetcallbacks")
    assert reset.status_code == 200
    assert reset.json() == {"workflowId": run_id, "reset": [a["taskId"]]}
    [again] = poll(api, "a", worker="w2", timeout_ms=5000)
    assert again["taskId"] == a["taskId"]
    # Nothing is postponed now: nothing to reset.
    assert api.post(f"/api/workflow/{run_id}/resetcallbacks").json()["reset"] == []
    assert api.post("/api/workflow/no-run/resetcallbacks").status_code == 404


def test_terminate_remove_stops_a_run_and_removes_it(api):
    register(api, TWO, DEFS)
    going = start(api, "two")
    ended = start(api, "two")
    api.delete(f"/api/workflow/{ended}")
    for run_id in (going, ended):
        answer = api.delete(f"/api/workflow/{run_id}/terminate-remove", params={"reason": "x"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"workflowId": run_id, "removed": True}
        assert api.get(f"/api/workflow/{run_id}").status_code == 404
    assert api.get("/api/tasks/queue/sizes", params={"taskType": "a"}).json() == {"a": 0}
    assert api.delete("/api/workflow/no-run/terminate-remove").status_code == 404


def test_signal_finishes_the_task_a_run_waits_on(api):
    register(api, GATE)
    run_id = start(api, "gate")
    answer = api.post(f"/api/tasks/{run_id}/COMPLETED/signal", json={"by": "ops"})
    assert (answer.status_code, answer.text) == (200, run_id)
    assert wait_status(api, run_id)["output"] == {"by": "ops"}
    done = api.post(f"/api/tasks/{run_id}/COMPLETED/signal", json={})
    assert done.status_code == 409
    assert "none" in done.json()["message"]


def test_signal_sync_answers_the_run_as_conductors_signal_response(api):
    register(api, GATE)
    run_id = start(api, "gate")
    answer = api.post(f"/api/tasks/{run_id}/COMPLETED/signal/sync", json={"by": "sync"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["responseType"] == "TARGET_WORKFLOW"
    assert body["targetWorkflowId"] == body["workflowId"] == run_id
    assert body["targetWorkflowStatus"] == body["status"]
    assert task_of(body, "hold")["outputData"] == {"by": "sync"}
    other = start(api, "gate")
    blocking = api.post(
        f"/api/tasks/{other}/COMPLETED/signal/sync",
        params={"returnStrategy": "BLOCKING_TASK"},
        json={},
    )
    assert blocking.status_code == 400
    assert blocking.json()["field"] == "returnStrategy"
    assert task_of(run(api, other), "hold")["status"] == "IN_PROGRESS"


def test_signal_reaches_into_the_sub_workflow_a_run_waits_on(api):
    register(api, GATE)
    parent = {
        "name": "outer",
        "tasks": [
            {
                "name": "inner",
                "taskReferenceName": "inner",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "gate"},
            }
        ],
    }
    register(api, parent)
    run_id = start(api, "outer")
    child_id = task_of(run(api, run_id), "inner")["subWorkflowId"]
    answer = api.post(f"/api/tasks/{run_id}/COMPLETED/signal", json={"by": "deep"})
    assert (answer.status_code, answer.text) == (200, child_id)
    assert wait_status(api, child_id)["output"] == {"by": "deep"}
    assert wait_status(api, run_id)["status"] == "COMPLETED"


@pytest.mark.parametrize("status", ["FAILED", "completed"])
def test_signal_takes_any_final_status(api, status):
    register(api, GATE)
    run_id = start(api, "gate")
    assert api.post(f"/api/tasks/{run_id}/{status}/signal", json={}).status_code == 200
    assert task_of(run(api, run_id), "hold")["status"] == status.upper()


def test_signal_refusals_name_the_problem_and_change_nothing(api):
    register(api, GATE)
    fork = {
        "name": "two_gates",
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [{"name": "left", "taskReferenceName": "left", "type": "WAIT"}],
                    [{"name": "right", "taskReferenceName": "right", "type": "WAIT"}],
                ],
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["left", "right"],
            },
        ],
    }
    register(api, fork)
    both = start(api, "two_gates")
    several = api.post(f"/api/tasks/{both}/COMPLETED/signal", json={})
    assert several.status_code == 409
    assert "left, right" in several.json()["message"]
    run_id = start(api, "gate")
    bad_status = api.post(f"/api/tasks/{run_id}/DONE/signal", json={})
    assert (bad_status.status_code, bad_status.json()["field"]) == (400, "status")
    bad_body = api.post(f"/api/tasks/{run_id}/COMPLETED/signal", json=[1])
    assert (bad_body.status_code, bad_body.json()["field"]) == (400, "body")
    assert api.post("/api/tasks/no-run/COMPLETED/signal", json={}).status_code == 404
    assert api.post("/api/tasks/no-run/COMPLETED/signal/sync", json={}).status_code == 404
    assert task_of(run(api, run_id), "hold")["status"] == "IN_PROGRESS"
    assert {t["status"] for t in run(api, both)["tasks"] if t["taskType"] == "WAIT"} == {
        "IN_PROGRESS"
    }
