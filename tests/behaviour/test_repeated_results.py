"""A result sent again after its first attempt was recorded (the answer was lost on the way
back) is answered as accepted and changes nothing; a different result is still refused."""

from __future__ import annotations

from tests.behaviour.helpers import poll, register, run, start, task_of, wait_status

TWO = {
    "name": "two",
    "version": 1,
    "tasks": [
        {"name": "work", "taskReferenceName": "first"},
        {"name": "work", "taskReferenceName": "second"},
    ],
}
DEFS = [{"name": "work", "retryCount": 0}]


def _v2(api, task, output, worker="w1", route="/api/tasks/update-v2"):
    body = {
        "taskId": task["taskId"],
        "workflowInstanceId": task["workflowInstanceId"],
        "status": "COMPLETED",
        "workerId": worker,
        "outputData": output,
        "leaseToken": task.get("leaseToken"),
    }
    return api.post(route, json=body)


def test_the_same_result_again_is_accepted_once_and_applied_once(api):
    register(api, TWO, DEFS)
    run_id = start(api, "two")
    [task] = poll(api, "work")
    first = _v2(api, task, {"n": 1})
    assert first.status_code == 200, first.text
    following = first.json()
    assert following["referenceTaskName"] == "second"
    again = _v2(api, task, {"n": 1})
    # Accepted, not 409; its next task was handed out with the first answer already.
    assert again.status_code == 204, again.text
    body = run(api, run_id)
    assert [t["referenceTaskName"] for t in body["tasks"]] == ["first", "second"]
    assert task_of(body, "first")["outputData"] == {"n": 1}
    # The plain route too, whose answer is the task's id.
    assert _v2(api, following, {"n": 2}, route="/api/tasks").status_code == 200
    repeated = _v2(api, following, {"n": 2}, route="/api/tasks")
    assert repeated.status_code == 200, repeated.text
    assert repeated.text == following["taskId"]
    assert wait_status(api, run_id)["status"] == "COMPLETED"


def test_a_different_result_or_another_worker_is_still_refused(api):
    register(api, TWO, DEFS)
    run_id = start(api, "two")
    [task] = poll(api, "work")
    assert _v2(api, task, {"n": 1}).status_code == 200
    other_output = _v2(api, task, {"n": 99})
    assert other_output.status_code == 409
    assert other_output.json()["code"] == "E_TASK_FINISHED"
    other_worker = _v2(api, task, {"n": 1}, worker="w2")
    assert other_worker.status_code == 409
    assert task_of(run(api, run_id), "first")["outputData"] == {"n": 1}
