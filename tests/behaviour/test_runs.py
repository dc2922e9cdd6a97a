"""Starting, reading, searching and operating on runs through the API."""

from __future__ import annotations

from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

TWO_STEPS = {
    "name": "two_steps",
    "version": 1,
    "tasks": [
        {
            "name": "first",
            "taskReferenceName": "first",
            "inputParameters": {"n": "${workflow.input.n}"},
        },
        {
            "name": "second",
            "taskReferenceName": "second",
            "inputParameters": {"prev": "${first.output.value}"},
        },
    ],
    "outputParameters": {"result": "${second.output.value}", "id": "${workflow.workflowId}"},
}
DEFS = [{"name": "first", "retryCount": 0}, {"name": "second", "retryCount": 0}]


def _finish(api, run_id):
    [first] = poll(api, "first")
    assert first["inputData"] == {"n": 3}
    assert complete(api, first, {"value": 30}).status_code == 200
    [second] = poll(api, "second")
    assert second["inputData"] == {"prev": 30}
    complete(api, second, {"value": 31})
    return wait_status(api, run_id)


def test_a_run_completes_with_resolved_output(api):
    register(api, TWO_STEPS, DEFS)
    run_id = start(api, "two_steps", {"n": 3}, correlationId="order-1")
    body = _finish(api, run_id)
    assert body["status"] == "COMPLETED"
    assert body["output"] == {"result": 31, "id": run_id}
    assert body["correlationId"] == "order-1"
    assert [t["status"] for t in body["tasks"]] == ["COMPLETED", "COMPLETED"]
    assert body["endTime"] >= body["startTime"] > 0
    assert (
        "tasks" not in api.get(f"/api/workflow/{run_id}", params={"includeTasks": "false"}).json()
    )


def test_start_with_request_body_and_version(api):
    register(api, TWO_STEPS, DEFS)
    register(api, {**TWO_STEPS, "version": 2})
    response = api.post(
        "/api/workflow", json={"name": "two_steps", "version": 1, "input": {"n": 3}}
    )
    assert response.status_code == 200
    assert run(api, response.text)["workflowVersion"] == 1
    latest = start(api, "two_steps", {"n": 3})
    assert run(api, latest)["workflowVersion"] == 2


def test_a_run_keeps_the_definition_it_started_with(api):
    register(api, TWO_STEPS, DEFS)
    run_id = start(api, "two_steps", {"n": 3})
    changed = {**TWO_STEPS, "outputParameters": {"other": "${first.output.value}"}}
    register(api, changed)  # same version, overwritten
    body = _finish(api, run_id)
    assert body["output"] == {"result": 31, "id": run_id}


def test_idempotency_key_returns_the_same_run(api):
    register(api, TWO_STEPS, DEFS)
    first = start(api, "two_steps", {"n": 3}, idempotencyKey="k-1")
    again = start(api, "two_steps", {"n": 3}, idempotencyKey="k-1")
    header = api.post(
        "/api/workflow/two_steps", json={"n": 3}, headers={"Idempotency-Key": "k-1"}
    ).text
    other = start(api, "two_steps", {"n": 3}, idempotencyKey="k-2")
    assert first == again == header
    assert other != first
    assert api.get("/api/workflow/search", params={"name": "two_steps"}).json()["totalHits"] == 2


def test_start_errors_change_nothing(api):
    register(api, TWO_STEPS, DEFS)
    missing = api.post("/api/workflow/nope", json={})
    assert missing.status_code == 404
    assert "nope" in missing.json()["message"]
    assert api.post("/api/workflow/two_steps", params={"version": 9}, json={}).status_code == 404
    not_object = api.post("/api/workflow/two_steps", json=[1, 2])
    assert not_object.status_code == 400
    assert not_object.json()["field"] == "body"
    assert api.post("/api/workflow", json={"version": 1}).json()["field"] == "name"
    assert api.get("/api/workflow/search").json()["totalHits"] == 0
    assert api.get("/api/workflow/not-a-run").status_code == 404


