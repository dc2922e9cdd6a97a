"""The order demo's two scenarios: a batch of orders, then an outage of the shipping service.

The batch shows orders shipping, and failed orders compensated: the declined card gives its
reserved stock back. The outage shows the shipping service's circuit breaker: two failed
bookings open it, the next order's shipment is held (the service is not called at all) while
it is open, and once the service is back the breaker lets a trial call through, closes, and
the held order ships.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from rich.console import Console
from rich.text import Text

from examples.order.api import (
    WORKFLOW_NAME,
    WORKFLOW_VERSION,
    get_service,
    refresh,
    set_outage,
    shipping_calls,
    start_order,
)
from examples.order.orders import Order, Run, build_outage_orders
from examples.order.processes import Children
from examples.order.report import watch

__all__ = ["Demo", "run_orders", "run_outage"]

T = TypeVar("T")

SHIPPING = "shipping"
_HOLD_S = 1.0
"""How long the held order is watched: ample for a call to be made, were the breaker to allow it."""


@dataclass(slots=True)
class Demo:
    """What both scenarios work with: the clients, the running services, where to print."""

    client: httpx.Client
    api: str
    shipping_url: str
    children: Children
    console: Console
    timeout: float

    def refresh(self, run: Run) -> None:
        refresh(self.client, self.api, run)

    def breaker(self) -> dict[str, Any]:
        """The shipping service's breaker as ``GET /api/services/shipping`` shows it."""
        breaker = get_service(self.client, self.api, SHIPPING).get("breaker")
        return breaker if isinstance(breaker, dict) else {}

    def wait_for(self, what: Callable[[], T | None], timeout: float) -> T | None:
        """Poll ``what`` until it returns something other than ``None``, or give up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.children.check_alive()
            found = what()
            if found is not None:
                return found
            time.sleep(0.1)
        return None


def run_orders(demo: Demo, orders: list[Order]) -> list[Run]:
    """Start every order at once and show them live until they have all ended."""
    runs = [start_order(demo.client, demo.api, order) for order in orders]
    demo.console.print()
    watch(
        runs,
        demo.refresh,
        demo.children.check_alive,
        demo.console,
        f"{WORKFLOW_NAME} v{WORKFLOW_VERSION}",
        demo.timeout,
    )
    return runs


def _since(at: Any, start_ms: int) -> str:
    return f"+{(int(at) - start_ms) / 1000:.1f} s" if isinstance(at, int) else "?"


def _transitions(breaker: dict[str, Any], start_ms: int) -> list[dict[str, Any]]:
    """The breaker's transitions since ``start_ms``, oldest first (the API gives newest first)."""
    found = breaker.get("transitions")
    items = [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []
    return sorted(
        (t for t in items if isinstance(t.get("at"), int) and t["at"] >= start_ms),
        key=lambda t: int(t["at"]),
    )


def _ship_scheduled(demo: Demo, run: Run) -> bool | None:
    demo.refresh(run)
    return True if any(t.get("referenceTaskName") == "ship" for t in run.tasks) else None


def _check_recovery(demo: Demo, held: Run, start_ms: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Did the breaker close again, and did the held order ship only once it let calls through?"""
    problems: list[str] = []
    closed = demo.wait_for(
        lambda: demo.breaker() if demo.breaker().get("state") == "CLOSED" else None, 5.0
    )
    breaker = closed or demo.breaker()
    transitions = _transitions(breaker, start_ms)
    path = [(t.get("from"), t.get("to")) for t in transitions]
    expected = [("CLOSED", "OPEN"), ("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED")]
    if closed is None or path[-3:] != expected:
        problems.append(f"the shipping breaker went {path}, expected {expected} ending CLOSED")
    half_opened = next((t["at"] for t in transitions if t.get("to") == "HALF_OPEN"), None)
    calls = [
        c
        for c in shipping_calls(demo.client, demo.shipping_url)
        if c.get("orderId") == held.order.correlation_id
    ]
    if [c.get("status") for c in calls] != [201]:
        problems.append(
            f"{held.order.correlation_id} should have been booked once, got calls {calls}"
        )
    elif half_opened is None or int(calls[0]["at"]) < int(half_opened):
        problems.append(
            f"{held.order.correlation_id} was shipped before the breaker let calls through"
        )
    else:
        demo.console.print(
            f"  {held.order.correlation_id} shipped at {_since(calls[0]['at'], start_ms)}: "
            f"its one call to shipping came after the breaker half-opened"
        )
    return problems, transitions


def run_outage(demo: Demo, first: int) -> tuple[list[Run], list[str]]:
    """Take shipping down, open its breaker, hold an order, bring shipping back, ship it.

    Returns the two runs and what did not go as expected (empty when all did).
    """
    console = demo.console
    opener_order, held_order = build_outage_orders(first, demo.shipping_url)
    problems: list[str] = []
    console.print()
    console.print(Text("Shipping outage", style="bold"))
    start_ms = int(time.time() * 1000)
    set_outage(demo.client, demo.shipping_url, down=True)
    console.print("▸ outage switch on: the shipping service answers 503 to every booking")
    opener = start_order(demo.client, demo.api, opener_order)
    console.print(f"▸ started {opener_order.correlation_id}; its shipment fails and is retried")

    opened = demo.wait_for(
        lambda: demo.breaker() if demo.breaker().get("state") == "OPEN" else None, demo.timeout
    )
    held = start_order(demo.client, demo.api, held_order)
    if opened is None:
        problems.append("the shipping breaker did not open during the outage")
    else:
        last = _transitions(opened, start_ms)[-1:]
        why = last[0].get("reason", "?") if last else "?"
        console.print(
            f"  GET /api/services/shipping → breaker {opened['state']} at "
            f"{_since(opened.get('openedAt'), start_ms)}: {why}"
        )
        console.print(
            f"  half-opens at {_since(opened.get('halfOpensAt'), start_ms)} "
            f"(openSeconds {opened.get('config', {}).get('openSeconds')})"
        )
        console.print(f"▸ started {held_order.correlation_id} while the breaker is open")
        problems += _check_held(demo, held)

    set_outage(demo.client, demo.shipping_url, down=False)
    console.print(
        "▸ outage switch off: once open for openSeconds, the breaker lets one trial call through"
    )
    runs = [opener, held]
    watch(
        runs,
        demo.refresh,
        demo.children.check_alive,
        console,
        f"{WORKFLOW_NAME} v{WORKFLOW_VERSION}: shipping outage",
        demo.timeout,
    )
    recovery, transitions = _check_recovery(demo, held, start_ms)
    problems += recovery
    console.print("  shipping breaker transitions (GET /api/services/shipping):")
    for t in transitions:
        console.print(
            f"    {_since(t.get('at'), start_ms):>8}  {t.get('from')} → {t.get('to')}: {t.get('reason')}"
        )
    return runs, problems


def _check_held(demo: Demo, held: Run) -> list[str]:
    """The order that arrives while the breaker is open must wait at ship without a call."""
    name = held.order.correlation_id
    if demo.wait_for(lambda: _ship_scheduled(demo, held), demo.timeout) is None:
        return [f"{name} did not reach its ship step"]
    time.sleep(_HOLD_S)
    demo.refresh(held)
    state = demo.breaker().get("state")
    calls = [c for c in shipping_calls(demo.client, demo.shipping_url) if c.get("orderId") == name]
    ship = [t for t in held.tasks if t.get("referenceTaskName") == "ship"]
    status = ship[-1].get("status") if ship else None
    if calls:
        return [f"{name}'s shipment was called while the breaker was {state}: {calls}"]
    if state != "OPEN" or status != "SCHEDULED":
        return [f"{name} was not seen held: breaker {state}, ship task {status}"]
    demo.console.print(
        f"  {name} reached ship and is held: task SCHEDULED, breaker OPEN, "
        f"0 calls to the shipping service after {_HOLD_S:g} s"
    )
    return []
