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

from examples.order.api import DEFINITIONS, SERVICES  # noqa: E402
from examples.order.orders import (  # noqa: E402
    Order,
    build_orders,
    build_outage_orders,
    check_outcome,
    failure_reason,
)
from examples.order.report import what_was_undone, whom_to_call  # noqa: E402

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


def _calls_for(shipping_url: str, order_id: str) -> list[dict[str, Any]]:
    calls = httpx.get(f"{shipping_url}/admin/calls").json()
    return [c for c in calls if c["orderId"] == order_id]


def test_shipping_outage_switch_refuses_bookings_until_switched_off(shipping_url: str) -> None:
    body = {"orderId": "t-outage-1", "address": "1 Main St", "items": []}
    assert httpx.post(f"{shipping_url}/admin/outage", json={"down": True}).json() == {"down": True}
    try:
        down = httpx.post(f"{shipping_url}/shipments", json=body)
        assert down.status_code == 503
        assert down.headers["Retry-After"]
        assert "outage" in down.json()["message"]
        # Still down for every order, not just the first call.
        assert httpx.post(f"{shipping_url}/shipments", json=body).status_code == 503
    finally:
        assert httpx.post(f"{shipping_url}/admin/outage", json={"down": False}).json() == {
            "down": False
        }
    up = httpx.post(f"{shipping_url}/shipments", json=body)
    assert up.status_code == 201, up.text
    # Refused bookings were not booked: the first successful one is a new shipment (201).
    calls = _calls_for(shipping_url, "t-outage-1")
    assert [c["status"] for c in calls] == [503, 503, 201]
    assert all(isinstance(c["at"], int) for c in calls)
    assert [c["at"] for c in calls] == sorted(c["at"] for c in calls)


def test_shipping_records_every_call_with_its_status(shipping_url: str) -> None:
    body = {"orderId": "t-calls-1", "address": "1 Main St", "items": []}
    assert _calls_for(shipping_url, "t-calls-1") == []
    httpx.post(f"{shipping_url}/shipments", json=body)
    httpx.post(f"{shipping_url}/shipments", json=body)
    httpx.post(f"{shipping_url}/shipments", json={"orderId": "t-calls-1"})
    assert [c["status"] for c in _calls_for(shipping_url, "t-calls-1")] == [201, 200, 422]


def test_shipping_outage_switch_refuses_a_malformed_body(shipping_url: str) -> None:
    assert httpx.post(f"{shipping_url}/admin/outage", json={}).status_code == 422
    assert (
        httpx.post(f"{shipping_url}/shipments", json={"orderId": "t-x", "address": "a"}).status_code
        == 201
    )


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


def test_release_inventory_gives_the_stock_back_exactly_once(
    workers: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    reservation = workers.reserve_inventory("order-rel", [{"sku": "MN-27Q", "qty": 3}])
    released = workers.release_inventory(
        reservation["reservationId"], "order-rel", reservation["items"]
    )
    assert released == {
        "reservationId": reservation["reservationId"],
        "orderId": "order-rel",
        "items": [{"sku": "MN-27Q", "qty": 3}],
        "released": 3,
        "alreadyReleased": False,
    }
    # A retried compensation (its first result lost) must not put the stock back twice.
    again = workers.release_inventory(
        reservation["reservationId"], "order-rel", reservation["items"]
    )
    assert again == {**released, "alreadyReleased": True}
    assert capsys.readouterr().out.count(f"released {reservation['reservationId']}") == 1


def test_release_inventory_without_a_reservation_fails_for_good(workers: Any) -> None:
    from podium.worker import TaskFailedError

    with pytest.raises(TaskFailedError, match="no reservation id") as failure:
        workers.release_inventory("", "order-none", [])
    assert failure.value.non_retryable


def test_release_inventory_is_safe_from_concurrent_retries(workers: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    items = [{"sku": "KB-104", "qty": 1}]
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda _: workers.release_inventory("rsv_race", "order-r", items), range(16))
        )
    assert sum(not r["alreadyReleased"] for r in results) == 1


def test_workers_module_serves_every_task_type(workers: Any) -> None:
    from podium.worker import registry

    names = {spec.name for spec in registry.load_tasks("examples.order.workers")}
    assert names == {"reserve_inventory", "release_inventory", "charge_payment"}


# --------------------------------------------------------------------------------------------
# The demo's own logic
# --------------------------------------------------------------------------------------------


