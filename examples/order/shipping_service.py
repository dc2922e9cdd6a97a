"""The shipping service of the order demo: a small HTTP API that Podium calls from an HTTP task.

Run it on its own::

    python -m examples.order.shipping_service --port 8090

``POST /shipments`` with ``{"orderId", "address", "items"}`` books a shipment and answers
201 ``{"trackingNumber", "carrier", "eta", ...}``; booking the same order again answers 200
with the same shipment, so a retried HTTP task never ships twice. A request without an
address is refused with 422 and a message saying so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import logging
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

__all__ = ["ShipmentRequest", "create_app", "main"]

log = logging.getLogger("shipping")

_CARRIERS = ("DHL", "UPS", "PostNL", "DPD")


class ShipmentRequest(BaseModel):
    """A shipment to book. Fields are optional here so that a missing one gets our own message."""

    orderId: str | None = None
    address: dict[str, Any] | str | None = None
    items: list[dict[str, Any]] = Field(default_factory=list)


def _unprocessable(field: str, message: str) -> JSONResponse:
    """A 422 that a person can read, and that Podium's HTTP task keeps as the response body."""
    return JSONResponse(
        status_code=422, content={"error": "invalid_shipment", "field": field, "message": message}
    )


def _is_blank(address: dict[str, Any] | str | None) -> bool:
    if address is None:
        return True
    if isinstance(address, str):
        return not address.strip()
    return not any(str(v).strip() for v in address.values() if v is not None)


def _book(order_id: str, items: list[dict[str, Any]], today: dt.date) -> dict[str, Any]:
    """The shipment for ``order_id``: derived from the id, so every booking of it is the same."""
    digest = hashlib.sha256(f"ship\x1f{order_id}".encode()).hexdigest()
    carrier = _CARRIERS[int(digest[:4], 16) % len(_CARRIERS)]
    days = 2 + int(digest[4:8], 16) % 4
    return {
        "trackingNumber": f"{carrier[:2].upper()}{int(digest[8:20], 16) % 10**10:010d}",
        "carrier": carrier,
        "eta": (today + dt.timedelta(days=days)).isoformat(),
        "orderId": order_id,
        "parcels": max(1, len(items)),
    }


def create_app() -> FastAPI:
    """A fresh shipping service with its own (in-memory) shipment book."""
    app = FastAPI(
        title="Shipping service (Podium order demo)",
        description="Books shipments for the order demo; called by Podium's HTTP task.",
        version="1.0.0",
    )
    shipments: dict[str, dict[str, Any]] = {}

    @app.get("/health")
    def health() -> dict[str, str]:
        """Liveness: the demo waits for this before it starts any order."""
        return {"status": "UP"}

    @app.post("/shipments", status_code=201, response_model=None)
    def create_shipment(
        request: ShipmentRequest, x_order: Annotated[str | None, Header()] = None
    ) -> JSONResponse | dict[str, Any]:
        """Book a shipment; 200 with the existing one if the order was already booked."""
        if not request.orderId or not request.orderId.strip():
            return _unprocessable("orderId", "orderId is required")
        if _is_blank(request.address):
            return _unprocessable("address", f"address is required to ship order {request.orderId}")
        order_id = request.orderId.strip()
        if x_order is not None and x_order != order_id:
            # Podium sends the order id in a header too; a mismatch means a wiring mistake.
            log.warning("X-Order header %r does not match orderId %r", x_order, order_id)
        existing = shipments.get(order_id)
        if existing is not None:
            log.info("order %s already booked: %s", order_id, existing["trackingNumber"])
            return JSONResponse(status_code=200, content=existing)
        shipment = _book(order_id, request.items, dt.datetime.now(dt.UTC).date())
        shipments[order_id] = shipment
        log.info(
            "booked order %s with %s: %s (eta %s)",
            order_id,
            shipment["carrier"],
            shipment["trackingNumber"],
            shipment["eta"],
        )
        return shipment

    return app


app = create_app()
"""The app ``uvicorn examples.order.shipping_service:app`` serves."""


def main(argv: list[str] | None = None) -> None:
    """Serve the shipping API until interrupted."""
    parser = argparse.ArgumentParser(description="The order demo's shipping service.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
