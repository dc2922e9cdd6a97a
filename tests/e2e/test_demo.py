"""The order demo, end to end: its services on their own, its workers, and the whole demo.

The full demo test runs ``python -m examples.order.demo ... --exit`` exactly as a person would,
with the Podium server, worker SDK and CLI as separate processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# ``examples`` is not an installed package: make it importable however pytest was started.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from examples.order.demo import (  # noqa: E402
    DEFINITIONS,
    Order,
    build_orders,
    check_outcome,
    failure_reason,
)

DEMO_TIMEOUT_S = 120


def _env() -> dict[str, str]:
    """The test's environment, with this tree importable from any working directory."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a child the test started, politely first."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------------------------
# The shipping service, as its own process
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipping_url() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.order.shipping_service", "--port", str(port)],
        cwd=REPO_ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"shipping service exited with {process.returncode}:\n{output}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("shipping service did not answer /health within 20 s")
            time.sleep(0.1)
        yield url
    finally:
        _stop(process)
        if process.stdout:
            process.stdout.close()


def test_shipping_health(shipping_url: str) -> None:
    response = httpx.get(f"{shipping_url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "UP"}


def test_shipping_books_a_shipment(shipping_url: str) -> None:
    body = {
        "orderId": "t-ship-1",
        "address": {"name": "Ada", "line1": "1 Main St", "city": "London", "country": "GB"},
        "items": [{"sku": "KB-104", "qty": 1, "warehouse": "AMS-1"}],
    }
    response = httpx.post(f"{shipping_url}/shipments", json=body, headers={"X-Order": "t-ship-1"})
    assert response.status_code == 201, response.text
    shipment = response.json()
    assert shipment["trackingNumber"]
    assert shipment["carrier"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", shipment["eta"])

    # Booking the same order again (a retried HTTP task) must not ship twice.
    again = httpx.post(f"{shipping_url}/shipments", json=body)
    assert again.status_code == 200
    assert again.json()["trackingNumber"] == shipment["trackingNumber"]


@pytest.mark.parametrize("address", [None, "", "   ", {}])
def test_shipping_refuses_a_missing_address(shipping_url: str, address: Any) -> None:
    body: dict[str, Any] = {"orderId": "t-ship-2", "items": []}
    if address is not None:
        body["address"] = address
    response = httpx.post(f"{shipping_url}/shipments", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["field"] == "address"
    assert "address is required" in problem["message"]


def test_shipping_refuses_a_missing_order_id(shipping_url: str) -> None:
    response = httpx.post(f"{shipping_url}/shipments", json={"address": "1 Main St"})
    assert response.status_code == 422
    assert response.json()["field"] == "orderId"


# --------------------------------------------------------------------------------------------
# The workers' handlers, called directly (@worker_task returns the function unchanged)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workers() -> Any:
    from examples.order import workers

    return workers


def test_reserve_inventory_is_idempotent(workers: Any) -> None:
    items = [{"sku": "KB-104", "qty": 2}, {"sku": "MS-220", "qty": 1}]
    first = workers.reserve_inventory("order-x", items)
    assert first["reservationId"].startswith("rsv_")
    assert [(i["sku"], i["qty"]) for i in first["items"]] == [("KB-104", 2), ("MS-220", 1)]
    assert all(i["warehouse"] for i in first["items"])
    # A retried step gets the same reservation, not a second one.
    assert workers.reserve_inventory("order-x", items) == first
    assert workers.reserve_inventory("order-y", items)["reservationId"] != first["reservationId"]


def test_reserve_inventory_fails_for_good_when_out_of_stock(workers: Any) -> None:
    from podium.worker import TaskFailedError

    with pytest.raises(TaskFailedError, match="out of stock: OUT-OF-STOCK") as failure:
        workers.reserve_inventory("order-z", [{"sku": "KB-104"}, {"sku": "OUT-OF-STOCK"}])
    assert failure.value.non_retryable


@pytest.mark.parametrize("items", [[], [{"qty": 1}], [{"sku": "KB-104", "qty": 0}], ["KB-104"]])
def test_reserve_inventory_refuses_malformed_items(workers: Any, items: Any) -> None:
    from podium.worker import TaskFailedError

    with pytest.raises(TaskFailedError) as failure:
        workers.reserve_inventory("order-bad", items)
    assert failure.value.non_retryable


def test_charge_payment_is_idempotent_and_slow_enough(workers: Any) -> None:
    started = time.monotonic()
    first = workers.charge_payment("order-x", 123.456, "eur")
    assert time.monotonic() - started >= 0.02
    assert first["paymentId"].startswith("pay_")
    assert first["amount"] == 123.46
    assert first["currency"] == "EUR"
    assert workers.charge_payment("order-x", 123.456, "EUR")["paymentId"] == first["paymentId"]


def test_charge_payment_declines_large_amounts_for_good(workers: Any) -> None:
    from podium.worker import TaskFailedError

    assert workers.charge_payment("order-limit", 10_000, "EUR")["status"] == "CAPTURED"
    with pytest.raises(TaskFailedError, match="card declined") as failure:
        workers.charge_payment("order-big", 10_000.01, "EUR")
    assert failure.value.non_retryable


@pytest.mark.parametrize(
    ("amount", "currency"), [(0, "EUR"), (-5, "EUR"), ("x", "EUR"), (None, "EUR"), (10, "EURO")]
)
def test_charge_payment_refuses_bad_input(workers: Any, amount: Any, currency: Any) -> None:
    from podium.worker import TaskFailedError

    with pytest.raises(TaskFailedError, match="invalid"):
        workers.charge_payment("order-bad", amount, currency)


def test_workers_module_serves_both_task_types(workers: Any) -> None:
    from podium.worker import registry

    names = {spec.name for spec in registry.load_tasks("examples.order.workers")}
    assert names == {"reserve_inventory", "charge_payment"}


# --------------------------------------------------------------------------------------------
# The demo's own logic
# --------------------------------------------------------------------------------------------


def test_definitions_match_the_workers_and_the_orders() -> None:
    definitions = json.loads(DEFINITIONS.read_text())
    assert {t["name"] for t in definitions["taskDefs"]} == {"reserve_inventory", "charge_payment"}
    (workflow,) = definitions["workflows"]
    assert (workflow["name"], workflow["version"], workflow["schemaVersion"]) == (
        "order_fulfilment",
        1,
        2,
    )
    assert [t["taskReferenceName"] for t in workflow["tasks"]] == ["reserve", "charge", "ship"]
    # Every workflow input the tasks read is declared, and every order provides all of them.
    used = set(re.findall(r"\$\{workflow\.input\.(\w+)\}", json.dumps(workflow["tasks"])))
    assert used == set(workflow["inputParameters"])
    for order in build_orders(2, "http://127.0.0.1:1"):
        assert set(order.input) == used


def test_definitions_are_valid_podium_definitions() -> None:
    from podium.dsl import models
    from podium.dsl.validation import validate_workflow

    definitions = json.loads(DEFINITIONS.read_text())
    for task_def in definitions["taskDefs"]:
        models.TaskDef.model_validate(task_def)
    for workflow in definitions["workflows"]:
        validate_workflow(models.WorkflowDef.model_validate(workflow))


def test_build_orders_adds_the_two_failing_orders() -> None:
    orders = build_orders(3, "http://shipping")
    assert [o.correlation_id for o in orders] == [f"order-{n}" for n in range(1, 6)]
    assert [o.expect_status for o in orders] == ["COMPLETED"] * 3 + ["FAILED"] * 2
    assert any(i["sku"] == "OUT-OF-STOCK" for i in orders[3].input["items"])
    assert orders[4].input["amount"] > 10_000
    assert all(o.input["amount"] <= 10_000 for o in orders[:3])


def _order(expect: str, reason: str | None = None) -> Order:
    return Order("order-1", "test", {}, expect, reason)


def test_check_outcome() -> None:
    shipped = {"status": "COMPLETED", "output": {"trackingNumber": "DH1"}}
    assert check_outcome(_order("COMPLETED"), shipped) is None
    assert "tracking number" in str(
        check_outcome(_order("COMPLETED"), {"status": "COMPLETED", "output": {}})
    )
    assert "still RUNNING" in str(check_outcome(_order("COMPLETED"), {"status": "RUNNING"}))

    failed = {
        "status": "FAILED",
        "reasonForIncompletion": "task reserve failed",
        "tasks": [
            {
                "referenceTaskName": "reserve",
                "status": "FAILED_WITH_TERMINAL_ERROR",
                "reasonForIncompletion": "out of stock: X",
            }
        ],
    }
    assert failure_reason(failed) == "task reserve failed; reserve: out of stock: X"
    assert check_outcome(_order("FAILED", "out of stock"), failed) is None
    assert "another reason" in str(check_outcome(_order("FAILED", "card declined"), failed))
    assert "expected COMPLETED" in str(check_outcome(_order("COMPLETED"), failed))
    # The task's reason is not repeated when the workflow's already says it.
    assert (
        failure_reason({"reasonForIncompletion": "out of stock: X", "tasks": failed["tasks"]})
        == "out of stock: X"
    )


# --------------------------------------------------------------------------------------------
# The whole demo
# --------------------------------------------------------------------------------------------


def test_demo_runs_every_order_to_the_expected_end(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "examples.order.demo",
        "--port",
        "0",
        "--db",
        str(tmp_path / "demo.db"),
        "--runs",
        "3",
        "--exit",
    ]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        output, _ = process.communicate(timeout=DEMO_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        # SIGTERM, not SIGKILL: the demo then stops its own children before going.
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        pytest.fail(
            f"the demo did not finish within {DEMO_TIMEOUT_S} s:\n{output.decode()}\n{_logs(tmp_path)}"
        )
    text = output.decode()
    assert process.returncode == 0, f"{text}\n{_logs(tmp_path)}"

    for n in (1, 2, 3):
        assert re.search(rf"order-{n}\s+COMPLETED\b.*trackingNumber", text), text
    assert re.search(r"order-4\s+FAILED\b.*out of stock", text), text
    assert re.search(r"order-5\s+FAILED\b.*card declined", text), text
    assert "ended as expected" in text

    # Each child logged to its file, and none outlived the demo.
    assert {p.name for p in (tmp_path / "logs").iterdir()} >= {
        "server.log",
        "shipping.log",
        "workers.log",
    }
    for pid in map(int, re.findall(r"\(pid (\d+),", text)):
        assert not _alive(pid), f"child process {pid} outlived the demo"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0) until reaped; it no longer runs, so it does not count.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _logs(tmp_path: Path) -> str:
    """The children's logs, to make a failure readable without rerunning it."""
    parts = []
    for log in sorted((tmp_path / "logs").glob("*.log")):
        parts.append(f"----- {log.name}\n{log.read_text(errors='replace')[-4000:]}")
    return "\n".join(parts)
