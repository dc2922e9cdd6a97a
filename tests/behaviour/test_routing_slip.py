"""ROUTING_SLIP end to end: an itinerary from the workflow input, run by polling workers."""

from __future__ import annotations

from typing import Any

from tests.behaviour.helpers import complete, poll, register, run, start, task_of, wait_status

TRIP = {
    "name": "trip",
    "version": 1,
    "tasks": [
        {
            "name": "route",
            "taskReferenceName": "route",
            "type": "ROUTING_SLIP",
            "inputParameters": {"itinerary": "${workflow.input.itinerary}"},
        }
    ],
    "outputParameters": {"results": "${route.output.results}"},
}
DEFS = [
    {"name": name, "retryCount": 0, "retryDelaySeconds": 0}
    for name in ("flight", "hotel", "car", "insurance", "cancel_flight", "cancel_hotel")
]


def _leg(name: str, undo: str | None = None, **params: Any) -> dict[str, Any]:
    leg: dict[str, Any] = {"name": name, "inputParameters": params}
    if undo:
        leg["compensation"] = {
            "name": undo,
            "inputParameters": {"booking": "${compensated.output.booking}"},
        }
    return leg


def _do(api, kind: str, output: dict[str, Any] | None = None, status: str = "COMPLETED"):
    [task] = poll(api, kind)
    assert complete(api, task, output, status=status, reason="sold out").status_code == 200
    return task


def test_a_step_output_amends_the_rest_of_the_itinerary(api):
    register(api, TRIP, DEFS)
    itinerary = [
        _leg("flight", to="${workflow.input.city}"),
        _leg("hotel", near="${flight.output.airport}"),
    ]
    run_id = start(api, "trip", {"itinerary": itinerary, "city": "Lisbon"})
    flight = _do(api, "flight", {"airport": "LIS", "addSteps": [_leg("car", at="LIS")]})
    assert flight["inputData"] == {"to": "Lisbon"}
    hotel = _do(api, "hotel", {"itinerary": [_leg("insurance")]})  # replaces the car
    assert hotel["inputData"] == {"near": "LIS"}
    assert poll(api, "car", timeout_ms=0) == []
    _do(api, "insurance", {"policy": 7})

    body = wait_status(api, run_id)
    assert body["status"] == "COMPLETED"
    assert list(body["output"]["results"]) == ["flight", "hotel", "insurance"]
    route = task_of(body, "route")["outputData"]
    assert [s["name"] for s in route["steps"]] == ["flight", "hotel", "insurance"]
    assert [t["referenceTaskName"] for t in body["tasks"]] == [
        "route",
        "flight",
        "hotel",
        "insurance",
    ]


def test_a_failed_step_compensates_the_slips_completed_steps(api):
    register(api, TRIP, DEFS)
    itinerary = [
        _leg("flight", "cancel_flight"),
        _leg("insurance"),
        _leg("hotel", "cancel_hotel"),
        _leg("car"),
    ]
    run_id = start(api, "trip", {"itinerary": itinerary})
    _do(api, "flight", {"booking": "F-1"})
    _do(api, "insurance")
    _do(api, "hotel", {"booking": "H-1"})
    _do(api, "car", status="FAILED")
    assert run(api, run_id)["status"] == "COMPENSATING"

    cancel_hotel = _do(api, "cancel_hotel")
    assert cancel_hotel["inputData"] == {"booking": "H-1"}
    assert cancel_hotel["idempotencyKey"] == f"{run_id}:compensate:hotel"
    cancel_flight = _do(api, "cancel_flight")
    assert cancel_flight["inputData"] == {"booking": "F-1"}

    body = wait_status(api, run_id)
    assert body["status"] == "COMPENSATED"
    # The upstream reason first, then whom to call (here: nobody is named for 'car').
    assert body["reasonForIncompletion"].startswith("task 'car' (car) FAILED: sold out [")
    record = body["compensation"]
    assert [s["referenceTaskName"] for s in record["steps"]] == ["hotel", "flight"]
    assert record["notCompensated"] == ["insurance"]


def test_a_bad_itinerary_ends_the_run_naming_the_step(api):
    register(api, TRIP, DEFS)
    run_id = start(api, "trip", {"itinerary": [{"name": "flight", "type": "DO_WHILE"}]})
    body = wait_status(api, run_id)
    assert body["status"] == "COMPENSATED"  # a slip makes the run a saga; nothing to undo
    assert (
        "ROUTING_SLIP 'route': step 0 ('flight') has type DO_WHILE"
        in (body["reasonForIncompletion"])
    )
