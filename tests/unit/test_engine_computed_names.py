"""Names and versions a step computes from run data are held to what the stores can keep.

Each such step fails for good, naming its input, and asks nothing of the outside world: no
queue, event, wait or run is commanded with the value (``dsl/bounds.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from podium.engine import RunStatus, TaskStatus
from tests.unit.engine_helpers import Run, step, workflow

_FROM_INPUT = "${workflow.input.value}"

_STEPS: dict[str, tuple[dict[str, Any], Any, str]] = {
    "DYNAMIC name": (
        step(
            "s",
            type="DYNAMIC",
            dynamicTaskNameParam="taskToRun",
            inputParameters={"taskToRun": _FROM_INPUT},
        ),
        "charge\x00card",
        "input 'taskToRun'",
    ),
    "EVENT eventType": (
        step(
            "s", type="EVENT", sink="conductor:orders", inputParameters={"eventType": _FROM_INPUT}
        ),
        "paid\x00",
        "input 'eventType'",
    ),
    "WAIT event": (
        step("s", type="WAIT", inputParameters={"event": _FROM_INPUT}),
        "paid\x00",
        "input 'event'",
    ),
    "WAIT correlationId": (
        step("s", type="WAIT", inputParameters={"event": "paid", "correlationId": _FROM_INPUT}),
        "order\x00",
        "input 'correlationId'",
    ),
    "START_WORKFLOW name": (
        step("s", type="START_WORKFLOW", inputParameters={"startWorkflow": {"name": _FROM_INPUT}}),
        "tar\x00get",
        "startWorkflow.name",
    ),
    "START_WORKFLOW correlationId": (
        step(
            "s",
            type="START_WORKFLOW",
            inputParameters={"startWorkflow": {"name": "target", "correlationId": _FROM_INPUT}},
        ),
        "order\x00",
        "startWorkflow.correlationId",
    ),
    "START_WORKFLOW version": (
        step(
            "s",
            type="START_WORKFLOW",
            inputParameters={"startWorkflow": {"name": "target", "version": _FROM_INPUT}},
        ),
        2**31,
        "startWorkflow.version",
    ),
}


@pytest.mark.parametrize("case", list(_STEPS))
def test_a_computed_value_no_store_can_keep_fails_the_step_and_commands_nothing(case):
    definition, value, named = _STEPS[case]
    run = Run(workflow([definition]), {"value": value})
    commands = run.start(now=1)
    failed = run.latest("s")
    assert failed.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert named in (failed.reason or "") and "\x00" not in (failed.reason or "")
    assert run.status == RunStatus.FAILED
    assert commands == ()


@pytest.mark.parametrize("case", ["DYNAMIC name", "WAIT correlationId", "START_WORKFLOW version"])
def test_the_same_steps_with_storable_values_go_ahead(case):
    definition, value, _ = _STEPS[case]
    fine = 7 if isinstance(value, int) else "fine"
    run = Run(workflow([definition]), {"value": fine})
    assert run.start(now=1)
    assert run.latest("s").status not in (TaskStatus.FAILED, TaskStatus.FAILED_WITH_TERMINAL_ERROR)
