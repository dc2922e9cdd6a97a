"""Registration-time checks of a workflow's data flow against contracts, without a store."""

from __future__ import annotations

import pytest

from podium.contracts.model import parse_contract
from podium.contracts.references import check_workflow
from podium.dsl.models import WorkflowDef
from podium.errors import DefinitionError


class ContractsOnly:
    """The few StoreTx reads the check makes, over dicts."""

    def __init__(self, contracts, task_defs):
        self.contracts = [parse_contract(c) for c in contracts]
        self.task_defs = {d["name"]: d for d in task_defs}

    def get_task_def(self, name):
        return self.task_defs.get(name)

    def list_contract_versions(self, kind, name):
        found = [c for c in self.contracts if (c.kind, c.name) == (kind, name)]
        return [str(c.version) for c in sorted(found, key=lambda c: c.version)]

    def get_contract(self, kind, name, version):
        for c in self.contracts:
            if (c.kind, c.name, str(c.version)) == (kind, name, version):
                return c.to_json()
        return None


def producer(output):
    return {"kind": "task", "name": "make", "version": "1.0.0", "output": output}


def consumer(inputs):
    return {"kind": "task", "name": "use", "version": "1.0.0", "input": inputs}


DEFS = [
    {"name": "make", "outputSchema": {"name": "make"}},
    {"name": "use", "inputSchema": {"name": "use"}},
    {"name": "free"},
]


def flow(*tasks, output=None):
    return WorkflowDef.model_validate(
        {"name": "w", "tasks": list(tasks), "outputParameters": output or {}}
    )


def step(name, ref, **inputs):
    return {"name": name, "taskReferenceName": ref, "inputParameters": inputs}


def check(contracts, definition):
    return check_workflow(ContractsOnly(contracts, DEFS), definition)  # type: ignore[arg-type]


OUT = {"type": "object", "properties": {"n": {"type": "integer"}, "x": {"type": "number"}, "tags": {"type": "array", "items": {"type": "string"}}}, "additionalProperties": False}  # fmt: skip
IN = {"type": "object", "properties": {"count": {"type": "integer"}, "label": {"type": "string"}, "amount": {"type": "number"}}}  # fmt: skip


@pytest.mark.parametrize(
    "inputs",
    [
        {"amount": "${m.output.n}"},  # an integer is a number
        {"label": "n is ${m.output.n}"},  # text around a reference makes a string
        {"count": "${free1.output.whatever}"},  # no contract on the producer: nothing to check
        {"label": "${m.output.tags[0]}"},
        {"count": 3, "label": "x"},
    ],
)
def test_flows_that_fit(inputs):
    check(
        [producer(OUT), consumer(IN)],
        flow(step("make", "m"), step("free", "free1"), step("use", "u", **inputs)),
    )


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({"count": "${m.output.x}"}, "gives number, but input contract 'use' v1.0.0 wants integer"),
        ({"count": "${m.output.nn}"}, "declares no field 'nn' and allows no others"),
        ({"label": "${m.output.tags[0].id}"}, "'tags[0]' is declared as string"),
        ({"count": "${m.output.tags}"}, "gives array"),
        ({"count": "three"}, "the constant 'three' is string"),
        ({"count": "${m.output}"}, "'${m.output}' gives object"),
    ],
)
def test_flows_that_do_not_fit(inputs, words):
    with pytest.raises(DefinitionError) as caught:
        check([producer(OUT), consumer(IN)], flow(step("make", "m"), step("use", "u", **inputs)))
    assert words in caught.value.message
    assert caught.value.field == "tasks[1].inputParameters." + next(iter(inputs))


def test_nested_steps_are_checked_with_their_paths():
    switch = {
        "name": "route",
        "taskReferenceName": "route",
        "type": "SWITCH",
        "evaluatorType": "value-param",
        "expression": "k",
        "inputParameters": {"k": "a"},
        "decisionCases": {"a": [step("use", "u", count="${m.output.x}")]},
    }
    with pytest.raises(DefinitionError) as caught:
        check([producer(OUT), consumer(IN)], flow(step("make", "m"), switch))
    assert caught.value.field == "tasks[1].decisionCases.a[0].inputParameters.count"


def test_every_problem_is_listed_together():
    with pytest.raises(DefinitionError) as caught:
        check(
            [producer(OUT), consumer(IN)],
            flow(
                step("make", "m"),
                step("use", "u", count="${m.output.x}", label="${m.output.nope}"),
                output={"n": "${m.output.gone}"},
            ),
        )
    message = caught.value.message
    assert message.startswith("workflow 'w' v1 breaks its contracts: ")
    assert message.count("tasks[1].inputParameters") == 2
    assert "outputParameters.n: '${m.output.gone}'" in message


def test_an_unregistered_contract_is_a_warning_at_registration_not_a_problem():
    warnings = check([consumer(IN)], flow(step("make", "m")))
    assert warnings == [
        "tasks[0].taskDefinition.outputSchema: no task contract 'make' is registered; "
        "stored, not enforced until it is"
    ]