def test_definitions_match_the_workers_and_the_orders() -> None:
    definitions = json.loads(DEFINITIONS.read_text())
    assert {t["name"] for t in definitions["taskDefs"]} == {
        "reserve_inventory",
        "release_inventory",
        "charge_payment",
        "ship_order",
    }
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


def test_every_task_names_a_registered_service() -> None:
    from podium.dsl.services import Service

    services = {s["name"]: Service.model_validate(s) for s in json.loads(SERVICES.read_text())}
    assert set(services) == {"inventory", "payment", "shipping"}
    assert all(s.owner and s.contact and s.onCall and s.docsUrl for s in services.values())
    breaker = services["shipping"].circuitBreaker
    assert breaker is not None and breaker.failureThreshold == 2 and breaker.openSeconds <= 5

    definitions = json.loads(DEFINITIONS.read_text())
    by_name = {t["name"]: t.get("service") for t in definitions["taskDefs"]}
    assert by_name == {
        "reserve_inventory": "inventory",
        "release_inventory": "inventory",
        "charge_payment": "payment",
        "ship_order": "shipping",
    }
    (workflow,) = definitions["workflows"]
    steps = {t["taskReferenceName"]: t for t in workflow["tasks"]}
    assert steps["ship"]["service"] == "shipping"
    # Retries give the breaker its consecutive failures while the order still ships in the end.
    ship_def = next(t for t in definitions["taskDefs"] if t["name"] == "ship_order")
    assert ship_def["retryCount"] > breaker.failureThreshold


def test_reserve_is_compensated_by_release_inventory(workers: Any) -> None:
    import inspect

    (workflow,) = json.loads(DEFINITIONS.read_text())["workflows"]
    steps = {t["taskReferenceName"]: t for t in workflow["tasks"]}
    undo = steps["reserve"]["compensation"]
    assert undo["name"] == "release_inventory"
    assert undo["inputParameters"]["reservation_id"] == "${reserve.output.reservationId}"
    # The worker is called with the compensation's inputs by name: they must match.
    assert set(undo["inputParameters"]) == set(
        inspect.signature(workers.release_inventory).parameters
    )
    assert [ref for ref, step in steps.items() if "compensation" in step] == ["reserve"]


def test_definitions_are_valid_podium_definitions() -> None:
    from podium.dsl import models
    from podium.dsl.validation import validate_workflow

    definitions = json.loads(DEFINITIONS.read_text())
    for task_def in definitions["taskDefs"]:
        models.TaskDef.model_validate(task_def)
    for workflow in definitions["workflows"]:
        validate_workflow(models.WorkflowDef.model_validate(workflow))


def test_build_orders_adds_the_two_compensated_orders() -> None:
    orders = build_orders(3, "http://shipping")
    assert [o.correlation_id for o in orders] == [f"order-{n}" for n in range(1, 6)]
    assert [o.expect_status for o in orders] == ["COMPLETED"] * 3 + ["COMPENSATED"] * 2
    assert any(i["sku"] == "OUT-OF-STOCK" for i in orders[3].input["items"])
    # Out of stock fails at the first step: nothing was reserved, so nothing is undone.
    assert (orders[3].expect_service, orders[3].expect_undone) == ("inventory", ())
    assert orders[4].input["amount"] > 10_000
    assert (orders[4].expect_service, orders[4].expect_undone) == ("payment", ("reserve",))
    assert all(o.input["amount"] <= 10_000 for o in orders[:3])


def test_build_outage_orders_follow_on_and_must_ship() -> None:
    opener, held = build_outage_orders(6, "http://shipping")
    assert (opener.correlation_id, held.correlation_id) == ("order-6", "order-7")
    assert opener.expect_status == held.expect_status == "COMPLETED"
    assert all(i["sku"] != "OUT-OF-STOCK" for o in (opener, held) for i in o.input["items"])
    assert all(o.input["amount"] <= 10_000 for o in (opener, held))


def _order(
    expect: str, reason: str | None = None, service: str | None = None, undone: tuple[str, ...] = ()
) -> Order:
    return Order("order-1", "test", {}, expect, reason, service, undone)


_DECLINED: dict[str, Any] = {
    "status": "COMPENSATED",
    "reasonForIncompletion": "task 'charge' (charge_payment) FAILED_WITH_TERMINAL_ERROR: card declined [service payment (...)]",
    "failure": {
        "taskReferenceName": "charge",
        "reason": "card declined",
        "service": "payment",
        "insidePodium": False,
        "owner": "Payments team",
        "contact": "payments@example.com",
        "onCall": "#payments-oncall",
    },
    "compensation": {
        "steps": [
            {
                "referenceTaskName": "reserve",
                "name": "release_inventory",
                "status": "COMPLETED",
                "attempts": 1,
                "output": {"reservationId": "rsv_1", "released": 40},
            }
        ]
    },
}


