"""Conductor's operator routes: rerun, skip, status, correlation look-ups, bulk, execute, logs."""

from __future__ import annotations

import threading

from typer.testing import CliRunner

from podium.cli import app
from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

THREE = {
    "name": "three",
    "version": 1,
    "tasks": [
        {"name": "a", "taskReferenceName": "a", "inputParameters": {"n": "${workflow.input.n}"}},
        {"name": "b", "taskReferenceName": "b", "inputParameters": {"prev": "${a.output.v}"}},
        {"name": "c", "taskReferenceName": "c", "inputParameters": {"prev": "${b.output.v}"}},
    ],
    "outputParameters": {"c": "${c.output.v}"},
}
DEFS = [{"name": name, "retryCount": 0} for name in ("a", "b", "c")]


def _step(api, task_type, output, worker="w1"):
    [task] = poll(api, task_type, worker=worker)
    assert complete(api, task, output, worker=worker).status_code == 200
    return task


def _finish_three(api, run_id, c_value=3):
    _step(api, "a", {"v": 1})
    _step(api, "b", {"v": 2})
    _step(api, "c", {"v": c_value})
    return wait_status(api, run_id)


def test_rerun_by_reference_name_and_not_twice_at_once(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1})
    done = _finish_three(api, run_id)
    b_id = task_of(done, "b")["taskId"]
    by_ref = api.post(f"/api/workflow/{run_id}/rerun", json={"reRunFromTaskId": "a"})
    assert by_ref.status_code == 200
    again = api.post(f"/api/workflow/{run_id}/rerun", json={"reRunFromTaskId": b_id})
    assert again.status_code == 409  # the rerun from "a" is under way
    body = run(api, run_id)
    assert body["status"] == "RUNNING"
    assert [t["referenceTaskName"] for t in body["tasks"]] == ["a"]


def test_the_cli_reruns_from_a_task_with_new_input_and_retry_is_another_thing(api, server):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1})
    _finish_three(api, run_id)
    cli = CliRunner()
    refused = cli.invoke(app, ["retry", run_id, "--server", server.url])
    assert refused.exit_code == 1 and "409" in refused.output  # nothing failed: nothing to retry
    rerun = cli.invoke(
        app,
        [
            "rerun",
            run_id,
            "--from-task",
            "b",
            "--input",
            '{"n": 9}',
            "--task-input",
            '{"x": 1}',
            *[
                "--server",
                server.url,
            ],
        ],
    )
    assert rerun.exit_code == 0, rerun.output
    body = run(api, run_id)
    assert body["status"] == "RUNNING" and body["input"] == {"n": 9}
    assert [t["referenceTaskName"] for t in body["tasks"]] == ["a", "b"]
    [again] = poll(api, "b")
    assert again["inputData"]["x"] == 1
    orphan = cli.invoke(app, ["rerun", run_id, "--task-input", "{}", "--server", server.url])
    assert orphan.exit_code == 2 and "--from-task" in orphan.output


def test_rerun_from_the_middle_with_new_task_input(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1})
    done = _finish_three(api, run_id)
    b_id = task_of(done, "b")["taskId"]
    response = api.post(
        f"/api/workflow/{run_id}/rerun",
        json={"reRunFromWorkflowId": run_id, "reRunFromTaskId": b_id, "taskInput": {"prev": 9}},
    )
    assert response.status_code == 200
    assert response.text == run_id
    [b] = poll(api, "b")
    assert b["inputData"] == {"prev": 9}
    assert b["taskId"] != b_id
    complete(api, b, {"v": 20})
    [c] = poll(api, "c")
    assert c["inputData"] == {"prev": 20}
    complete(api, c, {"v": 30})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert body["output"] == {"c": 30}
    assert [t["referenceTaskName"] for t in body["tasks"]] == ["a", "b", "c"]
    assert task_of(body, "a")["taskId"] == task_of(done, "a")["taskId"]
    assert api.get(f"/api/tasks/{b_id}").status_code == 404


def test_rerun_without_a_task_starts_over_with_new_input(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1})
    _finish_three(api, run_id)
    response = api.post(f"/api/workflow/{run_id}/rerun", json={"workflowInput": {"n": 5}})
    assert response.status_code == 200
    [a] = poll(api, "a")
    assert a["inputData"] == {"n": 5}
    assert run(api, run_id)["input"] == {"n": 5}


