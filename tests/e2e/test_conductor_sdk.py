"""The official Conductor Python SDK, unmodified, against a Podium server.

Definitions are built with the SDK's workflow builder and registered through its
MetadataClient; workers run in the SDK's TaskHandler (one spawned process per worker);
runs are started and read back through its WorkflowClient and WorkflowExecutor.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conductor.client.automator.task_handler import TaskHandler
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models.rerun_workflow_request import RerunWorkflowRequest
from conductor.client.http.models.skip_task_request import SkipTaskRequest
from conductor.client.http.models.start_workflow_request import StartWorkflowRequest
from conductor.client.http.models.task_def import TaskDef
from conductor.client.http.models.task_result import TaskResult
from conductor.client.http.models.task_result_status import TaskResultStatus
from conductor.client.http.rest import ApiException
from conductor.client.orkes_clients import OrkesClients
from conductor.client.worker.worker import Worker
from conductor.client.workflow.conductor_workflow import ConductorWorkflow
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from conductor.client.workflow.task.do_while_task import LoopTask
from conductor.client.workflow.task.fork_task import ForkTask
from conductor.client.workflow.task.http_task import HttpTask
from conductor.client.workflow.task.inline import InlineTask
from conductor.client.workflow.task.json_jq_task import JsonJQTask
from conductor.client.workflow.task.simple_task import SimpleTask
from conductor.client.workflow.task.sub_workflow_task import SubWorkflowTask
from conductor.client.workflow.task.switch_task import SwitchTask
from conductor.client.workflow.task.terminate_task import TerminateTask, WorkflowStatus
from conductor.client.workflow.task.wait_task import WaitForDurationTask, WaitTask

from podium.testing import PodiumTestServer
from tests.e2e import sdk_workers

pytestmark = [
    pytest.mark.timeout(150),
    # The SDK's own models call their deprecated properties when serialising.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

TERMINAL = {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"}


class _ShippingHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"carrier": "podium-post", "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def shipping() -> Iterator[str]:
    """A small HTTP service for the workflow's HTTP task."""
    service = ThreadingHTTPServer(("127.0.0.1", 0), _ShippingHandler)
    thread = threading.Thread(target=service.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{service.server_address[1]}"
    finally:
        service.shutdown()
        service.server_close()
        thread.join(timeout=5)


@pytest.fixture
def configuration(tmp_path, monkeypatch) -> Iterator[Configuration]:
    # No auth key in the environment: the SDK then makes no token call at all.
    monkeypatch.delenv("CONDUCTOR_AUTH_KEY", raising=False)
    monkeypatch.delenv("CONDUCTOR_AUTH_SECRET", raising=False)
    with PodiumTestServer(tmp_path / "podium.db", sweep_interval_s=0.2) as server:
        yield Configuration(server_api_url=f"{server.url}/api", debug=False)


@pytest.fixture
def workers(configuration: Configuration) -> Iterator[TaskHandler]:
    """The SDK's TaskHandler with one worker per task type; every process is stopped after."""
    defined = [
        Worker("sdk_quote", sdk_workers.quote, poll_interval=50),
        Worker("sdk_reserve", sdk_workers.flaky_reserve, poll_interval=50),
        Worker("sdk_pack", sdk_workers.pack, poll_interval=50, thread_count=2),
        Worker("sdk_label", sdk_workers.label, poll_interval=50),
        Worker("sdk_notify", sdk_workers.notify, poll_interval=50),
        Worker("sdk_long", sdk_workers.long_job, poll_interval=50),
    ]
    handler = TaskHandler(
        workers=defined,
        configuration=configuration,
        scan_for_annotated_workers=False,
        monitor_processes=False,
    )
    handler.start_processes()
    try:
        yield handler
    finally:
        handler.stop_processes()
        for process in handler.task_runner_processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        assert not any(p.is_alive() for p in handler.task_runner_processes)


def _task_defs() -> list[TaskDef]:
    names = ["sdk_quote", "sdk_reserve", "sdk_pack", "sdk_label", "sdk_notify"]
    defs = [
        TaskDef(
            name=name,
            retry_count=1,
            retry_logic="FIXED",
            retry_delay_seconds=0,
            timeout_seconds=60,
            response_timeout_seconds=30,
            owner_email="team@example.com",
        )
        for name in names
    ]
    return defs


def _child(executor: WorkflowExecutor) -> ConductorWorkflow:
    child = ConductorWorkflow(executor=executor, name="sdk_child", version=1)
    child >> SimpleTask("sdk_label", "label").input_parameter(
        "order_id", "${workflow.input.order_id}"
    )
    child.output_parameters({"label": "${label.output.label}"})
    return child


def _order_flow(executor: WorkflowExecutor, shipping_url: str, *, full: bool) -> ConductorWorkflow:
    """The order workflow: every task type the SDK's users reach for, in one definition."""
    flow = ConductorWorkflow(executor=executor, name="sdk_order" if full else "sdk_order_core")
    flow.version = 1
    quote = SimpleTask("sdk_quote", "quote")
    quote.input_parameter("sku", "${workflow.input.sku}").input_parameter(
        "quantity", "${workflow.input.quantity}"
    )
    reserve = SimpleTask("sdk_reserve", "reserve").input_parameter("sku", "${quote.output.sku}")
    flow >> quote >> reserve
    if full:
        flow >> InlineTask(
            "tax",
            "(function () { return $.total * 2; })()",
            bindings={"total": "${quote.output.total}"},
        )
        flow >> JsonJQTask("shape", "{sku: .sku, doubled: .doubled}").input_parameter(
            "sku", "${quote.output.sku}"
        ).input_parameter("doubled", "${tax.output.result}")
    pack_a = SimpleTask("sdk_pack", "pack_a").input_parameter("item", "${workflow.input.sku}")
    pack_b = SimpleTask("sdk_pack", "pack_b").input_parameter("item", "box")
    route = SwitchTask("route", "${workflow.input.kind}")
    route.switch_case(
        "ship", [ForkTask("packing", [[pack_a], [pack_b]], join_on=["pack_a", "pack_b"])]
    )
    route.default_case(
        [TerminateTask("refuse", WorkflowStatus.FAILED, "only shipping orders are handled")]
    )
    flow >> route
    if full:
        notify = SimpleTask("sdk_notify", "notify").input_parameter(
            "message", "${workflow.input.sku}"
        )
        flow >> LoopTask("remind", 2, [notify])
    child = SubWorkflowTask("shipment", "sdk_child", version=1)
    child.input_parameter("order_id", "${workflow.input.order_id}")
    call = HttpTask("carrier", {"uri": f"{shipping_url}/rates/${{workflow.input.sku}}"})
    done = TerminateTask("done", WorkflowStatus.COMPLETED, "shipped")
    done.input_parameter(
        "workflowOutput",
        {
            "total": "${quote.output.total}",
            "reserved": "${reserve.output.reserved}",
            "packed": "${pack_a.output.packed}",
            "label": "${shipment.output.label}",
            "carrier": "${carrier.output.response.body.carrier}",
        },
    )
    flow >> child >> WaitForDurationTask("settle", 1) >> call >> done
    return flow


def _wait(workflow_client: Any, workflow_id: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        run = workflow_client.get_workflow(workflow_id, include_tasks=True)
        if run.status in TERMINAL or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def _register(configuration: Configuration, shipping_url: str, *, full: bool) -> str:
    clients = OrkesClients(configuration)
    metadata = clients.get_metadata_client()
    executor = clients.get_workflow_executor()
    first, *others = _task_defs()
    metadata.register_task_def(first)  # POST, a list of one
    for task_def in others:
        metadata.update_task_def(task_def)  # PUT, a single definition
    metadata.register_workflow_def(_child(executor).to_workflow_def(), overwrite=True)
    flow = _order_flow(executor, shipping_url, full=full)
    metadata.register_workflow_def(flow.to_workflow_def(), overwrite=True)
    assert metadata.get_workflow_def(flow.name, version=1).name == flow.name
    assert {d.name for d in metadata.get_all_task_defs()} >= {"sdk_quote", "sdk_reserve"}
    return flow.name


def _check_shipped(run: Any, *, full: bool) -> None:
    assert run.status == "COMPLETED", (run.reason_for_incompletion, run.status)
    assert run.output["total"] == 21
    assert run.output["reserved"] is True
    assert run.output["packed"] == "WIDGET"
    assert run.output["label"] == "LBL-o-1"
    assert run.output["carrier"] == "podium-post"
    reserves = [t for t in run.tasks if t.reference_task_name == "reserve"]
    assert [t.status for t in reserves] == ["FAILED", "COMPLETED"]
    assert reserves[0].reason_for_incompletion == "warehouse busy, try again"
    if full:
        assert run.get_task(task_reference_name="tax").output_data["result"] == 42
        shape = run.get_task(task_reference_name="shape").output_data["result"]
        assert shape == {"sku": "widget", "doubled": 42}
        notes = [t for t in run.tasks if t.task_def_name == "sdk_notify"]
        assert [t.output_data["result"] for t in notes] == ["sent: widget"] * 2


def _run_orders(configuration: Configuration, shipping_url: str, *, full: bool) -> None:
    name = _register(configuration, shipping_url, full=full)
    clients = OrkesClients(configuration)
    workflow_client = clients.get_workflow_client()
    executor = clients.get_workflow_executor()

    order = {"sku": "widget", "quantity": 3, "kind": "ship", "order_id": "o-1"}
    request = StartWorkflowRequest(name=name, version=1, input=order, correlation_id="o-1")
    started = workflow_client.start_workflow(request)
    by_name = workflow_client.start_workflow_by_name(name, {**order, "kind": "gift"}, version=1)

    executed = executor.execute(name, version=1, workflow_input=order, wait_for_seconds=40)
    assert executed.status == "COMPLETED", executed
    assert executed.output["label"] == "LBL-o-1", executed

    _check_shipped(_wait(workflow_client, started), full=full)
    refused = _wait(workflow_client, by_name)
    assert refused.status == "FAILED"
    assert refused.reason_for_incompletion == "only shipping orders are handled"

    status = workflow_client.get_workflow_status(started, include_output=True)
    assert status.status == "COMPLETED"
    found = workflow_client.search(query=f"workflowType IN ({name}) AND status IN (COMPLETED)")
    assert started in {hit.workflow_id for hit in found.results}
    correlated = workflow_client.get_by_correlation_ids(name, ["o-1"], include_completed=True)
    assert started in {run.workflow_id for run in correlated["o-1"]}


def test_core_task_types_through_the_sdk(configuration, workers, shipping):
    _run_orders(configuration, shipping, full=False)


def test_every_task_type_in_one_workflow_through_the_sdk(configuration, workers, shipping):
    _run_orders(configuration, shipping, full=True)


def test_an_unregistered_workflow_runs_from_its_inline_definition(configuration, workers):
    """ConductorWorkflow.execute and start_workflow_with_input send the definition along."""
    clients = OrkesClients(configuration)
    clients.get_metadata_client().register_task_def(TaskDef(name="sdk_quote", retry_count=0))
    flow = ConductorWorkflow(executor=clients.get_workflow_executor(), name="sdk_inline")
    quote = SimpleTask("sdk_quote", "quote")
    quote.input_parameter("sku", "${workflow.input.sku}")
    quote.input_parameter("quantity", "${workflow.input.quantity}")
    flow >> quote
    flow.output_parameters({"total": "${quote.output.total}"})

    run = flow.execute(workflow_input={"sku": "bolt", "quantity": 2}, wait_for_seconds=20)
    assert run.status == "COMPLETED"
    assert run.output == {"total": 14}
    run_id = flow.start_workflow_with_input({"sku": "nut", "quantity": 1})
    assert _wait(clients.get_workflow_client(), run_id).output == {"total": 7}
    assert clients.get_metadata_client().get_all_workflow_defs() == []


def test_a_long_task_reports_progress_until_it_is_done(configuration, workers):
    """TaskInProgress: the task stays with the worker, then comes back after the callback."""
    clients = OrkesClients(configuration)
    metadata = clients.get_metadata_client()
    metadata.register_task_def(TaskDef(name="sdk_long", retry_count=0, response_timeout_seconds=30))
    flow = ConductorWorkflow(executor=clients.get_workflow_executor(), name="sdk_long", version=1)
    flow >> SimpleTask("sdk_long", "long").input_parameter("job", "${workflow.input.job}")
    metadata.register_workflow_def(flow.to_workflow_def(), overwrite=True)
    workflow_client = clients.get_workflow_client()
    run_id = workflow_client.start_workflow_by_name("sdk_long", {"job": "report"}, version=1)
    done = _wait(workflow_client, run_id, timeout=30)
    assert done.status == "COMPLETED"
    [task] = done.tasks
    assert task.output_data == {"job": "report", "deliveries": 3}
    assert task.poll_count == 3
    logs = clients.get_task_client().get_task_logs(task.task_id)
    assert [entry.log for entry in logs][-1] == "delivery 3 of report"
    # Each callback held the task for a second before it was delivered again.
    assert task.end_time - task.start_time >= 2000


def test_operations_through_the_sdk_clients(configuration):
    """Pause, resume, skip, terminate, retry, restart, rerun, signal, logs and removal."""
    clients = OrkesClients(configuration)
    metadata = clients.get_metadata_client()
    workflow_client = clients.get_workflow_client()
    task_client = clients.get_task_client()
    executor = clients.get_workflow_executor()

    metadata.register_task_def(TaskDef(name="sdk_step", retry_count=0))
    flow = ConductorWorkflow(executor=executor, name="sdk_ops", version=1)
    (
        flow
        >> SimpleTask("sdk_step", "first")
        >> WaitTask("approval")
        >> SimpleTask("sdk_step", "last")
    )
    executor.register_workflow(flow.to_workflow_def(), overwrite=True)  # PUT, a list
    assert [d.version for d in metadata.get_all_workflow_defs() if d.name == "sdk_ops"] == [1]

    run_id = workflow_client.start_workflow_by_name("sdk_ops", {"order": 1}, version=1)
    workflow_client.pause_workflow(run_id)
    assert workflow_client.get_workflow(run_id, include_tasks=False).status == "PAUSED"
    workflow_client.resume_workflow(run_id)
    [first] = task_client.batch_poll_tasks(
        "sdk_step", worker_id="ops", count=1, timeout_in_millisecond=2000
    )
    assert task_client.get_task(first.task_id).status == "IN_PROGRESS"
    assert task_client.get_queue_size_for_task("sdk_step") == 0
    task_client.add_task_log(first.task_id, "checked the order")
    assert [log.log for log in task_client.get_task_logs(first.task_id)] == ["checked the order"]
    assert {p.worker_id for p in task_client.get_task_poll_data("sdk_step")} == {"ops"}
    task_client.update_task(
        TaskResult(
            task_id=first.task_id,
            workflow_instance_id=run_id,
            worker_id="ops",
            status=TaskResultStatus.COMPLETED,
            output_data={"checked": True},
        )
    )
    workflow_client.skip_task_from_workflow(run_id, "last", SkipTaskRequest(task_output={"s": 1}))
    # The WAIT task is signalled from outside, as a Conductor user completes it.
    task_client.update_task_by_ref_name(run_id, "approval", "COMPLETED", {"ok": True})
    done = _wait(workflow_client, run_id)
    assert done.status == "COMPLETED"
    assert [t.status for t in done.tasks] == ["COMPLETED", "COMPLETED", "SKIPPED"]

    first_id = done.tasks[0].task_id
    rerun_id = workflow_client.rerun_workflow(
        run_id,
        RerunWorkflowRequest(re_run_from_task_id=first_id, task_input={"again": True}),
    )
    assert rerun_id == run_id
    [again] = task_client.batch_poll_tasks(
        "sdk_step", worker_id="ops", count=1, timeout_in_millisecond=2000
    )
    assert again.input_data == {"again": True}

    workflow_client.terminate_workflow(run_id, reason="stopped by the operator")
    stopped = workflow_client.get_workflow(run_id, include_tasks=True)
    assert stopped.status == "TERMINATED"
    assert stopped.reason_for_incompletion == "stopped by the operator"
    workflow_client.retry_workflow(run_id)
    assert workflow_client.get_workflow(run_id, include_tasks=False).status == "RUNNING"
    workflow_client.terminate_workflow(run_id, reason="again")
    workflow_client.restart_workflow(run_id)
    restarted = workflow_client.get_workflow(run_id, include_tasks=True)
    assert restarted.status == "RUNNING"
    assert [t.reference_task_name for t in restarted.tasks] == ["first"]
    workflow_client.update_variables(run_id, {"note": "vip"})
    assert workflow_client.get_workflow_status(run_id, include_variables=True).variables == {
        "note": "vip"
    }

    workflow_client.remove_workflow(run_id)
    with pytest.raises(ApiException) as missing:
        workflow_client.get_workflow(run_id)
    assert missing.value.status == 404
    metadata.unregister_workflow_def("sdk_ops", 1)
    metadata.unregister_task_def("sdk_step")
    assert metadata.get_all_task_defs() == []


def test_searches_signals_and_queues_through_the_sdk(configuration):
    """Task search, run search by id, queue details, reset callbacks and the signal API,
    through the SDK's own resource classes. (Its ``get_execution_status_task_list`` cannot
    read any answer: the SDK lacks the model it names.)"""
    clients = OrkesClients(configuration)
    metadata = clients.get_metadata_client()
    executor = clients.get_workflow_executor()
    tasks_api = clients.get_task_client().taskResourceApi
    runs_api = clients.get_workflow_client().workflowResourceApi

    metadata.register_task_def(TaskDef(name="sdk_gated", retry_count=0))
    flow = ConductorWorkflow(executor=executor, name="sdk_gate", version=1)
    flow >> WaitTask("gate") >> SimpleTask("sdk_gated", "after")
    executor.register_workflow(flow.to_workflow_def(), overwrite=True)
    first = executor.start_workflow(StartWorkflowRequest(name="sdk_gate", version=1))
    time.sleep(0.01)
    second = executor.start_workflow(StartWorkflowRequest(name="sdk_gate", version=1))

    signalled = executor.signal(first, "COMPLETED", {"opened": True})
    assert (signalled.response_type, signalled.target_workflow_id) == ("TARGET_WORKFLOW", first)
    assert signalled.target_workflow_status == "RUNNING"
    executor.signal_async(second, "COMPLETED", {"opened": False})

    found = tasks_api.search1(query="taskType IN (sdk_gated)", sort="workflowId:ASC")
    assert found.total_hits == 2
    assert [hit.workflow_id for hit in found.results] == sorted([first, second])
    assert {hit.status for hit in found.results} == {"SCHEDULED"}
    whole = tasks_api.search_v21(query=f"workflowId = '{first}' AND taskType = WAIT")
    assert [t.output_data for t in whole.results] == [{"opened": True}]
    # The SDK's run search sends no ``sort``: newest first, as Podium answers by default.
    newest = runs_api.search(query=f"workflowId IN ({first}, {second})")
    assert [hit.workflow_id for hit in newest.results] == [second, first]

    assert tasks_api.all_verbose()["sdk_gated"] == {"a": {"size": 2, "uacked": 0}}
    assert tasks_api.requeue_pending_task("sdk_gated") == "2"  # both waiting, as Conductor counts
    runs_api.reset_workflow(first)  # nothing postponed: nothing changes
    assert tasks_api.all_verbose()["sdk_gated"] == {"a": {"size": 2, "uacked": 0}}
