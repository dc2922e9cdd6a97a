"""The inventory and payment services of the order demo, as Podium SIMPLE task workers.

Run them with the Podium CLI, which serves every ``@worker_task`` function in this module::

    podium worker examples.order.workers --server http://127.0.0.1:8080

Both handlers are deterministic: every id is derived from the order id, so a step that Podium
retries (after a lost lease, say) gives the same reservation or payment id again instead of a
second one. A real service would get the same effect from an idempotency key.

``release_inventory`` is the compensation of ``reserve_inventory``: when an order fails after
its items were reserved (the card is declined, say), Podium runs it to give the stock back.
"""

# No ``from __future__ import annotations`` here: the worker SDK fills parameters by name and
# may read their annotations at run time, so they are kept as real types, not strings.

import hashlib
import threading
import time
from typing import Any

from podium.worker import TaskFailedError, worker_task

__all__ = ["charge_payment", "release_inventory", "reserve_inventory"]

OUT_OF_STOCK_SKU = "OUT-OF-STOCK"
"""The one SKU the demo warehouse never has, so that a run can fail on purpose."""

CARD_LIMIT = 10_000
"""Charges above this amount are declined (in any currency: this is a demo bank)."""

_WAREHOUSES = ("AMS-1", "FRA-2", "DUB-1")

# The demo warehouse's book of released reservations. It lives in the worker process, which is
# enough for a demo; a real inventory service keeps it in its database, next to the stock.
_released: dict[str, dict[str, Any]] = {}
_released_lock = threading.Lock()


def _digest(*parts: str) -> str:
    """A stable hex digest of ``parts``: the same inputs give the same ids on every retry."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _quantity(item: dict[str, Any]) -> int:
    """The item's positive quantity; a malformed one is the caller's error, not worth a retry."""
    raw = item.get("qty", 1)
    if isinstance(raw, bool):
        raise TaskFailedError(
            f"invalid quantity for {item.get('sku')}: {raw!r}", non_retryable=True
        )
    try:
        qty = int(raw)
    except (TypeError, ValueError):
        raise TaskFailedError(
            f"invalid quantity for {item.get('sku')}: {raw!r}", non_retryable=True
        ) from None
    if qty < 1:
        raise TaskFailedError(f"invalid quantity for {item.get('sku')}: {qty}", non_retryable=True)
    return qty


@worker_task("reserve_inventory")
def reserve_inventory(order_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Reserve every item of the order in a warehouse.

    Returns ``{"reservationId", "orderId", "items"}`` where each item also names the warehouse
    it is reserved in. Fails for good (no retry can help) when an item is out of stock or the
    order is malformed.
    """
    if not order_id:
        raise TaskFailedError("missing order id", non_retryable=True)
    if not items:
        raise TaskFailedError(f"order {order_id} has no items", non_retryable=True)
    reserved: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict) or not str(item.get("sku") or "").strip():
            raise TaskFailedError(f"invalid item: {item!r}", non_retryable=True)
        sku = str(item["sku"]).strip()
        if sku == OUT_OF_STOCK_SKU:
            raise TaskFailedError(f"out of stock: {sku}", non_retryable=True)
        # The warehouse depends only on the SKU, as a real stock lookup would.
        warehouse = _WAREHOUSES[int(_digest("warehouse", sku)[:8], 16) % len(_WAREHOUSES)]
        reserved.append({"sku": sku, "qty": _quantity(item), "warehouse": warehouse})
    return {
        "reservationId": "rsv_" + _digest("reserve", order_id)[:16],
        "orderId": order_id,
        "items": reserved,
    }


@worker_task("charge_payment", concurrency=4)
def charge_payment(order_id: str, amount: float, currency: str) -> dict[str, Any]:
    """Charge the customer's card for the order.

    Returns ``{"paymentId", "orderId", "amount", "currency", "status"}``. A charge above
    :data:`CARD_LIMIT` is declined, and a declined card is not retried: asking again gives
    the same answer.
    """
    digest = _digest("charge", order_id)
    # A payment gateway is never instant; 20-80 ms, fixed per order so that runs are repeatable.
    time.sleep((20 + int(digest[:4], 16) % 61) / 1000)
    if not order_id:
        raise TaskFailedError("missing order id", non_retryable=True)
    if isinstance(amount, bool):
        raise TaskFailedError(f"invalid amount: {amount!r}", non_retryable=True)
    try:
        value = round(float(amount), 2)
    except (TypeError, ValueError):
        raise TaskFailedError(f"invalid amount: {amount!r}", non_retryable=True) from None
    if value <= 0:
        raise TaskFailedError(f"invalid amount: {amount!r}", non_retryable=True)
    code = str(currency or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise TaskFailedError(f"invalid currency: {currency!r}", non_retryable=True)
    if value > CARD_LIMIT:
        raise TaskFailedError(
            "card declined", non_retryable=True, output={"errorCode": "CARD_DECLINED"}
        )
    return {
        "paymentId": "pay_" + digest[:16],
        "orderId": order_id,
        "amount": value,
        "currency": code,
        "status": "CAPTURED",
    }


@worker_task("release_inventory")
def release_inventory(
    reservation_id: str, order_id: str, items: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Give back the stock of a reservation: the compensation of ``reserve_inventory``.

    Returns ``{"reservationId", "orderId", "items", "released", "alreadyReleased"}``. Releasing
    a reservation twice (a retried compensation whose first result was lost) changes nothing
    and answers ``alreadyReleased: true``, so the stock is given back exactly once.
    """
    if not reservation_id:
        # Nothing was reserved, so there is nothing to give back; retrying cannot change that.
        raise TaskFailedError(
            f"no reservation id to release for order {order_id}", non_retryable=True
        )
    # Handlers of one type may run in several threads at once: check-and-record is one step.
    with _released_lock:
        earlier = _released.get(reservation_id)
        if earlier is not None:
            return {**earlier, "alreadyReleased": True}
        released = [
            (str(item.get("sku")), int(item.get("qty", 1)))
            for item in items or []
            if isinstance(item, dict)
        ]
        result: dict[str, Any] = {
            "reservationId": reservation_id,
            "orderId": order_id,
            "items": [{"sku": sku, "qty": qty} for sku, qty in released],
            "released": sum(qty for _, qty in released),
            "alreadyReleased": False,
        }
        _released[reservation_id] = result
    # The worker's log is where the demo (and its test) see each release happen once.
    print(f"inventory: released {reservation_id} of {order_id} ({result['released']} units)")
    return result
