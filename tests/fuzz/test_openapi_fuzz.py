"""Fuzzing the REST API from Podium's own OpenAPI document, then checking the store is intact.

Every operation gets a bounded number of generated requests (derandomized, so a run is
repeatable): none may answer 5xx, every answer's status and media type must be documented for
its operation (the metrics' text and the UI's page too), and its body must match its schema.
Afterwards every run must still be readable and every queue row, timer and task index entry
must belong to a run that exists, with queue rows only for tasks still waiting for a worker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from podium.testing import PodiumTestServer
from tests.behaviour.helpers import register, start

EXAMPLES = int(os.environ.get("PODIUM_FUZZ_EXAMPLES", "20"))
"""Requests per operation and mode (valid, then invalid data): under a minute per store."""


@pytest.fixture
def fuzzed_server(store_choice) -> Iterator[PodiumTestServer]:
    # Short polls and waits: generated timeouts must not make the fuzzer sit idle.
    with store_choice.server(max_poll_timeout_ms=50, sweep_interval_s=0.2) as server:
        yield server


def _seed(api: httpx.Client) -> list[str]:
    """Definitions, runs in several states and queued tasks, for the fuzzer to trip over."""
    flow = {
        "name": "fuzzed",
        "tasks": [
            {"name": "first", "taskReferenceName": "first", "type": "SIMPLE"},
            {
                "name": "pause",
                "taskReferenceName": "pause",
                "type": "WAIT",
                "inputParameters": {"duration": "1 hour"},
            },
        ],
    }
    register(api, flow, [{"name": "first", "retryCount": 1}])
    runs = [start(api, "fuzzed", {"n": n}, correlationId=f"c{n}") for n in range(3)]
    polled = api.get("/api/tasks/poll/batch/first", params={"count": 1, "timeout": 10}).json()
    for task in polled:
        api.post("/api/tasks", json={"taskId": task["taskId"], "status": "COMPLETED"})
    return runs


# The time grows with the API (every operation gets its examples): beyond the suite's default.
@pytest.mark.timeout(600)
def test_no_operation_answers_5xx_and_the_store_stays_intact(fuzzed_server, store_choice):
    with httpx.Client(base_url=fuzzed_server.url, timeout=30) as api:
        _seed(api)
        document = api.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    began = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation, mode in [
        (op, mode)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for op in operations
    ]:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def exercise(case: Any) -> None:
            case.call_and_validate(
                base_url=fuzzed_server.url,
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
                timeout=30,
            )

        try:
            exercise()
        except Unsatisfiable:
            continue  # no invalid request can be made for it (no parameters, a free-form body)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups what it found
            failures.append(f"{mode.value} {operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert time.monotonic() - began < 240
    _check_store(fuzzed_server, store_choice)


def _check_store(server: PodiumTestServer, store_choice) -> None:
    runs = {row[0] for row in store_choice.query("SELECT run_id FROM runs")}
    with httpx.Client(base_url=server.url, timeout=30) as api:
        for run_id in runs:
            response = api.get(f"/api/workflow/{run_id}")
            assert response.status_code == 200, (run_id, response.text)
            body = response.json()
            waiting = {
                task["taskId"]
                for task in body["tasks"]
                if task["status"] in ("SCHEDULED", "IN_PROGRESS")
            }
            queued = store_choice.query(f"SELECT task_id FROM queue WHERE run_id = '{run_id}'")
            for (task_id,) in queued:
                assert task_id in waiting, f"queue row {task_id} of {run_id} is for no active task"
    for table in ("queue", "timers", "tasks"):
        orphans = store_choice.query(
            f"SELECT run_id FROM {table} WHERE run_id NOT IN (SELECT run_id FROM runs)"
        )
        assert orphans == [], f"{table} rows of runs that do not exist: {orphans[:5]}"
