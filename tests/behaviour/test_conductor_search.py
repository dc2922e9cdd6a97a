"""Conductor's searches: runs by ``query`` with ``sort`` and ``workflowId``, tasks
(``/api/tasks/search``), and runs by their tasks (``/api/workflow/search-by-tasks``)."""

from __future__ import annotations

import time

import orjson

from tests.behaviour.helpers import complete, poll, register, start

TWO = {
    "name": "two",
    "version": 1,
    "tasks": [
        {"name": "a", "taskReferenceName": "a", "inputParameters": {"n": "${workflow.input.n}"}},
        {"name": "b", "taskReferenceName": "b"},
    ],
}
DEFS = [{"name": name, "retryCount": 0} for name in ("a", "b")]


def _runs(api, n, name="two"):
    """``n`` runs started a few milliseconds apart, so that their start times differ."""
    ids = []
    for i in range(n):
        ids.append(start(api, name, {"n": i}, correlationId=f"c-{i}"))
        time.sleep(0.01)
    return ids


def _search(api, path, **params):
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(api, **params):
    found = _search(api, "/api/workflow/search", **params)
    return [hit["workflowId"] for hit in found["results"]]


def _refused(api, path, field, *words, **params):
    response = api.get(path, params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["field"] == field, body
    for word in words:
        assert word in body["message"], body
    return body


def test_run_search_sorts_by_the_fields_asked(api):
    register(api, TWO, DEFS)
    register(api, {**TWO, "name": "alpha"})
    first, second, third = _runs(api, 3)
    [other] = _runs(api, 1, name="alpha")
    assert _ids(api) == [other, third, second, first]  # newest first by default
    assert _ids(api, sort="startTime:ASC") == [first, second, third, other]
    assert _ids(api, sort="startTime") == [first, second, third, other]  # ASC when not said
    by_name = _ids(api, sort="workflowType:ASC,startTime:DESC")
    assert by_name == [other, third, second, first]
    assert _ids(api, sort="workflowType:DESC , startTime:ASC") == [first, second, third, other]
    paged = _ids(api, sort="startTime:ASC", start=1, size=2)
    assert paged == [second, third]


def test_run_search_refuses_a_sort_it_cannot_serve(api):
    register(api, TWO, DEFS)
    _runs(api, 1)
    _refused(api, "/api/workflow/search", "sort", "priority", sort="priority:ASC")
    _refused(api, "/api/workflow/search", "sort", "UP", sort="startTime:UP")
    _refused(api, "/api/workflow/search-v2", "sort", "bogus", sort="startTime:ASC,bogus")


def test_run_search_by_workflow_id(api):
    register(api, TWO, DEFS)
    first, second, third = _runs(api, 3)
    assert _ids(api, query=f"workflowId = '{second}'") == [second]
    both = _ids(api, query=f"workflowId IN ({first}, {third})", sort="startTime:ASC")
    assert both == [first, third]
    assert _ids(api, query=f"workflowId IN ({first},{third}) AND status IN (COMPLETED)") == []
    assert _ids(api, query="workflowId = 'no-such-run'") == []
    v2 = _search(api, "/api/workflow/search-v2", query=f"workflowId={first}")
    assert [hit["input"] for hit in v2["results"]] == [{"n": 0}]
    _refused(api, "/api/workflow/search", "query", "workflowId", query=f"workflowId > {first}")
    _refused(api, "/api/workflow/search", "query", "startTime", query="startTime > soon")


def _two_runs_one_advanced(api):
    register(api, TWO, DEFS)
    first, second = _runs(api, 2)
    [task] = poll(api, "a")  # the older run's "a" is claimed first
    assert task["workflowInstanceId"] == first
    assert complete(api, task, {"v": 1}).status_code == 200
    return first, second, task


def test_task_search_finds_tasks_by_type_status_and_run(api):
    first, second, done = _two_runs_one_advanced(api)
    everything = _search(api, "/api/tasks/search")
    assert everything["totalHits"] == 3  # a and b of the first run, a of the second
    by_type = _search(api, "/api/tasks/search", query="taskType = a", sort="workflowId:ASC")
    assert by_type["totalHits"] == 2
    assert [hit["workflowId"] for hit in by_type["results"]] == sorted([first, second])
    completed = _search(api, "/api/tasks/search", query="taskType IN (a) AND status = COMPLETED")
    [hit] = completed["results"]
    assert (hit["taskId"], hit["workflowId"], hit["workflowType"]) == (done["taskId"], first, "two")
    assert hit["status"] == "COMPLETED" and hit["taskDefName"] == "a"
    assert orjson.loads(hit["output"]) == {"v": 1} and orjson.loads(hit["input"]) == {"n": 0}
    assert hit["executionTime"] >= 0 and hit["endTime"] >= hit["startTime"] > 0
    of_run = _search(api, "/api/tasks/search", query=f"workflowId = '{first}'", sort="seq:ASC")
    assert [h["taskType"] for h in of_run["results"]] == ["a", "b"]
    by_id = _search(api, "/api/tasks/search", freeText=done["taskId"])
    assert [h["taskId"] for h in by_id["results"]] == [done["taskId"]]
    by_correlation = _search(api, "/api/tasks/search", query="correlationId = 'c-1'")
    assert [h["workflowId"] for h in by_correlation["results"]] == [second]


def test_task_search_sorts_pages_and_answers_whole_tasks_in_v2(api):
    first, second, done = _two_runs_one_advanced(api)
    newest = _search(api, "/api/tasks/search", sort="scheduledTime:DESC")["results"]
    assert [h["taskType"] for h in newest] == ["b", "a", "a"]
    oldest = _search(api, "/api/tasks/search", sort="scheduledTime:ASC", start=1, size=1)
    assert oldest["totalHits"] == 3
    assert [h["workflowId"] for h in oldest["results"]] == [second]
    # endTime: those not ended come last, whichever the direction
    ended = _search(api, "/api/tasks/search", sort="endTime:DESC")["results"]
    assert ended[0]["taskId"] == done["taskId"]
    v2 = _search(api, "/api/tasks/search-v2", query="status IN (COMPLETED)")
    [task] = v2["results"]
    assert task["outputData"] == {"v": 1} and task["inputData"] == {"n": 0}
    assert task["referenceTaskName"] == "a" and task["workflowInstanceId"] == first


def test_task_search_refusals_name_the_field(api):
    _two_runs_one_advanced(api)
    for path in ("/api/tasks/search", "/api/tasks/search-v2", "/api/workflow/search-by-tasks"):
        _refused(api, path, "sort", "priority", sort="priority:DESC")
        _refused(api, path, "query", "ownerApp", query="ownerApp = x")
        _refused(api, path, "query", "DONE", query="status = DONE")
        _refused(api, path, "size", size=5000)
        _refused(api, path, "start", start=-1)


def test_search_by_tasks_answers_the_runs_of_matching_tasks(api):
    first, second, _ = _two_runs_one_advanced(api)
    open_a = _search(
        api, "/api/workflow/search-by-tasks", query="taskType = a AND status = SCHEDULED"
    )
    assert [hit["workflowId"] for hit in open_a["results"]] == [second]
    assert open_a["results"][0]["workflowType"] == "two"
    any_a = _search(api, "/api/workflow/search-by-tasks", query="taskType = a")
    assert any_a["totalHits"] == 2  # each run once, though it has several tasks
    assert {hit["workflowId"] for hit in any_a["results"]} == {first, second}
    v2 = _search(api, "/api/workflow/search-by-tasks-v2", query="taskType = b")
    [run_body] = v2["results"]
    assert run_body["workflowId"] == first and run_body["input"] == {"n": 0}
    assert "tasks" not in run_body
    none = _search(api, "/api/workflow/search-by-tasks", query="taskType = zzz")
    assert none == {"totalHits": 0, "results": []}