def test_check_outcome_of_a_compensated_order() -> None:
    expected = _order("COMPENSATED", "card declined", "payment", ("reserve",))
    assert failure_reason(_DECLINED) == "card declined"
    assert check_outcome(expected, _DECLINED) is None
    assert "expected 'inventory'" in str(
        check_outcome(_order("COMPENSATED", "card", "inventory", ("reserve",)), _DECLINED)
    )
    assert "undid ['reserve'], expected []" in str(
        check_outcome(_order("COMPENSATED", "card", "payment"), _DECLINED)
    )
    failed_undo = json.loads(json.dumps(_DECLINED))
    failed_undo["compensation"]["steps"][0]["status"] = "FAILED"
    assert "release_inventory ended FAILED" in str(check_outcome(expected, failed_undo))
    no_owner = {**_DECLINED, "failure": {**_DECLINED["failure"], "owner": None}}
    assert "no owner" in str(check_outcome(expected, no_owner))
    assert "expected COMPENSATED" in str(check_outcome(expected, {**_DECLINED, "status": "FAILED"}))


def test_report_names_whom_to_call_and_what_was_undone() -> None:
    assert whom_to_call(_DECLINED) == (
        "failed at charge · service payment "
        "(owner Payments team, contact payments@example.com, on call #payments-oncall)"
    )
    assert what_was_undone(_DECLINED) == (
        "undone: reserve by release_inventory COMPLETED, rsv_1: 40 units back in stock (1 attempt)"
    )
    assert what_was_undone({"compensation": {"steps": []}}).startswith("undone: nothing")


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

    # Orders 1-3 ship; 6 and 7 ship too, despite the shipping outage.
    for n in (1, 2, 3, 6, 7):
        assert re.search(rf"order-{n}\s+COMPLETED\b.*trackingNumber", text), text
    # Out of stock: the run compensates, with nothing to undo, and names the inventory team.
    assert re.search(
        r"order-4\s+COMPENSATED\b.*out of stock.*\n.*service inventory \(owner Fulfilment team"
        r".*\n.*undone: nothing",
        text,
    ), text
    # Card declined: the payment team is named, and the reservation is given back.
    declined = re.search(
        r"order-5\s+COMPENSATED\b.*card declined.*\n.*failed at charge · service payment "
        r"\(owner Payments team.*\n.*runbook https://runbooks.example.com/payment/card-declined"
        r"\n.*undone: reserve by release_inventory COMPLETED, "
        r"(rsv_\w+): 40 units back in stock \(1 attempt\)",
        text,
    )
    assert declined, text
    # The payment team's receiver got one signed notification of the declined card.
    notified = re.search(
        r"Notification received by the payment team \(signature verified\)\n"
        r"  run.compensated: order_fulfilment run (\S+) failed and was compensated: .*"
        r"card declined \(service payment\)\n"
        r"    run      http://\S+/ui/#/run/(\S+)\n"
        r"    owner    Payments team\n"
        r"    on call  #payments-oncall\n"
        r"    runbook  https://runbooks.example.com/payment/card-declined\n",
        text,
    )
    assert notified and notified.group(1) == notified.group(2), text
    workers_log = (tmp_path / "logs" / "workers.log").read_text()
    assert workers_log.count("inventory: released") == 1, workers_log
    assert f"released {declined.group(1)} of order-5 (40 units)" in workers_log

    # The outage: the breaker opens, order-7 waits without a call, then ships once it closes.
    assert re.search(r"breaker OPEN at \+[\d.]+ s: 2 consecutive failures", text), text
    assert "order-7 reached ship and is held: task SCHEDULED, breaker OPEN, 0 calls" in text
    assert "order-7 shipped at" in text
    transitions = re.findall(r"\+[\d.]+ s\s+(\w+) → (\w+):", text)
    assert transitions == [("CLOSED", "OPEN"), ("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED")]
    shipping_log = (tmp_path / "logs" / "shipping.log").read_text()
    assert "order order-6: refused" in shipping_log
    assert "order order-7: refused" not in shipping_log
    assert re.search(r"booked order order-7 with", shipping_log), shipping_log
    assert "All 7 runs ended as expected" in text

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
