"""The orchestrated half of the hybrid order flow: the warehouse and shipping workers.

``podium worker examples.events.workers`` serves both.
"""

# No ``from __future__ import annotations``: the worker SDK reads parameter annotations.

import hashlib
from typing import Any

from podium.worker import TaskFailedError, worker_task

__all__ = ["pack_order", "ship_order"]

OUT_OF_STOCK = "OUT-OF-STOCK"


@worker_task("pack_order")
def pack_order(orderId: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Pack the order's items into one parcel; an out-of-stock item fails the order."""
    for item in items:
        if item.get("sku") == OUT_OF_STOCK:
            raise TaskFailedError(f"{OUT_OF_STOCK} is not in stock", non_retryable=True)
    return {"parcel": f"P-{orderId}", "items": len(items)}


@worker_task("ship_order")
def ship_order(orderId: str, parcel: str) -> dict[str, Any]:
    """Hand the parcel to the carrier; the tracking number is derived, so a retry repeats it."""
    digest = hashlib.sha256(f"{orderId}/{parcel}".encode()).hexdigest()[:10].upper()
    return {"trackingNumber": f"TRK-{digest}"}
