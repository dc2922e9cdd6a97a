"""What the order demo asks of Podium and of the shipping service, over their REST APIs.

Only the public APIs are used (through httpx), exactly as any other client would use them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from examples.order.orders import Order, Run
from examples.order.processes import DemoError

__all__ = [
    "DEFINITIONS",
    "SERVICES",
    "WORKFLOW_NAME",
    "WORKFLOW_VERSION",
    "get_service",
    "refresh",
    "register_definitions",
    "register_services",
    "set_outage",
    "shipping_calls",
    "start_order",
]

HERE = Path(__file__).resolve().parent
DEFINITIONS = HERE / "order_workflow.json"
SERVICES = HERE / "services.json"
WORKFLOW_NAME = "order_fulfilment"
WORKFLOW_VERSION = 1


def _expect_ok(response: httpx.Response, what: str) -> None:
    if not response.is_success:
        raise DemoError(f"could not {what}: HTTP {response.status_code} {response.text[:500]}")


def register_services(
    client: httpx.Client, api: str, channels: dict[str, list[dict[str, Any]]] | None = None
) -> list[dict[str, Any]]:
    """Register the services of ``services.json`` (owners, contacts, breakers, runbooks), each
    with the notification ``channels`` given for it; returns them."""
    services: list[dict[str, Any]] = json.loads(SERVICES.read_text())
    for service in services:
        if channels and service["name"] in channels:
            service["notifications"] = channels[service["name"]]
    _expect_ok(client.post(f"{api}/services", json=services), "register the services")
    return services


def register_definitions(client: httpx.Client, api: str) -> dict[str, Any]:
    """Register the task and workflow definitions of ``order_workflow.json``; returns them."""
    definitions: dict[str, Any] = json.loads(DEFINITIONS.read_text())
    _expect_ok(
        client.post(f"{api}/metadata/taskdefs", json=definitions["taskDefs"]),
        "register the task definitions",
    )
    for workflow in definitions["workflows"]:
        _expect_ok(
            client.post(f"{api}/metadata/workflow", params={"overwrite": "true"}, json=workflow),
            f"register workflow {workflow['name']}",
        )
    return definitions


def _workflow_id(response: httpx.Response) -> str:
    """The id from a start response: Conductor sends it as text/plain, some servers as JSON."""
    text = response.text.strip()
    if text.startswith("{"):
        body = response.json()
        return str(body.get("workflowId") or body.get("id") or "")
    return text.strip('"')


def start_order(client: httpx.Client, api: str, order: Order) -> Run:
    """Start one execution of the order workflow."""
    response = client.post(
        f"{api}/workflow/{WORKFLOW_NAME}",
        params={"version": WORKFLOW_VERSION, "correlationId": order.correlation_id},
        json=order.input,
    )
    _expect_ok(response, f"start {order.correlation_id}")
    workflow_id = _workflow_id(response)
    if not workflow_id:
        raise DemoError(
            f"starting {order.correlation_id} returned no workflow id: {response.text!r}"
        )
    return Run(order, workflow_id)


def refresh(client: httpx.Client, api: str, run: Run) -> None:
    """Fetch the run's current state; a failed fetch keeps the last one (the next poll retries)."""
    try:
        response = client.get(f"{api}/workflow/{run.workflow_id}", params={"includeTasks": "true"})
    except httpx.TransportError:
        return
    if response.status_code == 200:
        body = response.json()
        if isinstance(body, dict):
            run.snapshot = body


def get_service(client: httpx.Client, api: str, name: str) -> dict[str, Any]:
    """A registered service with its breaker: ``state`` and the latest ``transitions``."""
    response = client.get(f"{api}/services/{name}")
    _expect_ok(response, f"read service {name}")
    body: dict[str, Any] = response.json()
    return body


def set_outage(client: httpx.Client, shipping_url: str, down: bool) -> None:
    """Flip the shipping service's outage switch: while down it answers every booking 503."""
    _expect_ok(
        client.post(f"{shipping_url}/admin/outage", json={"down": down}),
        f"switch the shipping outage {'on' if down else 'off'}",
    )


def shipping_calls(client: httpx.Client, shipping_url: str) -> list[dict[str, Any]]:
    """Every booking request the shipping service has received: ``{orderId, status, at}``."""
    response = client.get(f"{shipping_url}/admin/calls")
    _expect_ok(response, "read the shipping service's calls")
    calls: list[dict[str, Any]] = response.json()
    return calls
