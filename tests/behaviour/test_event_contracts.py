"""Events published through the API are held to their event type's contract."""

from __future__ import annotations

SHIPPED = {
    "kind": "event",
    "name": "order.shipped",
    "version": "1.0.0",
    "service": "shipping",
    "payload": {
        "type": "object",
        "required": ["orderId", "carrier"],
        "properties": {"orderId": {"type": "string"}, "carrier": {"type": "string"}},
    },
}


def test_a_payload_that_breaks_its_event_contract_is_refused_and_not_stored(api):
    assert api.post("/api/contracts", json=SHIPPED).status_code == 200
    bad = {"id": "e-1", "type": "order.shipped", "source": "shipping", "payload": {"orderId": 7}}
    refused = api.post("/api/events/orders", json=bad)
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert "event contract 'order.shipped' v1.0.0" in body["message"]
    assert "produced by service shipping" in body["message"]
    assert body["field"] in ("payload.orderId", "payload.carrier"), body
    assert api.get("/api/events/id/e-1").status_code == 404

    good = {**bad, "payload": {"orderId": "o-7", "carrier": "podium-post"}}
    assert api.post("/api/events/orders", json=good).status_code == 200
    assert api.get("/api/events/id/e-1").status_code == 200


def test_event_types_without_a_contract_are_not_checked(api):
    loose = {"type": "order.packed", "payload": {"anything": [1, 2, 3]}}
    assert api.post("/api/events/orders", json=loose).status_code == 200
