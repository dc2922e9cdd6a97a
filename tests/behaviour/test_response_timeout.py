"""responseTimeoutSeconds: a worker that claims a task and goes quiet times its attempt out.

The sweeper ends the attempt TIMED_OUT and schedules the retry as a new task, with nobody
polling; with no retries left the run times out, as Conductor's retry() ends it.
"""

from __future__ import annotations

import time

from tests.behaviour.helpers import complete, poll, register, run, start, wait_status

ONE = {
    "name": "quiet",
    "version": 1,
    "tasks": [{"name": "slow", "taskReferenceName": "slow"}],
}


def _task_def(retries: int) -> list[dict[str, object]]:
    return [
        {
            "name": "slow",
            "retryCount": retries,
            "retryDelaySeconds": 0,
            "responseTimeoutSeconds": 1,
        }
    ]


def _wait_for_attempts(api, run_id, count, timeout=10.0):
    """The run once it holds ``count`` attempts of its task (the sweeper's work, not a poll's)."""
    deadline = time.monotonic() + timeout
    while True:
        body = run(api, run_id)
        if len(body["tasks"]) >= count:
            return body
        assert time.monotonic() < deadline, f"still {len(body['tasks'])} attempts: {body}"
        time.sleep(0.05)


def _beat(api, task, **fields):
    body = {
        "taskId": task["taskId"],
        "workflowInstanceId": task["workflowInstanceId"],
        "status": "IN_PROGRESS",
        "workerId": "w1",
        **fields,
    }
    return api.post("/api/tasks", json=body)


def test_a_quiet_worker_times_out_and_the_retry_is_scheduled_without_a_poll(api):
    register(api, ONE, _task_def(retries=1))
    run_id = start(api, "quiet")
    [task] = poll(api, "slow", worker="dead")
    body = _wait_for_attempts(api, run_id, 2)
    first, retry = body["tasks"]
    assert first["taskId"] == task["taskId"]
    assert first["status"] == "TIMED_OUT"
    assert "responseTimeout" in first["reasonForIncompletion"]
    assert first["workerId"] == "dead"
    assert retry["status"] == "SCHEDULED"
    assert retry["taskId"] != task["taskId"]
    assert retry["retriedTaskId"] == task["taskId"]
    assert retry["retryCount"] == 1
    assert body["status"] == "RUNNING"
    # The retry waits on the queue for the next poller.
    assert api.get("/api/tasks/queue/sizes", params={"taskType": "slow"}).json() == {"slow": 1}
    [again] = poll(api, "slow", worker="alive")
    assert again["taskId"] == retry["taskId"]
    assert again["pollCount"] == 1
    assert complete(api, again, {"by": "alive"}, worker="alive").status_code == 200
    done = wait_status(api, run_id)
    assert done["status"] == "COMPLETED"
    assert done["output"] == {"by": "alive"}


def test_the_dead_workers_late_result_is_refused(api):
    register(api, ONE, _task_def(retries=1))
    run_id = start(api, "quiet")
    [task] = poll(api, "slow", worker="dead")
    retry = _wait_for_attempts(api, run_id, 2)["tasks"][1]
    late = complete(api, task, {"by": "dead"}, worker="dead")
    assert late.status_code == 409, late.text
    assert late.json()["code"] == "E_TASK_FINISHED"
    tokened = api.post(
        "/api/tasks",
        json={
            "taskId": task["taskId"],
            "status": "COMPLETED",
            "workerId": "dead",
            "leaseToken": task["leaseToken"],
        },
    )
    assert tokened.status_code == 409, tokened.text
    # Nothing changed: the retry still goes to the next poller.
    body = run(api, run_id)
    assert [t["status"] for t in body["tasks"]] == ["TIMED_OUT", "SCHEDULED"]
    [again] = poll(api, "slow", worker="alive")
    assert again["taskId"] == retry["taskId"]
    assert complete(api, again, {"by": "alive"}, worker="alive").status_code == 200
    assert wait_status(api, run_id)["output"] == {"by": "alive"}


def test_with_no_retries_left_the_run_times_out(api):
    register(api, ONE, _task_def(retries=1))
    run_id = start(api, "quiet")
    [task] = poll(api, "slow", worker="dead")
    _wait_for_attempts(api, run_id, 2)
    [again] = poll(api, "slow", worker="dead-too")
    assert again["taskId"] != task["taskId"]
    body = wait_status(api, run_id, timeout=10)
    assert body["status"] == "TIMED_OUT"
    assert [t["status"] for t in body["tasks"]] == ["TIMED_OUT", "TIMED_OUT"]
    assert "responseTimeout" in body["reasonForIncompletion"]


def test_without_retries_a_quiet_worker_times_the_run_out(api):
    register(api, ONE, _task_def(retries=0))
    run_id = start(api, "quiet")
    poll(api, "slow", worker="dead")
    body = wait_status(api, run_id, timeout=10)
    assert body["status"] == "TIMED_OUT"
    assert [t["status"] for t in body["tasks"]] == ["TIMED_OUT"]


def test_heartbeats_keep_the_attempt_alive_until_they_stop(api):
    register(api, ONE, _task_def(retries=0))
    run_id = start(api, "quiet")
    [task] = poll(api, "slow", worker="w1")
    for _ in range(5):
        time.sleep(0.5)
        assert _beat(api, task, extendLease=True).status_code == 200
    body = run(api, run_id)
    assert body["status"] == "RUNNING"
    assert [t["status"] for t in body["tasks"]] == ["IN_PROGRESS"]
    # Once they stop, the attempt times out a response timeout after the last one.
    assert wait_status(api, run_id, timeout=10)["status"] == "TIMED_OUT"


def test_a_postponed_task_is_not_timed_out_while_it_waits(api):
    # Postponed with callbackAfterSeconds, the task waits on its queue held by nobody: its
    # response timeout does not run until it is claimed again.
    register(api, ONE, _task_def(retries=0))
    run_id = start(api, "quiet")
    [task] = poll(api, "slow", worker="w1")
    assert _beat(api, task, callbackAfterSeconds=2).status_code == 200
    time.sleep(1.5)
    body = run(api, run_id)
    assert body["status"] == "RUNNING"
    assert [t["status"] for t in body["tasks"]] == ["IN_PROGRESS"]
    [again] = poll(api, "slow", worker="w2", timeout_ms=3000)
    assert again["taskId"] == task["taskId"]
    assert again["pollCount"] == 2
    assert complete(api, again, {"by": "w2"}, worker="w2").status_code == 200
    assert wait_status(api, run_id)["status"] == "COMPLETED"
