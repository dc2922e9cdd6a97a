"""Task domains through the official Python SDK: a ``Worker`` with ``domain`` gets the tasks
a run's ``taskToDomain`` put in that domain, and a worker without one gets the others."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from conductor.client.automator.task_handler import TaskHandler
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.models.task_def import TaskDef
from conductor.client.orkes_clients import OrkesClients
from conductor.client.worker.worker import Worker
from conductor.client.workflow.conductor_workflow import ConductorWorkflow
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from conductor.client.workflow.task.simple_task import SimpleTask

from podium.testing import PodiumTestServer
from tests.e2e import sdk_workers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def configuration(tmp_path, monkeypatch) -> Iterator[Configuration]:
    monkeypatch.delenv("CONDUCTOR_AUTH_KEY", raising=False)
    monkeypatch.delenv("CONDUCTOR_AUTH_SECRET", raising=False)
    with PodiumTestServer(tmp_path / "podium.db", sweep_interval_s=0.2) as server:
        yield Configuration(server_api_url=f"{server.url}/api", debug=False)


def test_a_worker_with_a_domain_gets_that_domains_tasks(configuration):
    clients = OrkesClients(configuration)
    clients.get_metadata_client().register_task_def(TaskDef(name="sdk_dom", retry_count=0))
    executor = WorkflowExecutor(configuration)
    workflow = ConductorWorkflow(executor=executor, name="sdk_domains", version=1)
    workflow.add(SimpleTask("sdk_dom", "step"))
    workflow.output_parameters({"by": "${step.output.by}"})
    workflow.register(overwrite=True)
    handler = TaskHandler(
        workers=[
            Worker("sdk_dom", sdk_workers.in_blue, poll_interval=50, domain="blue"),
            Worker("sdk_dom", sdk_workers.in_no_domain, poll_interval=50),
        ],
        configuration=configuration,
        scan_for_annotated_workers=False,
        monitor_processes=False,
    )
    handler.start_processes()
    try:
        client = clients.get_workflow_client()
        blue = client.start_workflow(
            StartWorkflowRequest(name="sdk_domains", version=1, task_to_domain={"sdk_dom": "blue"})
        )
        plain = client.start_workflow(StartWorkflowRequest(name="sdk_domains", version=1))
        deadline = time.monotonic() + 30
        runs = {}
        while time.monotonic() < deadline:
            runs = {
                run_id: client.get_workflow(run_id, include_tasks=True) for run_id in (blue, plain)
            }
            if all(run.status == "COMPLETED" for run in runs.values()):
                break
            time.sleep(0.1)
        assert runs[blue].output == {"by": "blue"}
        assert runs[plain].output == {"by": "plain"}
        assert runs[blue].tasks[0].domain == "blue"
    finally:
        handler.stop_processes()
        for process in handler.task_runner_processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