def test_rerun_refusals_name_the_problem_and_change_nothing(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1})
    running = api.post(f"/api/workflow/{run_id}/rerun", json={"reRunFromTaskId": "a"})
    assert running.status_code == 409
    _finish_three(api, run_id)
    unknown = api.post(f"/api/workflow/{run_id}/rerun", json={"reRunFromTaskId": "nope"})
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "reRunFromTaskId"
    other = api.post(f"/api/workflow/{run_id}/rerun", json={"reRunFromWorkflowId": "other"})
    assert other.status_code == 400
    assert other.json()["field"] == "reRunFromWorkflowId"
    bad = api.post(f"/api/workflow/{run_id}/rerun", json={"taskInput": [1]})
    assert bad.status_code == 400
    assert bad.json()["field"] == "taskInput"
    assert api.post("/api/workflow/no-run/rerun", json={}).status_code == 404
    assert run(api, run_id)["status"] == "COMPLETED"


FORKED = {
    "name": "forked",
    "version": 1,
    "tasks": [
        {
            "name": "fork",
            "taskReferenceName": "fork",
            "type": "FORK_JOIN",
            "forkTasks": [
                [{"name": "a", "taskReferenceName": "left"}],
                [{"name": "b", "taskReferenceName": "right"}],
            ],
        },
        {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["left", "right"]},
        {"name": "c", "taskReferenceName": "after"},
    ],
}


def test_rerun_of_a_fork_branch_waits_at_the_join_again(api):
    register(api, FORKED, DEFS)
    run_id = start(api, "forked")
    _step(api, "a", {"v": "left"})
    _step(api, "b", {"v": "right"})
    _step(api, "c", {"v": "after"})
    done = wait_status(api, run_id)
    # As in Conductor, what was scheduled after the task is dropped: here the JOIN and
    # the step after it, while the left branch (scheduled before) is kept.
    right_id = task_of(done, "right")["taskId"]
    rerun = api.post(f"/api/workflow/{run_id}/rerun", json={"reRunFromTaskId": right_id})
    assert rerun.status_code == 200
    body = run(api, run_id)
    assert task_of(body, "join")["status"] == "IN_PROGRESS"
    assert task_of(body, "left")["status"] == "COMPLETED"
    assert poll(api, "a", timeout_ms=100) == []
    _step(api, "b", {"v": "right again"})
    _step(api, "c", {"v": "after again"})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert task_of(body, "join")["outputData"] == {
        "left": {"v": "left"},
        "right": {"v": "right again"},
    }


def test_skip_an_active_task_and_a_later_one(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1})
    [a] = poll(api, "a")
    later = api.put(f"/api/workflow/{run_id}/skiptask/c", json={"taskOutput": {"v": "skipped c"}})
    assert later.status_code == 204
    now = api.put(f"/api/workflow/{run_id}/skiptask/a", json={"taskOutput": {"v": 10}})
    assert now.status_code == 204
    assert complete(api, a, {"v": 1}).status_code == 409  # it already ended, SKIPPED
    [b] = poll(api, "b")
    assert b["inputData"] == {"prev": 10}
    complete(api, b, {"v": 2})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert body["output"] == {"c": "skipped c"}
    assert [t["status"] for t in body["tasks"]] == ["SKIPPED", "COMPLETED", "SKIPPED"]
    assert poll(api, "c", timeout_ms=100) == []


