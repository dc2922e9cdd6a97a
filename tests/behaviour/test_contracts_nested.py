"""Contract checks at registration reach every step, however deep it sits: inside a DO_WHILE, a
fork's branch, a switch's case or default, an inline sub-workflow, and a step's compensation;
and a ``${ref.output['a-b']}`` path is the key ``a-b`` to the checks as it is to the run."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.behaviour.helpers import complete, poll, register, start, wait_status
from tests.behaviour.test_contracts import CHARGE, RESERVE, task_defs

QUOTE = {
    "kind": "task",
    "name": "quote_price",
    "version": "1.0.0",
    "service": "pricing",
    "output": {
        "type": "object",
        "properties": {"unit-price": {"type": "number"}, "label": {"type": "string"}},
        "additionalProperties": False,
    },
}
QUOTE_DEF = {"name": "quote_price", "retryCount": 0, "outputSchema": {"name": "quote_price"}}

RESERVE_STEP = {
    "name": "reserve_inventory",
    "taskReferenceName": "reserve",
    "inputParameters": {"sku": "${workflow.input.sku}"},
}
# A string where charge_payment's input contract wants a number.
BAD_CHARGE = {
    "name": "charge_payment",
    "taskReferenceName": "charge",
    "inputParameters": {"amount": "${reserve.output.reservation_id}"},
}
MISFIT = (
    "inputParameters.amount (task 'charge'): '${reserve.output.reservation_id}' gives string, "
    "but input contract 'charge_payment' v1.2.0 wants number here"
)


@pytest.fixture
def contracts(api):
    response = api.post("/api/contracts", json=[RESERVE, CHARGE, QUOTE])
    assert response.status_code == 200, response.text
    response = api.post("/api/metadata/taskdefs", json=[*task_defs(), QUOTE_DEF])
    assert response.status_code == 200, response.text
    return api


def loop(*body: dict[str, Any], ref: str = "again") -> dict[str, Any]:
    return {
        "name": ref,
        "taskReferenceName": ref,
        "type": "DO_WHILE",
        "loopCondition": f"$.{ref}['iteration'] < 2",
        "loopOver": list(body),
    }


def fork(*branch: dict[str, Any]) -> list[dict[str, Any]]:
    joined = branch[-1]["taskReferenceName"]
    return [
        {
            "name": "fan",
            "taskReferenceName": "fan",
            "type": "FORK_JOIN",
            "forkTasks": [list(branch)],
        },
        {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": [joined]},
    ]


def switch(case: list[dict[str, Any]], default: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "route",
        "taskReferenceName": "route",
        "type": "SWITCH",
        "evaluatorType": "value-param",
        "expression": "kind",
        "inputParameters": {"kind": "${workflow.input.kind}"},
        "decisionCases": {"card": case},
        "defaultCase": default,
    }


def inline(*tasks: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "child",
        "taskReferenceName": "child",
        "type": "SUB_WORKFLOW",
        "subWorkflowParam": {"workflowDefinition": {"name": "inner", "tasks": list(tasks)}},
    }


PLACES = {
    "top level": ([RESERVE_STEP, BAD_CHARGE], "tasks[1]."),
    "DO_WHILE body": ([RESERVE_STEP, loop(BAD_CHARGE)], "tasks[1].loopOver[0]."),
    "fork branch": ([RESERVE_STEP, *fork(BAD_CHARGE)], "tasks[1].forkTasks[0][0]."),
    "switch case": ([RESERVE_STEP, switch([BAD_CHARGE], [])], "tasks[1].decisionCases.card[0]."),
    "switch default": ([RESERVE_STEP, switch([], [BAD_CHARGE])], "tasks[1].defaultCase[0]."),
    "fork in a loop": (
        [RESERVE_STEP, loop(*fork(BAD_CHARGE))],
        "tasks[1].loopOver[0].forkTasks[0][0].",
    ),
    "inline sub-workflow": (
        [inline(RESERVE_STEP, BAD_CHARGE)],
        "tasks[0].subWorkflowParam.workflowDefinition.tasks[1].",
    ),
}


@pytest.mark.parametrize("place", list(PLACES))
def test_a_step_that_breaks_its_contract_is_refused_wherever_it_sits(contracts, place):
    tasks, path = PLACES[place]
    definition = {"name": "nested", "version": 1, "tasks": copy.deepcopy(tasks)}
    for url in ("/api/metadata/workflow", "/api/metadata/workflow/validate"):
        response = contracts.post(url, json=definition)
        assert response.status_code == 400, response.text
        assert path + MISFIT in response.json()["message"]
    assert contracts.get("/api/metadata/workflow/nested").status_code == 404
    # The same definition with the input fixed registers.
    text = json.dumps(definition).replace("reserve.output.reservation_id", "reserve.output.total")
    fixed = json.loads(text)
    response = contracts.post("/api/metadata/workflow", json=fixed)
    assert response.status_code == 200, response.text


def saga(compensation: dict[str, Any]) -> dict[str, Any]:
    reserve = {**RESERVE_STEP, "compensation": compensation}
    return {"name": "saga", "version": 1, "tasks": [reserve]}


def test_a_compensation_is_held_to_its_task_contract(contracts):
    misfit = saga(
        {
            "name": "charge_payment",
            "inputParameters": {"amount": "${compensated.output.reservation_id}"},
        }
    )
    response = contracts.post("/api/metadata/workflow", json=misfit)
    assert response.status_code == 400, response.text
    assert (
        "tasks[0].compensation.inputParameters.amount (task 'reserve'): "
        "'${compensated.output.reservation_id}' gives string, but input contract "
        "'charge_payment' v1.2.0 wants number here"
    ) in response.json()["message"]
    unwired = saga({"name": "charge_payment", "inputParameters": {"currency": "EUR"}})
    response = contracts.post("/api/metadata/workflow/validate", json=unwired)
    assert response.status_code == 400, response.text
    assert (
        "tasks[0].compensation.inputParameters.amount (task 'reserve'): input contract "
        "'charge_payment' v1.2.0 requires 'amount', which is not wired"
    ) in response.json()["message"]
    unknown = saga(
        {"name": "charge_payment", "inputParameters": {"amount": "${compensated.output.totl}"}}
    )
    response = contracts.post("/api/metadata/workflow", json=unknown)
    assert response.status_code == 400, response.text
    assert (
        "'${compensated.output.totl}' reads a field the step it undoes cannot have: output "
        "contract 'reserve_inventory' v1.0.0 says the payload declares no field 'totl'"
    ) in response.json()["message"]
    fitting = saga(
        {"name": "charge_payment", "inputParameters": {"amount": "${compensated.output.total}"}}
    )
    response = contracts.post("/api/metadata/workflow", json=fitting)
    assert response.status_code == 200, response.text


def priced(amount: str) -> dict[str, Any]:
    return {
        "name": "priced",
        "version": 1,
        "tasks": [
            {"name": "quote_price", "taskReferenceName": "quote"},
            {
                "name": "charge_payment",
                "taskReferenceName": "charge",
                "inputParameters": {"amount": amount},
            },
        ],
    }


def test_a_bracketed_key_is_the_key_itself_to_the_checks_and_to_the_run(contracts):
    for amount in ("${quote.output['unit-price']}", '${quote.output["unit-price"]}'):
        response = contracts.post("/api/metadata/workflow/validate", json=priced(amount))
        assert response.status_code == 200, response.text
    typo = contracts.post("/api/metadata/workflow", json=priced("${quote.output['unit-prise']}"))
    assert typo.status_code == 400, typo.text
    assert "declares no field 'unit-prise'" in typo.json()["message"]
    text = contracts.post("/api/metadata/workflow", json=priced("${quote.output['label']}"))
    assert text.status_code == 400, text.text
    assert (
        "gives string, but input contract 'charge_payment' v1.2.0 wants number"
        in (text.json()["message"])
    )
    # What the checks read is what the run resolves.
    register(contracts, priced("${quote.output['unit-price']}"))
    run_id = start(contracts, "priced", {})
    [task] = poll(contracts, "quote_price")
    assert complete(contracts, task, {"unit-price": 4.5}).is_success
    [task] = poll(contracts, "charge_payment")
    assert task["inputData"] == {"amount": 4.5}
    complete(contracts, task, {"receipt": {"id": "r-1"}})
    assert wait_status(contracts, run_id)["status"] == "COMPLETED"
