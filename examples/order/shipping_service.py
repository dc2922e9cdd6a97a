"""The shipping service of the order demo: a small HTTP API that Podium calls from an HTTP task.

Run it on its own::

    python -m examples.order.shipping_service --port 8090

``POST /shipments`` with ``{"orderId", "address", "items"}`` books a shipment and answers
201 ``{"trackingNumber", "carrier", "eta", ...}``; booking the same order again answers 200
with the same shipment, so a retried HTTP task never ships twice. A request without an
address is refused with 422 and a message saying so.

To show what Podium does when a service goes down, the service has an outage switch:
``POST /admin/outage`` ``{"down": true}`` makes every booking answer 503 until
``{"down": false}``. ``GET /admin/calls`` lists every booking request received, in order,
with the status it got and when (``at``, epoch ms), so that one can tell whether and when
a call was made.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import logging
import time
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

__all__ = ["Outage", "ShipmentRequest", "create_app", "main"]

log = logging.getLogger("shipping")

_CARRIERS = ("DHL", "UPS", "PostNL", "DPD")


class ShipmentRequest(BaseModel):
    """A shipment to book. Fields are optional here so that a missing one gets our own message."""

    orderId: str | None = None
    address: dict[str, Any] | str | None = None
    items: list[dict[str, Any]] = Field(default_factory=list)


class Outage(BaseModel):
    """The outage switch: ``down`` true makes the service refuse every booking with 503."""

    down: bool


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
    calls: list[dict[str, Any]] = []
    outage = Outage(down=False)

    @app.get("/health")
    def health() -> dict[str, str]:
        """Liveness: the demo waits for this before it starts any order."""
        return {"status": "UP"}

    @app.post("/admin/outage")
    def set_outage(switch: Outage) -> dict[str, Any]:
        """Take the service down (every booking answers 503) or bring it back."""
        if switch.down != outage.down:
            log.warning("outage switch: service %s", "DOWN" if switch.down else "back UP")
        outage.down = switch.down
        return {"down": outage.down}

    @app.get("/admin/calls")
    def list_calls() -> list[dict[str, Any]]:
        """Every booking request received so far, oldest first, with the status it was given."""
        return calls

    @app.post("/shipments", status_code=201, response_model=None)
    def create_shipment(
        request: ShipmentRequest, x_order: Annotated[str | None, Header()] = None
    ) -> JSONResponse | dict[str, Any]:
        """Book a shipment; 200 with the existing one if the order was already booked."""
        # ``at`` in epoch ms, as Podium stamps its breaker transitions, so the two compare.
        call: dict[str, Any] = {
            "orderId": request.orderId,
            "status": 201,
            "at": int(time.time() * 1000),
        }
        calls.append(call)
        if outage.down:
            call["status"] = 503
            log.warning("order %s: refused, the service is down", request.orderId)
            return JSONResponse(
                status_code=503,
                content={"error": "unavailable", "message": "shipping is down (outage switch on)"},
                headers={"Retry-After": "5"},
            )
        response = _book_or_refuse(request, x_order)
        if isinstance(response, JSONResponse):
            call["status"] = response.status_code
        return response

    def _book_or_refuse(
        request: ShipmentRequest, x_order: str | None
    ) -> JSONResponse | dict[str, Any]:
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
