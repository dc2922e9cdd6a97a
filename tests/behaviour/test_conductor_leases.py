"""Long tasks as Conductor's SDK runs them: IN_PROGRESS heartbeats and callbacks keep the lease."""

from __future__ import annotations

import time

from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

ONE = {
    "name": "long",
    "version": 1,
    "tasks": [{"name": "slow", "taskReferenceName": "slow"}],
}
SHORT_LEASE = [{"name": "slow", "retryCount": 0, "responseTimeoutSeconds": 1}]


def _progress(api, task, worker="w1", **fields):
    body = {
        "taskId": task["taskId"],
        "workflowInstanceId": task["workflowInstanceId"],
        "status": "IN_PROGRESS",
        "workerId": worker,
        **fields,
    }
    return api.post("/api/tasks", json=body)


def test_extend_lease_heartbeats_keep_the_task_past_its_response_timeout(api):
    register(api, ONE, SHORT_LEASE)
    run_id = start(api, "long")
    [task] = poll(api, "slow", worker="w1")
    for _ in range(5):
        time.sleep(0.5)
        assert _progress(api, task, extendLease=True).status_code == 200
    assert poll(api, "slow", worker="other", timeout_ms=300) == []
    live = task_of(run(api, run_id), "slow")
    assert live["status"] == "IN_PROGRESS"
    assert live["workerId"] == "w1"
    assert live["pollCount"] == 1
    assert complete(api, task, {"done": True}, worker="w1").status_code == 200
    assert wait_status(api, run_id)["status"] == "COMPLETED"


def test_without_heartbeats_the_lease_runs_out(api):
    register(api, ONE, SHORT_LEASE)
    start(api, "long")
    [task] = poll(api, "slow", worker="w1")
    time.sleep(1.3)
    [again] = poll(api, "slow", worker="other", timeout_ms=3000)
    assert again["taskId"] == task["taskId"]
    assert again["pollCount"] == 2


def test_callback_after_seconds_holds_the_task_then_hands_it_out_again(api):
    register(api, ONE, [{"name": "slow", "retryCount": 0, "responseTimeoutSeconds": 30}])
    run_id = start(api, "long")
    [task] = poll(api, "slow", worker="w1")
    held = _progress(api, task, callbackAfterSeconds=1, outputData={"step": 1})
    assert held.status_code == 200
    assert poll(api, "slow", worker="other", timeout_ms=300) == []
    live = task_of(run(api, run_id), "slow")
    assert live["status"] == "IN_PROGRESS"
    assert live["callbackAfterSeconds"] == 1
    assert live["outputData"] == {"step": 1}
    # After the callback delay the task is delivered again, with what it reported so far,
    # as Conductor does for the SDK's TaskInProgress.
    [again] = poll(api, "slow", worker="w2", timeout_ms=3000)
    assert again["taskId"] == task["taskId"]
    assert again["pollCount"] == 2
    assert again["outputData"] == {"step": 1}
    assert complete(api, again, {"step": 2}, worker="w2").status_code == 200
    assert wait_status(api, run_id)["output"] == {"step": 2}


def test_extend_lease_with_a_short_callback_still_keeps_the_response_timeout(api):
    register(api, ONE, [{"name": "slow", "retryCount": 0, "responseTimeoutSeconds": 3}])
    start(api, "long")
    [task] = poll(api, "slow", worker="w1")
    assert _progress(api, task, callbackAfterSeconds=1, extendLease=True).status_code == 200
    time.sleep(1.3)
    assert poll(api, "slow", worker="other", timeout_ms=200) == []


def test_a_result_may_carry_its_own_worker_id_until_the_task_is_handed_over(api):
    # The SDK lets worker code build its TaskResult with any workerId.
    register(api, ONE, SHORT_LEASE)
    run_id = start(api, "long")
    [task] = poll(api, "slow", worker="host-1")
    assert _progress(api, task, worker="custom-id", extendLease=True).status_code == 200
    assert complete(api, task, {"ok": True}, worker="custom-id").status_code == 200
    assert wait_status(api, run_id)["status"] == "COMPLETED"


def test_a_heartbeat_from_a_fenced_worker_is_refused(api):
    register(api, ONE, SHORT_LEASE)
    start(api, "long")
    [task] = poll(api, "slow", worker="w1")
    time.sleep(1.3)
    [poll(api, "slow", worker="w2", timeout_ms=3000)]
    late = _progress(api, task, worker="w1", extendLease=True)
    assert late.status_code == 409
    assert late.json()["code"] == "E_LEASE_LOST"
