"""Long tasks as Conductor's SDK runs them: IN_PROGRESS heartbeats keep the lease, callbacks
postpone the task, and a worker that goes quiet past responseTimeoutSeconds times its attempt
out."""

from __future__ import annotations

import time

import httpx

from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

V2 = "/api/tasks/update-v2"

ONE = {
    "name": "long",
    "version": 1,
    "tasks": [{"name": "slow", "taskReferenceName": "slow"}],
}
SHORT_LEASE = [{"name": "slow", "retryCount": 0, "responseTimeoutSeconds": 1}]
LONG_LEASE = [{"name": "slow", "retryCount": 0, "responseTimeoutSeconds": 30}]


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


def _postponed_then_claimed(api, a, b, *, b_params=None):
    """A claims the task and postpones it (``callbackAfterSeconds``); once the delay is over,
    B claims the same task: ``(a_task, b_task)``."""
    [a_task] = poll(a, "slow", worker="worker-a")
    held = _progress(a, a_task, worker="worker-a", callbackAfterSeconds=1)
    assert held.status_code == 200, held.text
    params = {"workerid": "worker-b", "count": 1, "timeout": 3000, **(b_params or {})}
    answer = b.get("/api/tasks/poll/batch/slow", params=params)
    assert answer.status_code == 200, answer.text
    [b_task] = answer.json()
    assert b_task["taskId"] == a_task["taskId"]
    assert b_task["pollCount"] == 2
    return a_task, b_task


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
    register(api, ONE, LONG_LEASE)
    start(api, "long")
    task, _ = _postponed_then_claimed(api, api, api)
    late = _progress(api, task, worker="worker-a", extendLease=True)
    assert late.status_code == 409
    assert late.json()["code"] == "E_LEASE_LOST"


# ---- fencing: a result counts only if it comes from the task's current lease ----------------


def _result(api, task, *, worker=None, token=None, status="COMPLETED", path="/api/tasks", **more):
    """A TaskResult as a Conductor SDK sends it (no token), or as Podium's SDK does."""
    body = {
        "taskId": task["taskId"],
        "workflowInstanceId": task["workflowInstanceId"],
        "status": status,
        "outputData": more.pop("output", {}),
        **more,
    }
    if worker is not None:
        body["workerId"] = worker
    if token is not None:
        body["leaseToken"] = token
    return api.post(path, json=body)


def _handed_over(api, *, fenced=False):
    """A postpones the task and B claims it after the delay: ``(run_id, a_task, b_task)``."""
    register(api, ONE, LONG_LEASE)
    run_id = start(api, "long")
    params = {"requireLeaseToken": "true"} if fenced else {}
    a_task, b_task = _postponed_then_claimed(api, api, api, b_params=params)
    return run_id, a_task, b_task


def _assert_lease_lost(response):
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "E_LEASE_LOST"


def _assert_still_with_b(api, run_id):
    live = task_of(run(api, run_id), "slow")
    assert live["status"] == "IN_PROGRESS"
    assert live["workerId"] == "worker-b"
    assert run(api, run_id)["status"] == "RUNNING"


def test_every_lease_has_a_token_of_its_own(api):
    _, a_task, b_task = _handed_over(api)
    assert a_task["leaseToken"] and b_task["leaseToken"]
    assert a_task["leaseToken"] != b_task["leaseToken"]


def test_a_stale_result_is_refused_however_it_names_its_worker(api):
    run_id, a_task, b_task = _handed_over(api)
    # What any client can read about the task: who holds it now.
    holder = api.get(f"/api/tasks/{a_task['taskId']}").json()["workerId"]
    assert holder == "worker-b"
    stale = [
        _result(api, a_task),
        _result(api, a_task, worker="worker-a"),
        _result(api, a_task, worker=holder, token=a_task["leaseToken"]),
        _result(api, a_task, token=a_task["leaseToken"]),
        _result(api, a_task, worker="worker-a", token=a_task["leaseToken"], path=V2),
    ]
    for response in stale:
        _assert_lease_lost(response)
    _assert_still_with_b(api, run_id)
    assert _result(api, b_task, token=b_task["leaseToken"], output={"by": "b"}).status_code == 200
    done = wait_status(api, run_id)
    assert done["status"] == "COMPLETED"
    assert task_of(done, "slow")["outputData"] == {"by": "b"}


def test_a_conductor_sdk_holder_without_the_token_is_still_accepted(api):
    # Conductor's SDKs send back the task id and their own worker id, never the token.
    run_id, a_task, b_task = _handed_over(api)
    _assert_lease_lost(_result(api, a_task))
    _assert_lease_lost(_result(api, a_task, worker="worker-a", path=V2))
    _assert_still_with_b(api, run_id)
    assert _result(api, b_task, worker="worker-b", output={"by": "b"}).status_code == 200
    assert task_of(wait_status(api, run_id), "slow")["outputData"] == {"by": "b"}


def test_a_worker_that_sends_its_token_cannot_be_impersonated_by_worker_id(api):
    # B asked for leases that only its token completes: B's worker id, readable by anyone,
    # is then worth nothing without it.
    run_id, a_task, b_task = _handed_over(api, fenced=True)
    holder = api.get(f"/api/tasks/{a_task['taskId']}").json()["workerId"]
    _assert_lease_lost(_result(api, a_task, worker=holder))
    _assert_lease_lost(_result(api, a_task, worker=holder, status="IN_PROGRESS", extendLease=True))
    _assert_lease_lost(_result(api, b_task, worker=holder, token="not-the-token"))
    _assert_still_with_b(api, run_id)
    assert _result(api, b_task, worker=holder, token=b_task["leaseToken"]).status_code == 200
    assert wait_status(api, run_id)["status"] == "COMPLETED"


