"""The order demo's orders, what each is expected to end as, and how to tell whether it did.

Nothing here does IO: the orders are the same on every run of the demo, so what it shows is
repeatable, and the checks work on run documents as ``GET /api/workflow/{id}`` returns them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "STEPS",
    "TERMINAL_STATUSES",
    "Order",
    "Run",
    "build_orders",
    "build_outage_orders",
    "check_outcome",
    "failure_reason",
    "undone_steps",
]

TERMINAL_STATUSES = frozenset(
    {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED", "COMPENSATED", "COMPENSATION_FAILED"}
)
_FAILED_TASK_STATUSES = frozenset({"FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT"})

_FAILED_TASK_STATUSES = frozenset({"FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT"})
STEPS = ("reserve", "charge", "ship")
"""The workflow's steps, as the live view counts them."""

# A small shop: (sku, name, unit price in EUR).
_CATALOG = (
    ("KB-104", "Mechanical keyboard", 89.00),
    ("MS-220", "Wireless mouse", 34.50),
    ("MN-27Q", '27" monitor', 279.00),
    ("HB-050", "USB-C hub", 45.90),
    ("CB-002", "Cable pack", 12.00),
)
_CUSTOMERS = (
    {
        "name": "Ada Lovelace",
        "line1": "12 St James's Square",
        "city": "London",
        "postcode": "SW1Y 4JH",
        "country": "GB",
    },
    {
        "name": "Grace Hopper",
        "line1": "Keizersgracht 123",
        "city": "Amsterdam",
        "postcode": "1015 CJ",
        "country": "NL",
    },
    {
        "name": "Alan Turing",
        "line1": "Hauptstrasse 5",
        "city": "Berlin",
        "postcode": "10827",
        "country": "DE",
    },
    {
        "name": "Edsger Dijkstra",
        "line1": "Rue de Rivoli 40",
        "city": "Paris",
        "postcode": "75004",
        "country": "FR",
    },
)


@dataclass(frozen=True, slots=True)
class Order:
    """One order to run, and how it is expected to end."""

    correlation_id: str
    scenario: str
    input: dict[str, Any]
    expect_status: str
    expect_reason: str | None = None
    """Text the failure reason must contain, for orders meant to fail."""
    expect_service: str | None = None
    """The service a failed order's ``failure`` must name: whom to call about it."""
    expect_undone: tuple[str, ...] = ()
    """The steps a compensated order must have undone, in the order they were undone."""


def _line(sku: str, qty: int) -> dict[str, Any]:
    """An order line as the inventory worker takes it."""
    return {"sku": sku, "qty": qty}


def _total(lines: Sequence[dict[str, Any]], prices: dict[str, float]) -> float:
    """What the order costs, rounded to cents as a payment API wants it."""
    return round(sum(prices[str(line["sku"])] * int(line["qty"]) for line in lines), 2)


_PRICES = {sku: price for sku, _, price in _CATALOG} | {"OUT-OF-STOCK": 19.99}


def _order(
    n: int, scenario: str, lines: list[dict[str, Any]], shipping_url: str, **expect: Any
) -> Order:
    return Order(
        correlation_id=f"order-{n}",
        scenario=scenario,
        input={
            "orderId": f"order-{n}",
            "items": lines,
            "amount": _total(lines, _PRICES),
            "currency": "EUR",
            "address": _CUSTOMERS[(n - 1) % len(_CUSTOMERS)],
            "shippingUrl": shipping_url,
        },
        **expect,
    )


def build_orders(happy: int, shipping_url: str) -> list[Order]:
    """``happy`` ordinary orders, then one with an out-of-stock item and one the card declines.

    Both failing orders end COMPENSATED, as every failed run of a saga does: the declined one
    gives its reserved stock back; the out-of-stock one failed at its first step, so there is
    nothing to undo.
    """
    orders: list[Order] = []
    for i in range(happy):
        first, second = _CATALOG[i % len(_CATALOG)], _CATALOG[(i + 2) % len(_CATALOG)]
        lines = [_line(first[0], 1 + i % 2), _line(second[0], 1)]
        orders.append(_order(i + 1, "happy", lines, shipping_url, expect_status="COMPLETED"))
    orders.append(
        _order(
            happy + 1,
            "out of stock",
            [_line("KB-104", 1), _line("OUT-OF-STOCK", 1)],
            shipping_url,
            expect_status="COMPENSATED",
            expect_reason="out of stock",
            expect_service="inventory",
        )
    )
    # 40 monitors come to 11,160 EUR: over the demo bank's 10,000 card limit.
    orders.append(
        _order(
            happy + 2,
            "card declined",
            [_line("MN-27Q", 40)],
            shipping_url,
            expect_status="COMPENSATED",
            expect_reason="card declined",
            expect_service="payment",
            expect_undone=("reserve",),
        )
    )
    return orders


