"""``podium schedules ...`` against a real server on each store: create, list, show, next,
pause, resume, backfill and delete, with times shown in the schedule's zone."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner, Result

from podium.cli import app
from tests.behaviour.helpers import register

FLOW = {
    "name": "cli_nightly",
    "tasks": [{"name": "cli_nightly_work", "taskReferenceName": "work", "type": "SIMPLE"}],
}
CET = re.compile(r"\d{4}-\d\d-\d\d 02:30:00 CET")


@pytest.fixture
def schedules(server, api, monkeypatch):
    register(api, FLOW, [{"name": "cli_nightly_work", "retryCount": 0}])
    monkeypatch.setenv("PODIUM_SERVER", server.url)

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(app, ["schedules", *args])
        return result

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def test_a_schedule_from_the_cli(schedules, api):
    out = ok(
        schedules(
            "create",
            "nightly",
            "--cron",
            "0 30 2 * * ?",
            "--zone",
            "Europe/Berlin",
            "--workflow",
            "cli_nightly",
            "--version",
            "1",
            "--catchup",
            "latest",
            "--overlap",
            "allow_all",
            "--jitter",
            "30s",
        )
    )
    assert "saved schedule nightly" in out
    saved = api.get("/api/scheduler/schedules/nightly").json()
    assert saved["zoneId"] == "Europe/Berlin"
    assert (saved["overlapPolicy"], saved["catchupPolicy"]) == ("ALLOW_ALL", "LATEST")
    assert saved["runCatchupScheduleInstances"] is True
    assert saved["jitterSeconds"] == 30

    listed = ok(schedules("list"))
    line = next(row for row in listed.splitlines() if "nightly" in row)
    assert "cli_nightly v1" in line and "Europe/Berlin" in line and "active" in line
    # Europe/Berlin in December is CET; the next run is at 02:30 its time.
    assert CET.search(line)

    shown = ok(schedules("show", "nightly"))
    assert "ALLOW_ALL" in shown and "LATEST within 365d" in shown and "no runs yet" in shown

    upcoming = ok(schedules("next", "nightly", "--limit", "2")).split("\n")
    assert [bool(CET.fullmatch(line)) for line in upcoming if line] == [True, True]

    weekdays = json.loads(
        ok(schedules("next", "--cron", "0 0 9 ? * MON-FRI", "--zone", "America/New_York", "--json"))
    )
    # 09:00 in New York in winter is 14:00 UTC.
    assert len(weekdays) == 5 and all(t % 86_400_000 == 14 * 3_600_000 for t in weekdays)

    assert "paused schedule nightly: audit" in ok(
        schedules("pause", "nightly", "--reason", "audit")
    )
    assert "paused: audit" in ok(schedules("list"))
    assert api.get("/api/scheduler/schedules/nightly").json()["pausedReason"] == "audit"
    ok(schedules("resume", "nightly"))
    assert api.get("/api/scheduler/schedules/nightly").json()["paused"] is False

    backfilled = ok(
        schedules(
            "backfill", "nightly", "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-03T00:00:00Z"
        )
    )
    assert "backfilling 2 of the 2 tick(s) of nightly" in backfilled
    assert "2026-11-01 02:30:00 CET  started" in backfilled
    assert "2026-11-02 02:30:00 CET  started" in backfilled
    # The same range again starts nothing: those ticks have their runs.
    again = ok(
        schedules(
            "backfill", "nightly", "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-03T00:00:00Z"
        )
    )
    assert "backfilling 0 of the 2 tick(s)" in again and "02:30:00 CET  ran before" in again
    ran = ok(schedules("show", "nightly"))
    assert "2026-11-02 02:30:00 CET" in ran and "no runs yet" not in ran

    ok(schedules("delete", "nightly"))
    assert api.get("/api/scheduler/schedules/nightly").status_code == 404
    gone = schedules("show", "nightly")
    assert gone.exit_code == 1 and "404" in gone.output


def test_an_interval_schedule_and_the_servers_refusals(schedules, api):
    ok(schedules("create", "poller", "--every", "90s", "--workflow", "cli_nightly"))
    saved = api.get("/api/scheduler/schedules/poller").json()
    assert saved["intervalSeconds"] == 90 and saved["cronExpression"] is None
    assert "every 90s" in ok(schedules("list", "--workflow", "cli_nightly"))
    assert "poller" not in ok(schedules("list", "--workflow", "another"))

    refused = schedules("backfill", "nope", "--from", "1000", "--to", "2000")
    assert refused.exit_code == 1 and "nope" in refused.output
    bad_limit = schedules("next", "--cron", "0 * * * * *", "--limit", "0")
    assert bad_limit.exit_code == 2