def test_skip_refusals_change_nothing(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1})
    unknown = api.put(f"/api/workflow/{run_id}/skiptask/zzz", json={})
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "taskReferenceName"
    bad = api.put(f"/api/workflow/{run_id}/skiptask/b", json={"taskOutput": "x"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "taskOutput"
    _step(api, "a", {"v": 1})
    ended = api.put(f"/api/workflow/{run_id}/skiptask/a", json={})
    assert ended.status_code == 409
    api.put(f"/api/workflow/{run_id}/pause")
    assert api.put(f"/api/workflow/{run_id}/skiptask/c", json={}).status_code == 409
    body = run(api, run_id)
    assert [t["status"] for t in body["tasks"]] == ["COMPLETED", "SCHEDULED"]


def test_status_and_decide(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1}, correlationId="k")
    plain = api.get(f"/api/workflow/{run_id}/status").json()
    assert plain == {"workflowId": run_id, "correlationId": "k", "status": "RUNNING"}
    _finish_three(api, run_id)
    full = api.get(
        f"/api/workflow/{run_id}/status",
        params={"includeOutput": "true", "includeVariables": "True"},
    ).json()
    assert full["status"] == "COMPLETED"
    assert full["output"] == {"c": 3}
    assert full["variables"] == {}
    assert api.put(f"/api/workflow/decide/{run_id}", json={}).status_code == 204
    assert api.put("/api/workflow/decide/no-run", json={}).status_code == 404
    assert api.get("/api/workflow/no-run/status").status_code == 404


def test_correlated_lookups(api):
    register(api, THREE, DEFS)
    register(api, {**THREE, "name": "other"})
    open_run = start(api, "three", {"n": 1}, correlationId="order-7")
    other = start(api, "other", {"n": 1}, correlationId="order-7")
    closed = start(api, "three", {"n": 1}, correlationId="order-8")
    api.delete(f"/api/workflow/{closed}")

    found = api.get("/api/workflow/three/correlated/order-7").json()
    assert [r["workflowId"] for r in found] == [open_run]
    assert "tasks" not in found[0]
    with_tasks = api.get(
        "/api/workflow/three/correlated/order-7", params={"includeTasks": "true"}
    ).json()
    assert with_tasks[0]["tasks"][0]["referenceTaskName"] == "a"
    assert api.get("/api/workflow/three/correlated/order-8").json() == []
    many = api.post(
        "/api/workflow/three/correlated",
        params={"includeClosed": "True"},
        json=["order-7", "order-8", "none"],
    ).json()
    assert {k: [r["workflowId"] for r in v] for k, v in many.items()} == {
        "order-7": [open_run],
        "order-8": [closed],
        "none": [],
    }
    batch = api.post(
        "/api/workflow/correlated/batch",
        json={"workflowNames": ["three", "other"], "correlationIds": ["order-7"]},
    ).json()
    assert {r["workflowId"] for r in batch["order-7"]} == {open_run, other}
    bad = api.post("/api/workflow/correlated/batch", json={"workflowNames": "three"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "workflowNames"
    assert api.post("/api/workflow/three/correlated", json={"a": 1}).status_code == 400


def test_running_ids_by_name_and_version(api):
    register(api, THREE, DEFS)
    register(api, {**THREE, "version": 2})
    v1 = start(api, "three", {"n": 1}, version=1)
    v2 = start(api, "three", {"n": 1})
    ended = start(api, "three", {"n": 1})
    api.delete(f"/api/workflow/{ended}")
    assert set(api.get("/api/workflow/running/three").json()) == {v1, v2}
    assert api.get("/api/workflow/running/three", params={"version": 1}).json() == [v1]
    assert api.get("/api/workflow/running/none").json() == []


def test_bulk_actions_report_each_run(api):
    register(api, THREE, DEFS)
    first = start(api, "three", {"n": 1})
    second = start(api, "three", {"n": 1})
    paused = api.put("/api/workflow/bulk/pause", json=[first, second, "no-run"]).json()
    assert paused["bulkSuccessfulResults"] == [first, second]
    assert list(paused["bulkErrorResults"]) == ["no-run"]
    assert run(api, first)["status"] == "PAUSED"
    resumed = api.put("/api/workflow/bulk/resume", json=[first]).json()
    assert resumed["bulkSuccessfulResults"] == [first]
    assert run(api, first)["status"] == "RUNNING"
    stopped = api.post(
        "/api/workflow/bulk/terminate", params={"reason": "cleanup"}, json=[first]
    ).json()
    assert stopped["bulkSuccessfulResults"] == [first]
    assert run(api, first)["reasonForIncompletion"] == "cleanup"
    retried = api.post("/api/workflow/bulk/retry", json=[first, second]).json()
    assert retried["bulkSuccessfulResults"] == [first]
    assert list(retried["bulkErrorResults"]) == [second]  # paused, not ended
    api.delete(f"/api/workflow/{second}")
    restarted = api.post("/api/workflow/bulk/restart", json=[second]).json()
    assert restarted["bulkSuccessfulResults"] == [second]
    assert run(api, second)["status"] == "RUNNING"
    bad = api.post("/api/workflow/bulk/retry", json={"ids": [first]})
    assert bad.status_code == 400
    assert bad.json()["field"] == "body"


def test_execute_waits_for_the_run_and_answers_it(api):
    register(api, THREE, DEFS)

    def work():
        _step(api, "a", {"v": 1})
        _step(api, "b", {"v": 2})
        _step(api, "c", {"v": 3})

    worker = threading.Thread(target=work)
    worker.start()
    response = api.post(
        "/api/workflow/execute/three/1",
        params={"requestId": "r-1", "waitForSeconds": 20},
        json={"name": "three", "input": {"n": 1}, "correlationId": "exec"},
    )
    worker.join(timeout=20)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "COMPLETED"
    assert body["output"] == {"c": 3}
    assert body["requestId"] == "r-1"
    assert body["correlationId"] == "exec"
    assert [t["status"] for t in body["tasks"]] == ["COMPLETED"] * 3


def test_execute_returns_at_the_task_waited_for_or_when_time_is_up(api):
    register(api, THREE, DEFS)
    reached = api.post(
        "/api/workflow/execute/three/1",
        params={"waitUntilTaskRef": "a", "waitForSeconds": 10},
        json={"input": {"n": 1}},
    ).json()
    assert reached["status"] == "RUNNING"
    assert [t["referenceTaskName"] for t in reached["tasks"]] == ["a"]
    timed_out = api.post(
        "/api/workflow/execute/three/1", params={"waitForSeconds": 0}, json={}
    ).json()
    assert timed_out["status"] == "RUNNING"
    missing = api.post("/api/workflow/execute/three/7", json={})
    assert missing.status_code == 404
    bad = api.post("/api/workflow/execute/three/one", json={})
    assert bad.status_code == 400
    assert bad.json()["field"] == "version"


def test_task_logs_can_be_added_and_read(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1})
    [a] = poll(api, "a")
    task_id = a["taskId"]
    raw = api.post(
        f"/api/tasks/{task_id}/log",
        content=b"raw line",
        headers={"Content-Type": "application/json"},
    )
    assert raw.status_code == 204
    assert api.post(f"/api/tasks/{task_id}/log", json="json line").status_code == 204
    logs = api.get(f"/api/tasks/{task_id}/log").json()
    assert [entry["log"] for entry in logs] == ["raw line", "json line"]
    assert all(entry["taskId"] == task_id and entry["createdTime"] > 0 for entry in logs)
    empty = api.post(f"/api/tasks/{task_id}/log", json="")
    assert empty.status_code == 400
    assert empty.json()["field"] == "body"
    assert api.post("/api/tasks/no-task/log", json="x").status_code == 404
    assert api.get("/api/tasks/no-task/log").status_code == 404
    complete(api, a, {"v": 1})
    assert len(api.get(f"/api/tasks/{task_id}/log").json()) == 2
    assert task_of(run(api, run_id), "a")["status"] == "COMPLETED"


def test_update_by_reference_name_sync_answers_the_run(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1})
    response = api.post(f"/api/tasks/{run_id}/a/COMPLETED/sync", json={"v": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["workflowId"] == run_id
    assert task_of(body, "a")["status"] == "COMPLETED"
    assert task_of(body, "b")["inputData"] == {"prev": 1}
    bad = api.post(f"/api/tasks/{run_id}/b/DONE/sync", json={})
    assert bad.status_code == 400
    assert bad.json()["field"] == "status"


def test_queue_all_and_no_token_endpoint(api):
    register(api, THREE, DEFS)
    start(api, "three", {"n": 1})
    start(api, "three", {"n": 1})
    assert api.get("/api/tasks/queue/all").json() == {"a": 2}
    # An open server answers 404 here: the SDK then stops asking for tokens.
    assert api.post("/api/token", json={"keyId": "k", "keySecret": "s"}).status_code == 404


def test_search_reads_conductor_query_and_free_text(api):
    register(api, THREE, DEFS)
    register(api, {**THREE, "name": "other"})
    a = start(api, "three", {"n": 1}, correlationId="x-1")
    b = start(api, "other", {"n": 1}, correlationId="x-2")
    api.delete(f"/api/workflow/{b}")

    def ids(**params):
        response = api.get("/api/workflow/search", params=params)
        assert response.status_code == 200, response.text
        return {r["workflowId"] for r in response.json()["results"]}

    assert ids(query="workflowType IN (three,other) AND status IN (RUNNING)") == {a}
    assert ids(query="workflowType IN (three,other)", freeText="*") == {a, b}
    assert ids(freeText="x-2") == {b}
    assert ids(query="status IN (TERMINATED)", start=0, size=10, sort="startTime:DESC") == {b}
    bad = api.get("/api/workflow/search", params={"query": "priority ~ 3"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "query"


def test_variables_update_merges_into_an_open_run(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1})
    first = api.post(f"/api/workflow/{run_id}/variables", json={"stage": "picked", "n": 1})
    assert first.status_code == 200
    body = api.post(f"/api/workflow/{run_id}/variables", json={"n": 2}).json()
    assert body["variables"] == {"stage": "picked", "n": 2}
    bad = api.post(f"/api/workflow/{run_id}/variables", json=[1])
    assert bad.status_code == 400
    assert bad.json()["field"] == "body"
    api.delete(f"/api/workflow/{run_id}")
    assert api.post(f"/api/workflow/{run_id}/variables", json={"n": 3}).status_code == 409
    assert run(api, run_id)["variables"] == {"stage": "picked", "n": 2}


def test_poll_data_names_the_workers_that_polled(api):
    assert api.get("/api/tasks/queue/polldata", params={"taskType": "a"}).json() == []
    poll(api, "a", worker="w-1", timeout_ms=0)
    poll(api, "a", worker="w-2", timeout_ms=0)
    poll(api, "b", worker="w-1", timeout_ms=0)
    found = api.get("/api/tasks/queue/polldata", params={"taskType": "a"}).json()
    assert {entry["workerId"] for entry in found} == {"w-1", "w-2"}
    assert all(entry["queueName"] == "a" and entry["lastPollTime"] > 0 for entry in found)
    assert len(api.get("/api/tasks/queue/polldata/all").json()) == 3
    missing = api.get("/api/tasks/queue/polldata")
    assert missing.status_code == 400
    assert missing.json()["field"] == "taskType"


def test_search_v2_answers_whole_workflows(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1}, correlationId="v2")
    found = api.get("/api/workflow/search-v2", params={"query": "workflowType IN (three)"}).json()
    assert found["totalHits"] == 1
    [hit] = found["results"]
    assert hit["workflowId"] == run_id
    assert hit["input"] == {"n": 1}
    assert hit["workflowName"] == "three"
    bad = api.get("/api/workflow/search-v2", params={"size": "many"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "size"


def test_queue_size_of_one_type(api):
    register(api, THREE, DEFS)
    start(api, "three", {"n": 1})
    assert api.get("/api/tasks/queue/size", params={"taskType": "a"}).json() == 1
    assert api.get("/api/tasks/queue/size", params={"taskType": "zzz"}).json() == 0
    assert api.get("/api/tasks/queue/size").json()["field"] == "taskType"


def test_workflow_names_and_versions(api):
    register(api, THREE, DEFS)
    register(api, {**THREE, "version": 2})
    register(api, {**THREE, "name": "other"})
    found = api.get("/api/metadata/workflow/names-and-versions").json()
    assert {name: [s["version"] for s in summaries] for name, summaries in found.items()} == {
        "three": [1, 2],
        "other": [1],
    }


def test_tasks_name_their_step_as_the_sdk_reads_it(api):
    register(api, THREE, DEFS)
    run_id = start(api, "three", {"n": 1})
    [a] = poll(api, "a")
    assert a["workflowTask"] == {"name": "a", "taskReferenceName": "a", "type": "SIMPLE"}
    assert task_of(run(api, run_id), "a")["workflowTask"]["taskReferenceName"] == "a"


def test_start_and_execute_with_an_inline_definition(api):
    api.post("/api/metadata/taskdefs", json=DEFS)
    inline = {**THREE, "name": "adhoc"}
    started = api.post(
        "/api/workflow", json={"name": "adhoc", "input": {"n": 1}, "workflowDef": inline}
    )
    assert started.status_code == 200
    assert run(api, started.text)["workflowName"] == "adhoc"
    _step(api, "a", {"v": 1})
    assert api.get("/api/metadata/workflow/adhoc").status_code == 404  # ran, not registered
    waited = api.post(
        "/api/workflow/execute/adhoc/1",
        params={"waitUntilTaskRef": "b", "waitForSeconds": 1},
        json={"name": "adhoc", "input": {"n": 2}, "workflowDef": inline},
    ).json()
    # No worker takes "a", so "b" is never reached: the answer comes when the wait is over.
    assert waited["status"] == "RUNNING"
    assert [t["referenceTaskName"] for t in waited["tasks"]] == ["a"]
    broken = {**inline, "tasks": [{"name": "x", "taskReferenceName": "x", "type": "NOPE"}]}
    bad = api.post("/api/workflow", json={"name": "adhoc", "workflowDef": broken})
    assert bad.status_code == 400
    assert bad.json()["field"].startswith("workflowDef")
    other = api.post("/api/workflow", json={"name": "other", "workflowDef": inline})
    assert other.status_code == 400
    assert other.json()["field"] == "workflowDef.name"
    assert api.get("/api/workflow/search", params={"name": "adhoc"}).json()["totalHits"] == 2
