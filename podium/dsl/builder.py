"""Build workflow definitions in Python; the result is the same Conductor JSON.

::

    from podium.dsl.builder import Workflow, http, simple, workflow_input, output_of

    flow = Workflow("order_fulfilment", owner_email="orders@example.com").add(
        simple("reserve_inventory", "reserve", order_id=workflow_input("orderId")),
        http("ship", uri=f"{workflow_input('shippingUrl')}/shipments", method="POST"),
    ).output(trackingNumber=output_of("ship", "response.body.trackingNumber"))

    flow.to_json()   # what `podium register` takes; flow.build() validates it
"""

from __future__ import annotations

from typing import Any

from podium.dsl.models import WorkflowDef
from podium.dsl.validation import validate_workflow

__all__ = [
    "Workflow",
    "fork_join",
    "http",
    "output_of",
    "set_variable",
    "simple",
    "sub_workflow",
    "switch",
    "terminate",
    "variable",
    "wait",
    "workflow_input",
]

Step = dict[str, Any]


def workflow_input(path: str = "") -> str:
    """``${workflow.input.<path>}``: a value from the run's input."""
    return f"${{workflow.input.{path}}}" if path else "${workflow.input}"


def output_of(ref: str, path: str = "") -> str:
    """``${<ref>.output.<path>}``: a value from an earlier step's output."""
    return f"${{{ref}.output.{path}}}" if path else f"${{{ref}.output}}"


def variable(name: str) -> str:
    """``${workflow.variables.<name>}``."""
    return f"${{workflow.variables.{name}}}"


def _step(name: str, ref: str, kind: str, inputs: dict[str, Any], **extra: Any) -> Step:
    step: Step = {"name": name, "taskReferenceName": ref, "type": kind, "inputParameters": inputs}
    step.update({k: v for k, v in extra.items() if v is not None})
    return step


def simple(name: str, ref: str | None = None, *, optional: bool = False, **inputs: Any) -> Step:
    """A task run by a remote worker polling for ``name``."""
    return _step(name, ref or name, "SIMPLE", inputs, optional=optional or None)


def http(
    ref: str,
    *,
    uri: str,
    method: str = "GET",
    headers: dict[str, Any] | None = None,
    body: Any = None,
    connect_timeout_ms: int | None = None,
    read_timeout_ms: int | None = None,
    name: str | None = None,
) -> Step:
    """A call Podium makes itself; the response becomes ``${ref.output.response...}``."""
    request: dict[str, Any] = {"uri": uri, "method": method}
    if headers:
        request["headers"] = headers
    if body is not None:
        request["body"] = body
    if connect_timeout_ms is not None:
        request["connectionTimeOut"] = connect_timeout_ms
    if read_timeout_ms is not None:
        request["readTimeOut"] = read_timeout_ms
    return _step(name or ref, ref, "HTTP", {"http_request": request})


def switch(
    ref: str,
    value: str,
    cases: dict[str, list[Step]],
    default: list[Step] | None = None,
    *,
    javascript: str | None = None,
) -> Step:
    """Branch on ``value`` (an expression), or on a JavaScript expression over ``$``."""
    if javascript is not None:
        return _step(
            ref,
            ref,
            "SWITCH",
            {"value": value},
            evaluatorType="javascript",
            expression=javascript,
            decisionCases=cases,
            defaultCase=default or [],
        )
    return _step(
        ref,
        ref,
        "SWITCH",
        {"switchCaseValue": value},
        evaluatorType="value-param",
        expression="switchCaseValue",
        decisionCases=cases,
        defaultCase=default or [],
    )


def fork_join(ref: str, branches: list[list[Step]], join_ref: str | None = None) -> list[Step]:
    """Branches run in parallel, then a JOIN waits for the last step of each."""
    join_on = [branch[-1]["taskReferenceName"] for branch in branches if branch]
    return [
        _step(ref, ref, "FORK_JOIN", {}, forkTasks=branches),
        _step(join_ref or f"{ref}_join", join_ref or f"{ref}_join", "JOIN", {}, joinOn=join_on),
    ]


def sub_workflow(ref: str, workflow: str, version: int | None = None, **inputs: Any) -> Step:
    params: dict[str, Any] = {"name": workflow}
    if version is not None:
        params["version"] = version
    return _step(ref, ref, "SUB_WORKFLOW", inputs, subWorkflowParam=params)


def wait(ref: str, *, duration: str | None = None, until: str | None = None) -> Step:
    """Wait for a duration (``"30s"``), until a time, or — with neither — for a signal."""
    inputs: dict[str, Any] = {}
    if duration is not None:
        inputs["duration"] = duration
    if until is not None:
        inputs["until"] = until
    return _step(ref, ref, "WAIT", inputs)


def terminate(
    ref: str, status: str = "COMPLETED", reason: str | None = None, output: Any = None
) -> Step:
    inputs: dict[str, Any] = {"terminationStatus": status}
    if reason is not None:
        inputs["terminationReason"] = reason
    if output is not None:
        inputs["workflowOutput"] = output
    return _step(ref, ref, "TERMINATE", inputs)


def set_variable(ref: str, **values: Any) -> Step:
    return _step(ref, ref, "SET_VARIABLE", values)


class Workflow:
    """A workflow definition under construction; ``to_json`` gives Conductor's JSON."""

    def __init__(
        self,
        name: str,
        version: int = 1,
        *,
        description: str | None = None,
        owner_email: str | None = None,
        timeout_seconds: int = 0,
        failure_workflow: str | None = None,
    ) -> None:
        self._json: dict[str, Any] = {"name": name, "version": version, "schemaVersion": 2}
        if description is not None:
            self._json["description"] = description
        if owner_email is not None:
            self._json["ownerEmail"] = owner_email
        if timeout_seconds:
            self._json["timeoutSeconds"] = timeout_seconds
            self._json["timeoutPolicy"] = "TIME_OUT_WF"
        if failure_workflow is not None:
            self._json["failureWorkflow"] = failure_workflow
        self._tasks: list[Step] = []

    def inputs(self, *names: str) -> Workflow:
        """Document the input names the workflow expects."""
        self._json["inputParameters"] = list(names)
        return self

    def add(self, *steps: Step | list[Step]) -> Workflow:
        """Append steps in order; a list (as from ``fork_join``) is spliced in."""
        for step in steps:
            self._tasks.extend(step if isinstance(step, list) else [step])
        return self

    def output(self, **values: Any) -> Workflow:
        self._json["outputParameters"] = values
        return self

    def to_json(self) -> dict[str, Any]:
        return {**self._json, "tasks": list(self._tasks)}

    def build(self) -> WorkflowDef:
        """The validated definition; raises DefinitionError naming every problem."""
        definition = WorkflowDef.model_validate(self.to_json())
        validate_workflow(definition)
        return definition
