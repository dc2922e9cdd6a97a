"""The run page says why a run is not moving: a task no worker has polled for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from podium.testing import PodiumTestServer
from tests.behaviour.helpers import poll, register, start

FLOW = {
    "name": "ui_greet",
    "tasks": [{"name": "helo", "taskReferenceName": "greet", "type": "SIMPLE"}],
}


@pytest.fixture
def ui_server(tmp_path: Path) -> Iterator[PodiumTestServer]:
    """A server that reports a task after one second without a worker."""
    with PodiumTestServer(
        tmp_path / "ui.db", sweep_interval_s=0.2, no_worker_warning_s=1.0
    ) as running:
        yield running


def test_a_task_no_worker_polls_for_is_reported_on_the_run_page(api, page):
    page, screens = page
    register(api, FLOW)
    run_id = start(api, "ui_greet")
    page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
    expect(page.locator("section.run")).to_have_attribute("data-status", "RUNNING")
    notes = page.locator("#diagnostics li")
    expect(notes).to_have_count(1, timeout=10_000)
    expect(notes.first).to_have_attribute("data-kind", "NO_WORKER")
    expect(notes.first).to_contain_text("task 'greet' has waited ")
    expect(notes.first).to_contain_text("no worker has polled type 'helo'")
    screens.save("no-worker")
    notes.first.click()
    expect(page.locator("#details h2")).to_contain_text("greet")

    # A worker comes and takes the task: the note goes.
    (task,) = poll(api, "helo")
    assert task["workflowInstanceId"] == run_id
    expect(page.locator("#diagnostics")).to_be_hidden()
