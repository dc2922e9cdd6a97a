"""The worker API: long polls, results, leases and their fencing."""

from __future__ import annotations

import threading
import time

from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

ONE = {"name": "one", "version": 1, "tasks": [{"name": "work", "taskReferenceName": "work"}]}


def test_long_poll_is_woken_when_a_task_is_queued(api):
    register(api, ONE, [{"name": "work", "retryCount": 0}])
    got: list = []
    waited: list[float] = []

    def worker():
        began = time.monotonic()
        got.extend(poll(api, "work", timeout_ms=10_000))
        waited.append(time.monotonic() - began)

    thread = threading.Thread(target=worker)
    thread.start()
    time.sleep(0.3)
    run_id = start(api, "one")
    thread.join(timeout=15)
    assert [t["workflowInstanceId"] for t in got] == [run_id]
    assert waited[0] < 5  # woken by the start, far before the 10 s poll timeout


def test_an_empty_poll_returns_after_its_timeout(api):
    began = time.monotonic()
    assert poll(api, "nothing", timeout_ms=200) == []
    assert time.monotonic() - began >= 0.15
    assert api.get("/api/tasks/poll/nothing").status_code == 204


def test_batch_poll_hands_each_task_to_one_worker(api):
    register(api, ONE, [{"name": "work", "retryCount": 0}])
    ids = {start(api, "one") for _ in range(5)}
    first = poll(api, "work", worker="a", count=3)
    second = poll(api, "work", worker="b", count=3)
    assert len(first) == 3 and len(second) == 2
    assert {t["workflowInstanceId"] for t in first + second} == ids
    assert all(t["status"] == "IN_PROGRESS" and t["pollCount"] == 1 for t in first)
    assert poll(api, "work", worker="c", timeout_ms=100) == []
    assert api.get("/api/tasks/queue/sizes", params={"taskType": "work"}).json() == {"work": 0}


def test_update_v2_returns_the_next_task_for_the_same_worker(api):
    register(api, ONE, [{"name": "work", "retryCount": 0}])
    a, b = start(api, "one"), start(api, "one")
    [task] = poll(api, "work", worker="w1")
    body = {
        "taskId": task["taskId"],
        "status": "COMPLETED",
        "workerId": "w1",
        "outputData": {"ok": 1},
    }
    response = api.post("/api/tasks/update-v2", json=body)
    assert response.status_code == 200
    following = response.json()
    assert following["workflowInstanceId"] in {a, b} - {task["workflowInstanceId"]}
    assert following["workerId"] == "w1"
    last = api.post("/api/tasks/update-v2", json={**body, "taskId": following["taskId"]})
    assert last.status_code == 204
    assert wait_status(api, a)["status"] == wait_status(api, b)["status"] == "COMPLETED"


def test_results_for_unknown_or_finished_tasks_are_refused(api):
    register(api, ONE, [{"name": "work", "retryCount": 0}])
    run_id = start(api, "one")
    unknown = api.post("/api/tasks", json={"taskId": "no-such-task", "status": "COMPLETED"})
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "taskId"
    bad_status = api.post("/api/tasks", json={"taskId": "x", "status": "DONE"})
    assert bad_status.status_code == 400
    assert bad_status.json()["field"] == "status"
    [task] = poll(api, "work")
    assert complete(api, task, {"v": 1}).status_code == 200
    again = complete(api, task, {"v": 2})
    assert again.status_code == 409
    assert run(api, run_id)["output"] == {"v": 1}


def test_an_expired_lease_times_the_attempt_out_and_the_old_worker_is_refused(api):
    register(
        api,
        ONE,
        [{"name": "work", "retryCount": 1, "retryDelaySeconds": 0, "responseTimeoutSeconds": 1}],
    )
    run_id = start(api, "one")
    [slow] = poll(api, "work", worker="slow")
    time.sleep(1.4)  # the lease expires; the sweeper times the attempt out and retries it
    [fast] = poll(api, "work", worker="fast", timeout_ms=3000)
    assert fast["taskId"] != slow["taskId"]
    assert fast["retriedTaskId"] == slow["taskId"]
    assert fast["pollCount"] == 1
    refused = complete(api, slow, {"by": "slow"}, worker="slow")
    assert refused.status_code == 409
    assert refused.json()["code"] == "E_TASK_FINISHED"
    assert complete(api, fast, {"by": "fast"}, worker="fast").status_code == 200
    body = wait_status(api, run_id)
    assert body["output"] == {"by": "fast"}
    assert [t["status"] for t in body["tasks"]] == ["TIMED_OUT", "COMPLETED"]
    assert body["tasks"][1]["workerId"] == "fast"


