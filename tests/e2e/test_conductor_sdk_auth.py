"""The official Conductor Python SDK against a Podium server with authentication on: it gets
a token from ``POST /api/token`` with its key id and secret and sends it as
``X-Authorization``, for its metadata and workflow clients and its workers alike."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from conductor.client.automator.task_handler import TaskHandler
from conductor.client.configuration.configuration import Configuration
from conductor.client.configuration.settings.authentication_settings import (
    AuthenticationSettings,
)
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.models.task_def import TaskDef
from conductor.client.http.rest import ApiException
from conductor.client.orkes_clients import OrkesClients
from conductor.client.worker.worker import Worker
from conductor.client.workflow.conductor_workflow import ConductorWorkflow
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from conductor.client.workflow.task.simple_task import SimpleTask

from podium.testing import PodiumTestServer
from tests.e2e import sdk_workers

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture
def keys(tmp_path, monkeypatch) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    monkeypatch.delenv("CONDUCTOR_AUTH_KEY", raising=False)
    monkeypatch.delenv("CONDUCTOR_AUTH_SECRET", raising=False)
    database = tmp_path / "podium.db"
    made: dict[str, dict[str, str]] = {}
    with PodiumTestServer(database) as open_server, httpx.Client(base_url=open_server.url) as api:
        for key_id, roles in (("deployer", ["admin"]), ("sdk-worker", ["worker"])):
            made[key_id] = api.post("/api/keys", json={"keyId": key_id, "roles": roles}).json()
    with PodiumTestServer(database, auth=True, sweep_interval_s=0.2) as server:
        yield server.url, made


def _configuration(url: str, key: dict[str, str]) -> Configuration:
    settings = AuthenticationSettings(key_id=key["keyId"], key_secret=key["keySecret"])
    return Configuration(server_api_url=f"{url}/api", authentication_settings=settings, debug=False)


def test_the_sdk_authenticates_with_a_key_and_runs_a_workflow(keys):
    url, made = keys
    admin = _configuration(url, made["deployer"])
    clients = OrkesClients(admin)
    clients.get_metadata_client().register_task_def(
        TaskDef(name="sdk_quote", retry_count=0, response_timeout_seconds=30)
    )
    workflow = ConductorWorkflow(
        executor=WorkflowExecutor(admin), name="sdk_authed", version=1
    ).add(
        SimpleTask("sdk_quote", "quote").input_parameter("sku", "A").input_parameter("quantity", 3)
    )
    workflow.register(overwrite=True)

    handler = TaskHandler(
        workers=[Worker("sdk_quote", sdk_workers.quote, poll_interval=50)],
        configuration=_configuration(url, made["sdk-worker"]),
        scan_for_annotated_workers=False,
        monitor_processes=False,
    )
    handler.start_processes()
    try:
        run_id = clients.get_workflow_client().start_workflow(
            StartWorkflowRequest(name="sdk_authed", version=1, input={})
        )
        deadline = time.monotonic() + 30
        while (run := clients.get_workflow_client().get_workflow(run_id, True)).status == "RUNNING":
            assert time.monotonic() < deadline, run
            time.sleep(0.1)
        assert run.status == "COMPLETED", run.reason_for_incompletion
        assert run.tasks[0].output_data == sdk_workers.quote("A", 3)
    finally:
        handler.stop_processes()
        for process in handler.task_runner_processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


def test_the_sdk_with_a_wrong_secret_is_refused(keys):
    url, made = keys
    wrong = _configuration(url, {**made["deployer"], "keySecret": "not-it"})
    with pytest.raises(ApiException) as refused:
        OrkesClients(wrong).get_metadata_client().get_all_task_defs()
    assert refused.value.status == 401
