"""Retention: ended runs past their age leave the live tables (deleted or archived);
running ones stay whatever their age."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.behaviour.helpers import complete, poll, register, start, wait_status

FLOW = {
    "name": "kept_briefly",
    "tasks": [{"name": "brief_step", "taskReferenceName": "step", "type": "SIMPLE"}],
}


def _gone(api: httpx.Client, run_id: str, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.get(f"/api/workflow/{run_id}").status_code == 404:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("mode", ["delete", "archive"])
def test_ended_runs_are_removed_and_running_ones_kept(store_choice, mode):
    settings = {"retention_days": 0, "retention_interval_s": 0.2, "retention_mode": mode}
    with store_choice.server(retention_batch=2, **settings) as server:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            register(api, FLOW)
            ended = [start(api, "kept_briefly") for _ in range(5)]
            for _ in ended:
                (task,) = poll(api, "brief_step")
                assert complete(api, task).status_code == 200
            running = start(api, "kept_briefly")
            for run_id in ended:
                assert _gone(api, run_id), f"run {run_id} was kept"
            time.sleep(0.5)  # several more retention passes
            assert wait_status(api, running, {"RUNNING"})["status"] == "RUNNING"
    archived = store_choice.query("SELECT run_id, status FROM archived_runs")
    if mode == "archive":
        assert sorted(archived) == sorted((run_id, "COMPLETED") for run_id in ended)
    else:
        assert archived == []
    leftovers = store_choice.query("SELECT COUNT(*) FROM tasks")
    assert leftovers == [(1,)]  # only the running run's task


def test_a_bad_retention_mode_is_refused_at_start(store_choice):
    from podium.errors import ValidationError

    with pytest.raises(ValidationError, match="retention mode"):
        store_choice.server(retention_days=1, retention_mode="shred")
