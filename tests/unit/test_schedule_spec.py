"""Reading a schedule's timing and policies from a SaveScheduleRequest body."""

from __future__ import annotations

import pytest

from podium.errors import ValidationError
from podium.schedules import Catchup, Overlap, ScheduleSpec, SpecError, parse_spec
from podium.schedules.spec import DEFAULT_CATCHUP_WINDOW_MS


def test_conductor_body():
    spec = parse_spec(
        {
            "name": "nightly",
            "cronExpression": "0 0 2 * * ?",
            "zoneId": "Europe/Berlin",
            "scheduleStartTime": 1_800_000_000_000,
            "scheduleEndTime": 1_900_000_000_000,
            "runCatchupScheduleInstances": False,
            "startWorkflowRequest": {"name": "report", "version": 1},
            "paused": False,
        }
    )
    assert spec == ScheduleSpec(
        cron="0 0 2 * * ?",
        interval_ms=None,
        zone="Europe/Berlin",
        start_ms=1_800_000_000_000,
        end_ms=1_900_000_000_000,
        catchup=Catchup.NONE,
    )


def test_defaults():
    spec = parse_spec({"cronExpression": "0 * * * * *"})
    assert spec.zone == "UTC"
    assert spec.start_ms is None and spec.end_ms is None
    assert spec.overlap is Overlap.SKIP
    assert spec.catchup is Catchup.ALL
    assert spec.catchup_window_ms == DEFAULT_CATCHUP_WINDOW_MS == 365 * 24 * 3600 * 1000
    assert spec.jitter_ms == 0 and spec.pause_after_failures is None


def test_podium_fields():
    spec = parse_spec(
        {
            "intervalSeconds": 90,
            "cronExpression": "",
            "overlapPolicy": "buffer_one",
            "catchupPolicy": "LATEST",
            "runCatchupScheduleInstances": False,
            "catchupWindowSeconds": 600,
            "jitterSeconds": 1.5,
            "pauseAfterFailures": 3,
        }
    )
    assert spec.cron is None
    assert spec.interval_ms == 90_000
    assert spec.overlap is Overlap.BUFFER_ONE
    # catchupPolicy wins over Conductor's boolean.
    assert spec.catchup is Catchup.LATEST
    assert spec.catchup_window_ms == 600_000
    assert spec.jitter_ms == 1500
    assert spec.pause_after_failures == 3


def test_run_catchup_true_is_all():
    body = {"cronExpression": "0 * * * * *", "runCatchupScheduleInstances": True}
    assert parse_spec(body).catchup is Catchup.ALL


def test_zero_end_time_means_none():
    body = {"cronExpression": "0 * * * * *", "scheduleStartTime": 0, "scheduleEndTime": 0}
    spec = parse_spec(body)
    assert spec.start_ms == 0 and spec.end_ms is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "cronExpression"),
        ({"cronExpression": "   "}, "cronExpression"),
        ({"cronExpression": "0 * * * * *", "intervalSeconds": 60}, "cronExpression"),
        ({"cronExpression": "not a cron"}, "cronExpression"),
        ({"cronExpression": 5}, "cronExpression"),
        ({"intervalSeconds": 0}, "intervalSeconds"),
        ({"intervalSeconds": -5}, "intervalSeconds"),
        ({"intervalSeconds": "90s"}, "intervalSeconds"),
        ({"intervalSeconds": True}, "intervalSeconds"),
        ({"intervalSeconds": 60, "zoneId": "Mars/Olympus"}, "zoneId"),
        ({"intervalSeconds": 60, "zoneId": "../etc/passwd"}, "zoneId"),
        ({"intervalSeconds": 60, "scheduleStartTime": -1}, "scheduleStartTime"),
        ({"intervalSeconds": 60, "scheduleStartTime": "soon"}, "scheduleStartTime"),
        ({"intervalSeconds": 60, "scheduleEndTime": -1}, "scheduleEndTime"),
        (
            {"intervalSeconds": 60, "scheduleStartTime": 2000, "scheduleEndTime": 1000},
            "scheduleEndTime",
        ),
        ({"intervalSeconds": 60, "jitterSeconds": -1}, "jitterSeconds"),
        ({"intervalSeconds": 60, "catchupWindowSeconds": -1}, "catchupWindowSeconds"),
        ({"intervalSeconds": 60, "pauseAfterFailures": 0}, "pauseAfterFailures"),
        ({"intervalSeconds": 60, "pauseAfterFailures": 1.5}, "pauseAfterFailures"),
        ({"intervalSeconds": 60, "overlapPolicy": "SOMETIMES"}, "overlapPolicy"),
        ({"intervalSeconds": 60, "overlapPolicy": 3}, "overlapPolicy"),
        ({"intervalSeconds": 60, "catchupPolicy": "SOME"}, "catchupPolicy"),
        (
            {"intervalSeconds": 60, "runCatchupScheduleInstances": "yes"},
            "runCatchupScheduleInstances",
        ),
    ],
)
def test_bad_input_names_the_field(body, field):
    with pytest.raises(SpecError) as caught:
        parse_spec(body)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_spec_built_in_code_is_checked_too():
    with pytest.raises(SpecError) as caught:
        ScheduleSpec(cron=None, interval_ms=1000, jitter_ms=-1)
    assert caught.value.field == "jitterSeconds"


def test_spec_error_is_a_validation_error_naming_its_field():
    assert issubclass(SpecError, ValidationError)
    error = SpecError("zoneId", "no such zone")
    assert (error.field, error.message, str(error)) == (
        "zoneId",
        "no such zone",
        "zoneId: no such zone",
    )