def test_the_lease_token_is_not_readable_from_any_other_route(api):
    run_id, _, b_task = _handed_over(api)
    token = b_task["leaseToken"]
    reads = [
        api.get(f"/api/tasks/{b_task['taskId']}"),
        api.get(f"/api/workflow/{run_id}"),
        api.get(f"/api/workflow/{run_id}", params={"includeTasks": "true"}),
        api.get("/api/workflow/search", params={"query": "workflowType = long"}),
        api.get("/api/tasks/queue/polldata", params={"taskType": "slow"}),
    ]
    for response in reads:
        assert response.status_code == 200, response.text
        assert token not in response.text
        assert "leaseToken" not in response.text


def _postponed(api, seconds=1):
    """worker-a claims the task and postpones it: ``(run_id, task)``."""
    register(api, ONE, LONG_LEASE)
    run_id = start(api, "long")
    [task] = poll(api, "slow", worker="worker-a")
    held = _progress(api, task, worker="worker-a", callbackAfterSeconds=seconds)
    assert held.status_code == 200, held.text
    return run_id, task


def test_a_late_result_is_accepted_while_nobody_else_holds_the_lease(api):
    # Conductor takes results for a postponed task: waiting on its queue, nobody holds it,
    # so the result is not stale against anyone.
    run_id, task = _postponed(api)
    time.sleep(1.5)  # the delay is over; the task waits to be claimed again
    assert api.get("/api/tasks/queue/sizes", params={"taskType": "slow"}).json() == {"slow": 1}
    late = _result(api, task, worker="worker-a", token=task["leaseToken"], output={"late": 1})
    assert late.status_code == 200, late.text
    assert task_of(wait_status(api, run_id), "slow")["outputData"] == {"late": 1}
    assert poll(api, "slow", worker="worker-b", timeout_ms=200) == []


def test_a_late_result_without_the_token_is_accepted_while_nobody_holds_the_lease(api):
    run_id, task = _postponed(api, seconds=30)
    assert _result(api, task, worker="worker-a", output={"late": 2}).status_code == 200
    assert task_of(wait_status(api, run_id), "slow")["outputData"] == {"late": 2}


def test_heartbeats_carry_the_token_and_a_stale_one_keeps_nothing(api):
    register(api, ONE, [{"name": "slow", "retryCount": 0, "responseTimeoutSeconds": 2}])
    run_id = start(api, "long")
    a_task, b_task = _postponed_then_claimed(api, api, api)
    stale = _result(api, a_task, token=a_task["leaseToken"], status="IN_PROGRESS", extendLease=True)
    _assert_lease_lost(stale)
    for _ in range(3):
        time.sleep(0.8)
        beat = _result(
            api, b_task, token=b_task["leaseToken"], status="IN_PROGRESS", extendLease=True
        )
        assert beat.status_code == 200, beat.text
    # B's heartbeats kept it past its 2 s response timeout.
    assert poll(api, "slow", worker="worker-c", timeout_ms=300) == []
    _assert_still_with_b(api, run_id)


def test_update_batch_refuses_a_stale_item_and_records_the_holders(api):
    run_id, a_task, b_task = _handed_over(api)

    def item(task, worker, token=None):
        body = {
            "taskId": task["taskId"],
            "workflowInstanceId": task["workflowInstanceId"],
            "status": "COMPLETED",
            "workerId": worker,
            "outputData": {"by": worker},
        }
        if token is not None:
            body["leaseToken"] = token
        return body

    answer = api.post(
        "/api/tasks/update-batch",
        json=[item(a_task, "worker-b", a_task["leaseToken"]), item(a_task, "worker-a")],
    )
    assert answer.status_code == 200, answer.text
    assert [entry["error"]["code"] for entry in answer.json()] == ["E_LEASE_LOST"] * 2
    _assert_still_with_b(api, run_id)
    answer = api.post(
        "/api/tasks/update-batch", json=[item(b_task, "worker-b", b_task["leaseToken"])]
    )
    assert answer.status_code == 200, answer.text
    assert "error" not in answer.json()[0]
    assert task_of(wait_status(api, run_id), "slow")["outputData"] == {"by": "worker-b"}


def test_with_keys_on_a_worker_id_is_not_enough_without_the_key_that_claimed(store_choice):
    with store_choice.server() as open_server, httpx.Client(base_url=open_server.url) as api:
        register(api, ONE, LONG_LEASE)
        made = {
            name: api.post("/api/keys", json={"keyId": name, "roles": [role]}).json()
            for name, role in (("key-a", "worker"), ("key-b", "worker"), ("ops", "admin"))
        }

    def client(name):
        secret = f"{made[name]['keyId']}:{made[name]['keySecret']}"
        return httpx.Client(base_url=locked.url, headers={"authorization": f"Bearer {secret}"})

    with store_choice.server(auth=True, sweep_interval_s=0.2) as locked:
        with client("key-a") as a, client("key-b") as b, client("ops") as ops:
            run_id = start(ops, "long")
            a_task, b_task = _postponed_then_claimed(a, a, b)
            holder = ops.get(f"/api/tasks/{a_task['taskId']}").json()["workerId"]
            assert holder == "worker-b"
            # A Conductor SDK worker sends no token: its key and worker id must both match.
            for worker in (None, "worker-a", holder):
                _assert_lease_lost(_result(a, a_task, worker=worker))
            _assert_still_with_b(ops, run_id)
            assert _result(b, b_task, worker=holder, output={"by": "b"}).status_code == 200
            assert task_of(wait_status(ops, run_id), "slow")["outputData"] == {"by": "b"}
