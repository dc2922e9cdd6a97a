"""The Python builder produces the same definitions as hand-written Conductor JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from podium.dsl.builder import (
    Workflow,
    fork_join,
    http,
    output_of,
    set_variable,
    simple,
    sub_workflow,
    switch,
    terminate,
    variable,
    wait,
    workflow_input,
)
from podium.dsl.models import WorkflowDef
from podium.errors import DefinitionError

ORDER_JSON = Path(__file__).resolve().parents[2] / "examples" / "order" / "order_workflow.json"


def _compensated(step: dict[str, Any], compensation: dict[str, Any]) -> dict[str, Any]:
    """A step with its compensation: Conductor's builder has no word for it, so it is added."""
    return {**step, "compensation": compensation}


def _order_flow() -> Workflow:
    return (
        Workflow(
            "order_fulfilment",
            description=(
                "Reserve inventory, charge payment, then book the shipment with the shipping "
                "service; a failed order gives its reserved stock back."
            ),
            owner_email="orders-team@example.com",
            timeout_seconds=300,
        )
        .inputs("orderId", "items", "amount", "currency", "address", "shippingUrl")
        .add(
            _compensated(
                simple(
                    "reserve_inventory",
                    "reserve",
                    order_id=workflow_input("orderId"),
                    items=workflow_input("items"),
                ),
                {
                    "name": "release_inventory",
                    "inputParameters": {
                        "reservation_id": output_of("reserve", "reservationId"),
                        "order_id": "${compensated.input.order_id}",
                        "items": output_of("reserve", "items"),
                    },
                },
            ),
            simple(
                "charge_payment",
                "charge",
                order_id=workflow_input("orderId"),
                amount=workflow_input("amount"),
                currency=workflow_input("currency"),
            ),
            http(
                "ship",
                name="ship_order",
                uri=f"{workflow_input('shippingUrl')}/shipments",
                method="POST",
                headers={"X-Order": workflow_input("orderId")},
                body={
                    "orderId": workflow_input("orderId"),
                    "address": workflow_input("address"),
                    "items": output_of("reserve", "items"),
                },
                connect_timeout_ms=2000,
                read_timeout_ms=5000,
            )
            | {"service": "shipping"},
        )
        .output(
            reservationId=output_of("reserve", "reservationId"),
            paymentId=output_of("charge", "paymentId"),
            trackingNumber=output_of("ship", "response.body.trackingNumber"),
            carrier=output_of("ship", "response.body.carrier"),
            eta=output_of("ship", "response.body.eta"),
        )
    )


def test_builder_reproduces_the_order_workflow_json():
    written = json.loads(ORDER_JSON.read_text())["workflows"][0]
    assert _order_flow().build().to_json() == WorkflowDef.model_validate(written).to_json()


def test_every_step_kind_builds_a_valid_definition():
    flow = Workflow("kinds").add(
        simple("a"),
        switch(
            "route",
            output_of("a", "kind"),
            {"x": [set_variable("sx", lane="x")]},
            [set_variable("sd", lane="d")],
        ),
        switch(
            "size",
            output_of("a", "n"),
            {"big": [wait("pause", duration="1s")]},
            javascript="$.value > 3 ? 'big' : 'small'",
        ),
        fork_join("fan", [[simple("b", "b1")], [simple("b", "b2")]]),
        sub_workflow("child", "other", version=2, x=variable("lane")),
        wait("signal"),
        terminate("end", "COMPLETED", output={"done": True}),
    )
    definition = flow.build()
    kinds = [t.type for t in definition.tasks]
    assert kinds == [
        "SIMPLE",
        "SWITCH",
        "SWITCH",
        "FORK_JOIN",
        "JOIN",
        "SUB_WORKFLOW",
        "WAIT",
        "TERMINATE",
    ]
    assert definition.tasks[4].joinOn == ["b1", "b2"]
    assert definition.tasks[5].subWorkflowParam is not None
    assert definition.tasks[5].subWorkflowParam.version == 2


def test_build_rejects_what_registration_would():
    with pytest.raises(DefinitionError, match="ghost"):
        Workflow("bad").add(simple("a", x=output_of("ghost", "x"))).build()
