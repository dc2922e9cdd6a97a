"""``podium schedules ...`` through typer's CliRunner, against an httpx MockTransport that
records the requests and answers as the scheduler routes do."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from podium import cli_output
from podium.cli import app
from podium.client import PodiumClient

NIGHTLY = {
    "name": "nightly",
    "cronExpression": "0 30 2 * * ?",
    "zoneId": "Europe/Berlin",
    "paused": False,
    "startWorkflowRequest": {"name": "report", "version": 2, "input": {}},
    "overlapPolicy": "BUFFER_ONE",
    "catchupPolicy": "LATEST",
    "catchupWindowSeconds": 3600,
    "jitterSeconds": 30,
    "pauseAfterFailures": 3,
    # 2026-12-05 02:30 CET
    "nextRunTime": 1796434200000,
    "lastRuns": [
        {"scheduledTime": 1796347800000, "workflowId": "run-42", "state": "COMPLETED"},
        {"scheduledTime": 1796261400000, "workflowId": "run-41", "state": "FAILED"},
    ],
}
POLLER = {
    "name": "poller",
    "intervalSeconds": 90,
    "zoneId": "UTC",
    "paused": True,
    "pausedReason": "3 failed runs in a row",
    "startWorkflowRequest": {"name": "poll"},
    "nextRunTime": None,
    "lastRuns": [],
}

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """Answers each request from a table of (method, path) -> answer and keeps what was sent."""

    def __init__(self, answers: dict[tuple[str, str], Any]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key not in self.answers:
            return httpx.Response(
                404,
                json={"code": "E_NOT_FOUND", "service": "server", "message": "no such schedule"},
            )
        answer = self.answers[key]
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)

    def sent(self, method: str, path: str) -> httpx.Request:
        for request in self.requests:
            if (request.method, request.url.path) == (method, path):
                return request
        raise AssertionError(f"no {method} {path} among {[r.url for r in self.requests]}")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[tuple[str, str], Any]], Recorder]:
    def install(answers: dict[tuple[str, str], Any]) -> Recorder:
        recorder = Recorder(answers)

        def make(url: str) -> PodiumClient:
            return PodiumClient(url, transport=httpx.MockTransport(recorder))

        monkeypatch.setattr(cli_output, "PodiumClient", make)
        return recorder

    return install


def podium(*args: str) -> Result:
    return CliRunner().invoke(app, ["schedules", *args])


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def test_list_shows_each_schedule_in_its_zone(server):
    recorder = server({("GET", "/api/scheduler/schedules"): [NIGHTLY, POLLER]})
    result = podium("list")
    assert result.exit_code == 0, result.output
    nightly = next(line for line in result.output.splitlines() if "nightly" in line)
    assert "report v2" in nightly
    assert "0 30 2 * * ?" in nightly
    assert "2026-12-05 02:30:00 CET" in nightly
    assert "COMPLETED" in nightly and "active" in nightly
    poller = next(line for line in result.output.splitlines() if "poller" in line)
    assert "every 90s" in poller and "paused: 3 failed runs in a row" in poller
    assert "workflowName" not in str(recorder.requests[0].url)


def test_list_filters_by_workflow_and_prints_json(server):
    recorder = server({("GET", "/api/scheduler/schedules"): [NIGHTLY]})
    result = podium("list", "--workflow", "report", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["name"] == "nightly"
    assert recorder.requests[0].url.params["workflowName"] == "report"


def test_group_alone_lists(server):
    server({("GET", "/api/scheduler/schedules"): [NIGHTLY]})
    result = podium()
    assert result.exit_code == 0, result.output
    assert "nightly" in result.output


def test_show_gives_policies_and_last_runs(server):
    server({("GET", "/api/scheduler/schedules/nightly"): NIGHTLY})
    result = podium("show", "nightly")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "0 30 2 * * ? (Europe/Berlin)" in out
    assert "BUFFER_ONE" in out
    assert "LATEST within 1h" in out
    assert "30s" in out
    assert "3 failed runs in a row" in out
    assert "2026-12-05 02:30:00 CET" in out
    run_line = next(line for line in out.splitlines() if "run-42" in line)
    assert "2026-12-04 02:30:00 CET" in run_line and "COMPLETED" in run_line
    assert "run-41" in out and "FAILED" in out


def test_create_from_options_sends_a_save_schedule_request(server):
    recorder = server({("POST", "/api/scheduler/schedules"): None})
    result = podium(
        "create",
        "nightly",
        "--cron",
        "0 30 2 * * ?",
        "--zone",
        "Europe/Berlin",
        "--workflow",
        "report",
        "--version",
        "2",
        "--input",
        '{"region": "eu"}',
        "--overlap",
        "buffer_one",
        "--catchup",
        "NONE",
        "--jitter",
        "30s",
        "--catchup-window",
        "1h",
        "--pause-after-failures",
        "3",
        "--start",
        "2026-12-01T00:00:00Z",
    )
    assert result.exit_code == 0, result.output
    sent = body(recorder.sent("POST", "/api/scheduler/schedules"))
    assert sent == {
        "name": "nightly",
        "cronExpression": "0 30 2 * * ?",
        "zoneId": "Europe/Berlin",
        "scheduleStartTime": 1796083200000,
        "overlapPolicy": "BUFFER_ONE",
        "catchupPolicy": "NONE",
        "runCatchupScheduleInstances": False,
        "catchupWindowSeconds": 3600.0,
        "jitterSeconds": 30.0,
        "pauseAfterFailures": 3,
        "startWorkflowRequest": {"name": "report", "version": 2, "input": {"region": "eu"}},
    }
    assert "saved schedule nightly" in result.output
    # The next ticks are shown as Berlin reads them.
    assert result.output.count("02:30:00 CE") == 3


def test_create_every(server):
    recorder = server({("POST", "/api/scheduler/schedules"): None})
    result = podium("create", "poller", "--every", "90s", "--workflow", "poll")
    assert result.exit_code == 0, result.output
    sent = body(recorder.sent("POST", "/api/scheduler/schedules"))
    assert sent["intervalSeconds"] == 90.0 and "cronExpression" not in sent


def test_create_from_a_file_with_options_over_it(server, tmp_path):
    recorder = server({("POST", "/api/scheduler/schedules"): None})
    file = tmp_path / "schedule.json"
    file.write_text(
        json.dumps(
            {k: NIGHTLY[k] for k in ("name", "cronExpression", "zoneId", "startWorkflowRequest")}
        )
    )
    result = podium("create", "-f", str(file), "--every", "1h", "--paused")
    assert result.exit_code == 0, result.output
    sent = body(recorder.sent("POST", "/api/scheduler/schedules"))
    assert sent["name"] == "nightly"
    assert sent["intervalSeconds"] == 3600.0 and "cronExpression" not in sent
    assert sent["paused"] is True
    assert "saved schedule nightly, paused" in result.output and "next" not in result.output
    assert sent["startWorkflowRequest"]["name"] == "report"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--cron", "not a cron", "--workflow", "w"], "cronExpression"),
        (["x", "--cron", "0 * * * * *", "--every", "1m", "--workflow", "w"], "cronExpression"),
        (["x", "--every", "1m", "--zone", "Mars/Base", "--workflow", "w"], "zoneId"),
        (["x", "--every", "1m"], "workflow"),
        (["--every", "1m", "--workflow", "w"], "name"),
    ],
)
def test_create_refuses_bad_input_before_sending(server, args, message):
    recorder = server({})
    result = podium("create", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert recorder.requests == []


def test_create_reports_the_servers_refusal(server):
    refusal = httpx.Response(
        400,
        json={
            "code": "E_VALIDATION",
            "service": "server",
            "message": "no such workflow",
            "field": "startWorkflowRequest.name",
        },
    )
    server({("POST", "/api/scheduler/schedules"): refusal})
    result = podium("create", "x", "--every", "1m", "--workflow", "nope")
    assert result.exit_code == 1
    assert "no such workflow" in result.output and "startWorkflowRequest.name" in result.output


def test_pause_with_a_reason_resume_and_delete(server):
    recorder = server(
        {
            ("PUT", "/api/scheduler/schedules/nightly/pause"): None,
            ("PUT", "/api/scheduler/schedules/nightly/resume"): None,
            ("DELETE", "/api/scheduler/schedules/nightly"): None,
        }
    )
    assert (
        "paused schedule nightly: deploy" in podium("pause", "nightly", "--reason", "deploy").output
    )
    assert recorder.requests[-1].url.params["reason"] == "deploy"
    assert "resumed schedule nightly" in podium("resume", "nightly").output
    assert "deleted schedule nightly" in podium("delete", "nightly").output
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("PUT", "/api/scheduler/schedules/nightly/pause"),
        ("PUT", "/api/scheduler/schedules/nightly/resume"),
        ("DELETE", "/api/scheduler/schedules/nightly"),
    ]


def test_unknown_schedule_is_a_red_line(server):
    server({})
    result = podium("show", "nope")
    assert result.exit_code == 1
    assert "no such schedule" in result.output


def test_backfill(server):
    ticks = [1796347800000, 1796434200000]
    recorder = server(
        {
            ("POST", "/api/scheduler/schedules/nightly/backfill"): {
                "scheduled": ticks,
                "started": ticks[1:],
            },
            ("GET", "/api/scheduler/schedules/nightly"): NIGHTLY,
        }
    )
    result = podium(
        "backfill",
        "nightly",
        "--from",
        "1796300000000",
        "--to",
        "2026-12-06T00:00:00Z",
        "--overlap",
        "ALLOW_ALL",
    )
    assert result.exit_code == 0, result.output
    assert body(recorder.sent("POST", "/api/scheduler/schedules/nightly/backfill")) == {
        "startTime": 1796300000000,
        "endTime": 1796515200000,
        "overlapPolicy": "ALLOW_ALL",
    }
    assert "backfilling 1 of the 2 tick(s) of nightly" in result.output
    assert "2026-12-04 02:30:00 CET  ran before" in result.output
    assert "2026-12-05 02:30:00 CET  started" in result.output


def test_backfill_refuses_a_reversed_range(server):
    recorder = server({})
    result = podium("backfill", "nightly", "--from", "2000", "--to", "1000")
    assert result.exit_code == 2
    assert recorder.requests == []


def test_next_of_a_schedule(server):
    recorder = server(
        {
            ("GET", "/api/scheduler/schedules/nightly/next"): [1796434200000],
            ("GET", "/api/scheduler/schedules/nightly"): NIGHTLY,
        }
    )
    result = podium("next", "nightly", "--limit", "1")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2026-12-05 02:30:00 CET"
    assert recorder.sent("GET", "/api/scheduler/schedules/nightly/next").url.params["limit"] == "1"


def test_next_of_a_cron(server):
    recorder = server({("GET", "/api/scheduler/nextFewSchedules"): [1796385600000]})
    result = podium("next", "--cron", "0 0 * * * *", "--zone", "America/New_York", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [1796385600000]
    params = recorder.requests[0].url.params
    assert params["cronExpression"] == "0 0 * * * *"
    assert params["zoneId"] == "America/New_York"
    assert params["limit"] == "5"


def test_next_wants_a_name_or_a_cron(server):
    assert podium("next").exit_code == 2