def build_outage_orders(first: int, shipping_url: str) -> tuple[Order, Order]:
    """Two ordinary orders numbered from ``first``, for the shipping outage.

    The first is shipping when the outage starts and opens the breaker; the second arrives
    while it is open. Both must still ship in the end: an outage delays orders, it does not
    lose them.
    """
    opener = _order(
        first,
        "outage: opens breaker",
        [_line("HB-050", 1), _line("CB-002", 2)],
        shipping_url,
        expect_status="COMPLETED",
    )
    held = _order(
        first + 1,
        "outage: held",
        [_line("MS-220", 1)],
        shipping_url,
        expect_status="COMPLETED",
    )
    return opener, held


@dataclass(slots=True)
class Run:
    """An order once started: its workflow id and the last state the server reported."""

    order: Order
    workflow_id: str
    snapshot: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The run's status; STARTING until the server has been asked once."""
        return str(self.snapshot.get("status") or "STARTING")

    @property
    def finished(self) -> bool:
        """True once the run can change no more."""
        return self.status in TERMINAL_STATUSES

    @property
    def tasks(self) -> list[dict[str, Any]]:
        """The run's tasks as last reported, attempts included."""
        tasks = self.snapshot.get("tasks")
        return [t for t in tasks if isinstance(t, dict)] if isinstance(tasks, list) else []


def failure_reason(workflow: dict[str, Any]) -> str:
    """Why a run did not complete.

    The ``failure`` object's reason when there is one: it is the upstream error as it came
    (``card declined``), without the attribution that ``reasonForIncompletion`` appends.
    Otherwise the workflow's reason plus each failed task's own, because the workflow's may
    only say *which* task failed, while the task's says *why*.
    """
    failure = workflow.get("failure")
    if isinstance(failure, dict) and failure.get("reason"):
        return str(failure["reason"])
    reasons: list[str] = []
    top = workflow.get("reasonForIncompletion")
    if top:
        reasons.append(str(top))
    tasks = workflow.get("tasks")
    for task in tasks if isinstance(tasks, list) else []:
        if not isinstance(task, dict) or task.get("status") not in _FAILED_TASK_STATUSES:
            continue
        reason = task.get("reasonForIncompletion")
        if reason and not any(str(reason) in seen for seen in reasons):
            reasons.append(f"{task.get('referenceTaskName', '?')}: {reason}")
    return "; ".join(reasons) or "(no reason given)"


def undone_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    """The compensation record's steps (what was undone, in order); empty if none ran."""
    record = workflow.get("compensation")
    steps = record.get("steps") if isinstance(record, dict) else None
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _check_failure(order: Order, workflow: dict[str, Any]) -> str | None:
    reason = failure_reason(workflow)
    if order.expect_reason and order.expect_reason.lower() not in reason.lower():
        return f"failed for another reason: {reason} (expected {order.expect_reason!r})"
    failure = workflow.get("failure")
    service = failure.get("service") if isinstance(failure, dict) else None
    if order.expect_service and service != order.expect_service:
        return f"the failure names service {service!r}, expected {order.expect_service!r}"
    if order.expect_service and not (isinstance(failure, dict) and failure.get("owner")):
        return f"the failure names no owner for service {service!r}"
    if workflow.get("status") in ("COMPENSATED", "COMPENSATION_FAILED"):
        steps = undone_steps(workflow)
        undone = tuple(str(s.get("referenceTaskName")) for s in steps)
        if undone != order.expect_undone:
            return f"undid {list(undone)}, expected {list(order.expect_undone)}"
        not_done = [s for s in steps if s.get("status") != "COMPLETED"]
        if not_done:
            return f"compensation {not_done[0].get('name')} ended {not_done[0].get('status')}"
    return None


def check_outcome(order: Order, workflow: dict[str, Any]) -> str | None:
    """``None`` when the run ended as ``order`` expects, otherwise what went differently."""
    status = workflow.get("status") or "unknown"
    if status not in TERMINAL_STATUSES:
        return f"still {status} when the demo gave up waiting"
    if status != order.expect_status:
        detail = f" ({failure_reason(workflow)})" if status != "COMPLETED" else ""
        return f"ended {status}, expected {order.expect_status}{detail}"
    if status == "COMPLETED":
        output = workflow.get("output")
        if not isinstance(output, dict) or not output.get("trackingNumber"):
            return f"completed without a tracking number (output: {json.dumps(output)})"
        return None
    return _check_failure(order, workflow)