def test_in_progress_extends_the_lease_without_requeueing(api):
    register(api, ONE, [{"name": "work", "retryCount": 0, "responseTimeoutSeconds": 1}])
    run_id = start(api, "one")
    [task] = poll(api, "work", worker="w1")
    for _ in range(3):
        time.sleep(0.5)
        beat = api.post(
            "/api/tasks",
            json={
                "taskId": task["taskId"],
                "status": "IN_PROGRESS",
                "workerId": "w1",
                "callbackAfterSeconds": 1,
                "outputData": {"progress": 1},
                "logs": [{"log": "halfway", "createdTime": 1}],
            },
        )
        assert beat.status_code == 200
    assert poll(api, "work", worker="other", timeout_ms=200) == []
    live = task_of(run(api, run_id), "work")
    assert live["status"] == "IN_PROGRESS"
    assert live["outputData"] == {"progress": 1}
    assert complete(api, task, {"done": True}).status_code == 200
    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert body["tasks"][0]["logs"][0]["log"] == "halfway"


def test_retries_follow_the_task_definition(api):
    register(api, ONE, [{"name": "work", "retryCount": 2, "retryDelaySeconds": 0}])
    run_id = start(api, "one")
    for attempt in range(3):
        [task] = poll(api, "work")
        assert task["retryCount"] == attempt
        complete(api, task, status="FAILED", reason=f"flaky {attempt}")
    body = wait_status(api, run_id)
    assert body["status"] == "FAILED"
    assert "flaky 2" in body["reasonForIncompletion"]
    assert [t["status"] for t in body["tasks"]] == ["FAILED"] * 3


def test_a_retry_delay_holds_the_task_back(api):
    register(api, ONE, [{"name": "work", "retryCount": 1, "retryDelaySeconds": 1}])
    start(api, "one")
    [task] = poll(api, "work")
    complete(api, task, status="FAILED", reason="later")
    assert poll(api, "work", timeout_ms=300) == []
    [again] = poll(api, "work", timeout_ms=3000)
    assert again["retryCount"] == 1


def test_terminal_error_is_not_retried(api):
    register(api, ONE, [{"name": "work", "retryCount": 3, "retryDelaySeconds": 0}])
    run_id = start(api, "one")
    [task] = poll(api, "work")
    complete(api, task, status="FAILED_WITH_TERMINAL_ERROR", reason="card declined")
    body = wait_status(api, run_id)
    assert body["status"] == "FAILED"
    assert len(body["tasks"]) == 1
    assert "card declined" in body["reasonForIncompletion"]


def test_result_routes_answer_bad_input_like_every_other_route(api, tmp_path):
    malformed = api.post(
        "/api/tasks/update-v2", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["field"] == "body"
    missing = api.post("/api/tasks", json={"status": "COMPLETED"})
    assert missing.status_code == 400
    assert missing.json()["field"] == "taskId"
    from podium.testing import PodiumTestServer

    with PodiumTestServer(tmp_path / "small.db", max_payload_bytes=200) as small:
        import httpx

        big = httpx.post(
            f"{small.url}/api/tasks",
            json={"taskId": "t", "status": "COMPLETED", "outputData": {"x": "y" * 500}},
        )
        assert big.status_code == 413
        assert big.json()["code"] == "E_PAYLOAD_TOO_LARGE"


def test_a_bug_in_podium_is_a_500_that_says_so_without_a_traceback(api, server):
    orchestrator = server.app.state.orchestrator

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    orchestrator.record = broken  # the fast path
    orchestrator.find_task = broken  # a route behind FastAPI's routing
    for response in (
        api.post("/api/tasks", json={"taskId": "t", "status": "COMPLETED"}),
        api.get("/api/tasks/t"),
    ):
        assert response.status_code == 500
        body = response.json()
        assert (body["code"], body["service"]) == ("E_INTERNAL", "podium")
        assert "RuntimeError" in body["message"]
        assert "secret internals" not in response.text
