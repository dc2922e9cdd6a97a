"""Reading Conductor's search forms: ``sort`` and ``query`` into the store's filters, and the
only columns a sort can put into SQL."""

from __future__ import annotations

import pytest

from podium.auth.rules import Permission, required_permission
from podium.errors import ValidationError
from podium.server.search import RUN_SORT_FIELDS, parse_search, read_sort
from podium.server.task_search import parse_task_search
from podium.store.base import RunOrder, RunQuery, run_order_sql


def _runs(**given):
    params = {
        "start": 0,
        "size": 10,
        "query": None,
        "free_text": None,
        "name": None,
        "status": None,
        "correlation_id": None,
        "started_after": None,
        "started_before": None,
    }
    return parse_search(**{**params, **given})


def test_sort_reads_several_fields_and_directions():
    assert read_sort("startTime:DESC, workflowId , status:asc", RUN_SORT_FIELDS) == [
        ("startTime", True),
        ("workflowId", False),
        ("status", False),
    ]
    assert read_sort(None, RUN_SORT_FIELDS) == []
    assert read_sort(" , ", RUN_SORT_FIELDS) == []


@pytest.mark.parametrize(
    ("sort", "named"),
    [("priority:ASC", "priority"), ("startTime:UP", "UP"), ("start time", "start time")],
)
def test_a_sort_that_cannot_be_served_is_refused_by_name(sort, named):
    with pytest.raises(ValidationError) as refused:
        read_sort(sort, RUN_SORT_FIELDS)
    assert refused.value.field == "sort"
    assert named in str(refused.value)


def test_run_query_takes_ids_names_and_order():
    query = _runs(
        query="workflowId IN (r1, 'r2') AND workflowType = a AND workflowType IN (a, b)",
        sort="endTime:DESC,workflowId",
    )
    assert query.run_ids == ("r1", "r2")
    assert query.names == ("a", "b")
    assert query.order == ((RunOrder.ENDED, True), (RunOrder.RUN_ID, False))
    assert run_order_sql(query) == "ended_at DESC NULLS LAST, run_id ASC NULLS LAST, run_id"


def test_the_default_order_is_newest_first():
    assert run_order_sql(RunQuery()) == "created_at DESC NULLS LAST, run_id"


def test_only_run_order_columns_reach_the_sql():
    forged = RunQuery(order=(("state; DROP TABLE runs", False),))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        run_order_sql(forged)


def test_task_search_splits_run_clauses_from_task_clauses():
    search = parse_task_search(
        start=0,
        size=5,
        query="workflowId = r1 AND workflowType IN (a) AND taskType = t AND status = completed",
        free_text="*",
        sort="seq:DESC",
    )
    assert (search.runs.run_ids, search.runs.names) == (("r1",), ("a",))
    assert search.statuses == frozenset({"COMPLETED"})
    assert search.free_text is None and search.order == (("seq", True),)
    task = {"status": "COMPLETED", "taskType": "t"}
    assert all(test(task) for test in search.tests)
    assert not all(test({**task, "taskType": "u"}) for test in search.tests)


def test_routes_that_look_like_a_signal_by_reference_name_are_not_a_workers():
    assert required_permission("POST", "/api/tasks/run-1/COMPLETED/signal") == Permission.WORK
    assert required_permission("POST", "/api/tasks/run-1/COMPLETED/signal/sync") == Permission.WORK
    assert required_permission("POST", "/api/tasks/queue/requeue/PAY") == Permission.OPERATE
    assert required_permission("POST", "/api/tasks/run-1/pay/COMPLETED") == Permission.WORK
    assert required_permission("POST", "/api/metadata/workflow/validate") == Permission.READ
    assert required_permission("POST", "/api/metadata/workflow") == Permission.ADMIN
