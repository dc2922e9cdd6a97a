"""Correlation ids as Conductor has them: null unless given; tracing follows the trace id."""

from __future__ import annotations

import sqlite3

import httpx
import psycopg

from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

CHILD = {
    "name": "corr_child",
    "tasks": [
        {
            "name": "echo",
            "taskReferenceName": "echo",
            "type": "INLINE",
            "inputParameters": {
                "evaluatorType": "javascript",
                "expression": "$.seen",
                "seen": "${workflow.correlationId}",
            },
        }
    ],
}
PARENT = {
    "name": "corr_parent",
    "tasks": [
        {"name": "step", "taskReferenceName": "step", "inputParameters": {"c": "${workflow.correlationId}"}},
        {
            "name": "corr_child",
            "taskReferenceName": "child",
            "type": "SUB_WORKFLOW",
            "subWorkflowParam": {"name": "corr_child"},
        },
        {"name": "announce", "taskReferenceName": "announce", "type": "EVENT", "sink": "conductor:corr.done"},
    ],
}  # fmt: skip


def _finish(api, run_id: str) -> dict:
    (task,) = poll(api, "step")
    assert task["correlationId"] is None
    complete(api, task, {})
    return wait_status(api, run_id)


def test_a_run_started_without_a_correlation_id_has_none_and_is_traced_by_its_id(api):
    register(api, CHILD)
    register(api, PARENT)
    run_id = start(api, "corr_parent")
    body = _finish(api, run_id)
    assert body["status"] == "COMPLETED", body
    assert body["correlationId"] is None
    assert task_of(body, "step")["inputData"] == {"c": None}
    child_id = task_of(body, "child")["subWorkflowId"]
    child = run(api, child_id)
    assert child["correlationId"] is None  # the parent's, which is none
    assert task_of(child, "echo")["outputData"] == {"result": None}
    status = api.get(f"/api/workflow/{run_id}/status").json()
    assert status["correlationId"] is None
    found = api.get("/api/workflow/search", params={"query": "workflowType = 'corr_parent'"})
    assert [hit["correlationId"] for hit in found.json()["results"]] == [None]

    for asked in (run_id, child_id):  # the run's trace, by its own id or its child's
        trace = api.get(f"/api/trace/{asked}")
        assert trace.status_code == 200, trace.text
        labels = {(node["kind"], node["label"]) for node in trace.json()["nodes"]}
        assert ("workflow", "corr_parent v1") in labels
        assert ("workflow", "corr_child v1") in labels
        assert ("event", "corr.done") in labels  # the EVENT task's event carries the trace id
    events = api.get("/api/events", params={"correlationId": run_id}).json()
    assert [event["topic"] for event in events] == ["corr.done"]


def test_a_given_correlation_id_is_shown_and_carried_to_children(api):
    register(api, CHILD)
    register(api, PARENT)
    run_id = start(api, "corr_parent", correlationId="order-9")
    body = _finish_given(api, run_id)
    assert body["correlationId"] == "order-9"
    child = run(api, task_of(body, "child")["subWorkflowId"])
    assert child["correlationId"] == "order-9"
    assert task_of(child, "echo")["outputData"] == {"result": "order-9"}
    assert api.get("/api/trace/order-9").status_code == 200
    assert api.get("/api/trace/no-such-thing").status_code == 404


def _finish_given(api, run_id: str) -> dict:
    (task,) = poll(api, "step")
    assert task["correlationId"] == "order-9"
    complete(api, task, {})
    return wait_status(api, run_id)


def test_a_run_without_a_correlation_id_is_not_found_by_one(api):
    register(api, CHILD)
    run_id = start(api, "corr_child")
    wait_status(api, run_id)
    found = api.get(
        f"/api/workflow/corr_child/correlated/{run_id}", params={"includeClosed": "true"}
    )
    assert found.status_code == 200
    assert found.json() == []


def _correlated(api, run_id: str) -> dict[str, list[str]]:
    """The runs each correlation search finds for ``run_id`` taken as a correlation id."""
    query = {"query": f"correlationId = '{run_id}'"}
    runs = api.get("/api/workflow/search", params=query).json()["results"]
    text = api.get("/api/workflow/search", params={"freeText": run_id}).json()["results"]
    tasks = api.get("/api/tasks/search", params=query).json()["results"]
    lookup = api.get(
        f"/api/workflow/corr_child/correlated/{run_id}", params={"includeClosed": "true"}
    ).json()
    return {
        "search": [hit["workflowId"] for hit in runs],
        "free_text": [hit["workflowId"] for hit in text],
        "tasks": sorted({hit["workflowId"] for hit in tasks}),
        "lookup": [hit["workflowId"] for hit in lookup],
    }


def test_correlation_searches_find_only_runs_given_that_id_not_a_trace_id(api):
    register(api, CHILD)
    traced = start(api, "corr_child")
    assert wait_status(api, traced)["status"] == "COMPLETED"
    # Another run is given, as its correlation id, the first run's id (its trace id).
    given = start(api, "corr_child", correlationId=traced)
    assert wait_status(api, given)["status"] == "COMPLETED"
    assert _correlated(api, traced) == {
        "search": [given],
        "free_text": [given],
        "tasks": [given],
        "lookup": [given],
    }
    # Tracing still follows the trace id: both runs carry that key.
    trace = api.get(f"/api/trace/{traced}").json()
    assert [node["kind"] for node in trace["nodes"]].count("workflow") == 2


def _as_written_before_trace_ids(store_choice) -> None:
    """Put the runs' rows back as versions before migration 13 wrote them: the trace id in
    ``correlation_id`` (for runs given none too) and no ``trace_id`` column."""
    changes = [
        "UPDATE runs SET correlation_id = trace_id",
        "DROP INDEX runs_trace",
        "ALTER TABLE runs DROP COLUMN trace_id",
        "DELETE FROM schema_migrations WHERE version = 13",
    ]
    if store_choice.backend == "postgres":
        with psycopg.connect(store_choice.postgres_url) as conn:
            conn.execute(f"SET search_path TO {store_choice.schema}")
            for change in changes:
                conn.execute(change)  # type: ignore[arg-type]
        return
    with sqlite3.connect(store_choice.sqlite_path) as conn:
        for change in changes:
            conn.execute(change)
    conn.close()


def test_runs_written_before_trace_ids_had_a_column_are_converted(store_choice):
    with (
        store_choice.server(sweep_interval_s=0.2) as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        register(api, CHILD)
        traced = start(api, "corr_child")
        given = start(api, "corr_child", correlationId="order-7")
        for run_id in (traced, given):
            assert wait_status(api, run_id)["status"] == "COMPLETED"
    _as_written_before_trace_ids(store_choice)
    assert store_choice.query(f"SELECT correlation_id FROM runs WHERE run_id = '{traced}'") == [
        (traced,)
    ]

    with (
        store_choice.server(sweep_interval_s=0.2) as server,
        httpx.Client(base_url=server.url, timeout=30) as api,
    ):
        assert _correlated(api, traced) == {
            "search": [],
            "free_text": [],
            "tasks": [],
            "lookup": [],
        }
        assert _correlated(api, "order-7")["search"] == [given]
        assert run(api, traced)["correlationId"] is None
        for key in (traced, "order-7"):
            trace = api.get(f"/api/trace/{key}")
            assert trace.status_code == 200, trace.text
    rows = store_choice.query("SELECT run_id, correlation_id, trace_id FROM runs")
    assert sorted(rows) == sorted([(traced, None, traced), (given, "order-7", "order-7")])
