"""The official Conductor Python SDK's scheduler client, unmodified, against a Podium server:
a schedule is saved, read, listed, paused, resumed and deleted, and its executions and the
next times of a cron are read back, each call as the SDK makes it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models.save_schedule_request import SaveScheduleRequest
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.models.workflow_def import WorkflowDef
from conductor.client.http.models.workflow_task import WorkflowTask
from conductor.client.http.rest import ApiException
from conductor.client.orkes_clients import OrkesClients

from podium.testing import PodiumTestServer

pytestmark = [
    pytest.mark.timeout(60),
    # The SDK's own models call their deprecated properties when serialising.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture
def clients(tmp_path, monkeypatch) -> Iterator[OrkesClients]:
    monkeypatch.delenv("CONDUCTOR_AUTH_KEY", raising=False)
    monkeypatch.delenv("CONDUCTOR_AUTH_SECRET", raising=False)
    with PodiumTestServer(tmp_path / "podium.db", sweep_interval_s=0.2) as server:
        yield OrkesClients(Configuration(server_api_url=f"{server.url}/api", debug=False))


def _register(clients: OrkesClients) -> None:
    step = WorkflowTask(
        name="stamp",
        task_reference_name="stamp",
        type="SET_VARIABLE",
        input_parameters={"at": "${workflow.input.when}"},
    )
    flow = WorkflowDef(name="sdk_scheduled", version=1, tasks=[step], schema_version=2)
    clients.get_metadata_client().register_workflow_def(flow, overwrite=True)


def test_the_sdk_manages_a_schedule_and_reads_its_executions(clients):
    _register(clients)
    scheduler = clients.get_scheduler_client()
    request = SaveScheduleRequest(
        name="sdk_every_second",
        cron_expression="* * * * * ?",
        start_workflow_request=StartWorkflowRequest(
            name="sdk_scheduled", version=1, input={"when": "now"}
        ),
        paused=False,
        description="made by the SDK",
    )
    scheduler.save_schedule(request)

    saved = scheduler.get_schedule("sdk_every_second")
    assert saved.name == "sdk_every_second"
    assert saved.cron_expression == "* * * * * ?"
    assert saved.start_workflow_request.name == "sdk_scheduled"
    assert saved.start_workflow_request.input == {"when": "now"}
    assert (saved.paused, saved.description, saved.zone_id) == (False, "made by the SDK", "UTC")
    listed = scheduler.get_all_schedules("sdk_scheduled")
    assert [schedule.name for schedule in listed] == ["sdk_every_second"]
    assert scheduler.get_all_schedules("another_workflow") == []

    # A per-second cron: its first runs start within a second or two.
    deadline = time.monotonic() + 20
    while True:
        found = scheduler.search_schedule_executions(query="scheduleName=sdk_every_second")
        if found.total_hits >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert found.total_hits >= 2
    execution = found.results[0]
    assert execution.schedule_name == "sdk_every_second"
    assert execution.workflow_name == "sdk_scheduled"
    assert execution.state == "EXECUTED"
    assert execution.scheduled_time % 1000 == 0
    run = clients.get_workflow_client().get_workflow(execution.workflow_id, include_tasks=False)
    assert (run.status, run.input) == ("COMPLETED", {"when": "now"})

    scheduler.pause_schedule("sdk_every_second")
    paused = scheduler.get_schedule("sdk_every_second")
    assert paused.paused is True
    scheduler.resume_schedule("sdk_every_second")
    assert scheduler.get_schedule("sdk_every_second").paused is False
    scheduler.pause_all_schedules()
    scheduler.resume_all_schedules()

    now_ms = int(time.time() * 1000)
    times = scheduler.get_next_few_schedule_execution_times("0 0 * * * ?", limit=3)
    assert len(times) == 3 and all(t % 3_600_000 == 0 for t in times)
    assert now_ms < times[0] <= now_ms + 3_600_000
    start = times[1]
    later = scheduler.get_next_few_schedule_execution_times(
        "0 0 * * * ?", schedule_start_time=start, limit=2
    )
    assert later == [start, start + 3_600_000]

    scheduler.delete_schedule("sdk_every_second")
    assert scheduler.get_all_schedules() == []
    with pytest.raises(ApiException) as missing:
        scheduler.get_schedule("sdk_every_second")
    assert missing.value.status == 404