def test_search_by_name_status_correlation_and_time(api):
    register(api, TWO_STEPS, DEFS)
    register(api, {**TWO_STEPS, "name": "other"})
    a = start(api, "two_steps", {"n": 3}, correlationId="c-a")
    b = start(api, "other", {"n": 3}, correlationId="c-b")
    api.delete(f"/api/workflow/{b}", params={"reason": "stop"})

    def ids(**params):
        return [
            r["workflowId"]
            for r in api.get("/api/workflow/search", params=params).json()["results"]
        ]

    assert ids(name="two_steps") == [a]
    assert ids(status="TERMINATED") == [b]
    assert ids(correlationId="c-a") == [a]
    assert ids(query="workflowType = 'other' AND status IN (TERMINATED,FAILED)") == [b]
    assert set(ids(startedAfter=0)) == {a, b}
    assert ids(startedBefore=0) == []
    assert len(ids(size=1)) == 1
    bad = api.get("/api/workflow/search", params={"status": "SLEEPING"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "status"


def test_terminate_cancels_active_tasks_and_refuses_twice(api):
    register(api, TWO_STEPS, DEFS)
    run_id = start(api, "two_steps", {"n": 3})
    [task] = poll(api, "first")
    assert (
        api.delete(f"/api/workflow/{run_id}", params={"reason": "customer cancelled"}).status_code
        == 200
    )
    body = run(api, run_id)
    assert body["status"] == "TERMINATED"
    assert body["reasonForIncompletion"] == "customer cancelled"
    assert task_of(body, "first")["status"] == "CANCELED"
    late = complete(api, task, {"value": 1})
    assert late.status_code == 409
    again = api.delete(f"/api/workflow/{run_id}")
    assert again.status_code == 409
    assert run(api, run_id)["status"] == "TERMINATED"


def test_pause_holds_the_next_step_until_resume(api):
    register(api, TWO_STEPS, DEFS)
    run_id = start(api, "two_steps", {"n": 3})
    [first] = poll(api, "first")
    assert api.put(f"/api/workflow/{run_id}/pause").status_code == 200
    complete(api, first, {"value": 30})
    assert poll(api, "second", timeout_ms=300) == []
    assert run(api, run_id)["status"] == "PAUSED"
    assert api.put(f"/api/workflow/{run_id}/pause").status_code == 409
    assert api.put(f"/api/workflow/{run_id}/resume").status_code == 200
    [second] = poll(api, "second")
    complete(api, second, {"value": 31})
    assert wait_status(api, run_id)["status"] == "COMPLETED"


def test_retry_reruns_the_failed_step_and_keeps_completed_ones(api):
    register(api, TWO_STEPS, DEFS)
    run_id = start(api, "two_steps", {"n": 3})
    [first] = poll(api, "first")
    complete(api, first, {"value": 30})
    [second] = poll(api, "second")
    complete(api, second, status="FAILED", reason="payment service down")
    failed = wait_status(api, run_id)
    assert failed["status"] == "FAILED"
    assert "payment service down" in failed["reasonForIncompletion"]
    assert failed["failedReferenceTaskNames"] == ["second"]
    assert api.post(f"/api/workflow/{run_id}/retry").status_code == 200
    [again] = poll(api, "second")
    assert again["retryCount"] == 1
    assert again["inputData"] == {"prev": 30}
    complete(api, again, {"value": 31})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert [t["referenceTaskName"] for t in body["tasks"]] == ["first", "second", "second"]
    assert api.post(f"/api/workflow/{run_id}/retry").status_code == 409


def test_restart_runs_from_the_start_with_the_same_id(api):
    register(api, TWO_STEPS, DEFS)
    run_id = start(api, "two_steps", {"n": 3})
    assert api.post(f"/api/workflow/{run_id}/restart").status_code == 409  # still running
    _finish(api, run_id)
    assert api.post(f"/api/workflow/{run_id}/restart").status_code == 200
    assert run(api, run_id)["status"] == "RUNNING"
    body = _finish(api, run_id)
    assert body["status"] == "COMPLETED"
    assert len(body["tasks"]) == 2


def test_remove_deletes_a_run(api):
    register(api, TWO_STEPS, DEFS)
    run_id = start(api, "two_steps", {"n": 3})
    assert api.delete(f"/api/workflow/{run_id}/remove").status_code == 200
    assert api.get(f"/api/workflow/{run_id}").status_code == 404
    assert poll(api, "first", timeout_ms=100) == []


def test_start_by_name_reads_its_query_like_the_documented_route(api):
    register(api, TWO_STEPS, DEFS)
    bad = api.post("/api/workflow/two_steps", params={"version": "two"}, json={})
    assert bad.status_code == 400
    assert bad.json()["field"] == "version"
    run_id = start(api, "two_steps", {"n": 3}, version=1, correlationId="q-1")
    body = run(api, run_id)
    assert (body["workflowVersion"], body["correlationId"]) == (1, "q-1")


def test_a_changed_task_definition_applies_to_runs_started_after_it(api):
    register(api, TWO_STEPS, DEFS)
    first = start(api, "two_steps", {"n": 3})
    api.post(
        "/api/metadata/taskdefs", json=[{"name": "first", "retryCount": 1, "retryDelaySeconds": 0}]
    )
    second = start(api, "two_steps", {"n": 3})
    for _ in range(2):
        [task] = poll(api, "first")
        complete(api, task, status="FAILED", reason="flaky")
    assert wait_status(api, first)["status"] == "FAILED"  # started with retryCount 0
    [retry] = poll(api, "first")
    assert retry["workflowInstanceId"] == second
    assert retry["retryCount"] == 1


def test_restart_with_latest_definitions_moves_the_run_to_the_newest_version(api):
    register(api, TWO_STEPS, DEFS)
    run_id = start(api, "two_steps", {"n": 3})
    _finish(api, run_id)
    register(api, {**TWO_STEPS, "version": 2, "outputParameters": {"v2": "${second.output.value}"}})
    assert api.post(f"/api/workflow/{run_id}/restart").json()["version"] == 1
    body = _finish(api, run_id)
    assert body["output"] == {"result": 31, "id": run_id}
    response = api.post(f"/api/workflow/{run_id}/restart", params={"useLatestDefinitions": "True"})
    assert response.json()["version"] == 2
    body = _finish(api, run_id)
    assert body["workflowVersion"] == 2
    assert body["output"] == {"v2": 31}
