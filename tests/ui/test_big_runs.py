"""A run of ten thousand tasks in the UI: it opens within seconds, the task table shows a page
at a time and reaches the last task, and the graph draws the loop's iterations and the fork's
branches as one node each, opened up on click. A small run keeps its old look."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from podium.testing import PodiumTestServer
from tests.behaviour.helpers import register, start
from tests.ui.conftest import opened_page

BRANCHES = 10_000
WAITING = 3  # branches that wait for a worker: a second status to see and to filter by
LOOPS = 12
TOTAL = 1 + LOOPS + 1 + BRANCHES + 1  # the loop, its iterations, the fork, its branches, JOIN
OPENS_WITHIN_S = 6


def _range(first: int, last: int, total: int) -> str:
    """The pager's words for a page: "1\u201350 of 10,015" (an en dash, as the UI writes)."""
    return f"{first:,}\u2013{last:,} of {total:,}"


def _flow(name: str, loops: int) -> dict:
    return {
        "name": name,
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": f"$.loop['iteration'] < {loops}",
                "inputParameters": {"loop": "${loop.output}"},
                "loopOver": [
                    {
                        "name": "step",
                        "taskReferenceName": "step",
                        "type": "SET_VARIABLE",
                        "inputParameters": {"x": 1},
                    }
                ],
            },
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN_DYNAMIC",
                "inputParameters": {"dynamicTasks": "${workflow.input.tasks}", "inputs": {}},
                "dynamicForkTasksParam": "dynamicTasks",
                "dynamicForkTasksInputParamName": "inputs",
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN"},
        ],
    }


def _branches(quick: int, slow: int) -> list[dict[str, str]]:
    return [
        {"name": "noop", "taskReferenceName": f"item_{i}", "type": "NOOP"} for i in range(quick)
    ] + [{"name": "slow", "taskReferenceName": f"slow_{i}", "type": "SIMPLE"} for i in range(slow)]


@pytest.fixture
def big_server(tmp_path: Path) -> Iterator[PodiumTestServer]:
    with PodiumTestServer(
        tmp_path / "big.db", sweep_interval_s=0.2, max_fork_width=BRANCHES
    ) as running:
        yield running


def _wait_completed(api: httpx.Client, run_id: str, done: int) -> None:
    deadline = time.monotonic() + 120
    while True:
        page = api.get(f"/api/workflow/{run_id}/tasks", params={"status": "COMPLETED", "count": 0})
        if page.json()["totalHits"] >= done:
            return
        assert time.monotonic() < deadline, page.text
        time.sleep(0.2)


def test_a_run_of_ten_thousand_tasks_opens_paged_and_collapsed(
    browser: Browser, big_server: PodiumTestServer
) -> None:
    with httpx.Client(base_url=big_server.url, timeout=60) as api:
        register(api, _flow("ui_big", LOOPS), [{"name": "slow", "retryCount": 0}])
        run_id = start(api, "ui_big", {"tasks": _branches(BRANCHES - WAITING, WAITING)})
        _wait_completed(api, run_id, TOTAL - WAITING - 1)  # all but the slow ones and the JOIN

    # Each read of a run this big decodes all of it; while the page refreshes, a click's read
    # may wait behind a refresh's.
    expect.set_options(timeout=15_000)
    with opened_page(browser, f"{big_server.url}/ui/", "big_run") as (page, screens):
        began = time.monotonic()
        page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
        expect(page.locator("#task-range")).to_have_text(_range(1, 50, TOTAL))
        group = page.locator("#graph .node.group[data-group='fan']")
        expect(group).to_have_attribute("data-count", str(BRANCHES))
        opened = time.monotonic() - began
        assert opened < OPENS_WITHIN_S, f"the run took {opened:.1f} s to open"
        screens.save("opened")

        # One page of rows and of timeline lanes, never ten thousand.
        rows = page.locator("table.tasks tbody tr")
        expect(rows).to_have_count(50)
        expect(rows.first).to_have_attribute("data-ref", "loop")
        assert page.locator("#timeline .lane").count() == 50
        assert page.evaluate("document.querySelectorAll('*').length") < 3000

        # The last page ends with the last task scheduled, the JOIN.
        page.locator("[data-page=last]").click()
        expect(page.locator("#task-range")).to_have_text(_range(10_001, TOTAL, TOTAL))
        expect(rows.last).to_have_attribute("data-ref", "join")
        expect(page.locator("[data-page=next]")).to_be_disabled()
        page.locator("[data-page=prev]").click()
        expect(page.locator("#task-range")).to_have_text(_range(9_951, 10_000, TOTAL))
        page.locator("[data-page=first]").click()
        expect(rows.first).to_have_attribute("data-ref", "loop")

        # Filtered by status: the three branches still waiting for a worker.
        page.locator("[data-filter=status]").select_option("SCHEDULED")
        expect(page.locator("#task-range")).to_have_text(_range(1, 3, 3))
        expect(rows).to_have_count(WAITING)
        assert rows.evaluate_all("rs => rs.map(r => r.dataset.ref)") == [
            f"slow_{i}" for i in range(WAITING)
        ]
        rows.nth(1).click()
        details = page.locator("#details")
        expect(details.locator("h2")).to_contain_text("slow_1")
        expect(details.locator("h2")).to_contain_text("SCHEDULED")
        page.locator("[data-filter=refPrefix]").fill("item_999")
        page.locator("[data-filter=refPrefix]").press("Enter")
        page.locator("[data-filter=status]").select_option("")
        expect(page.locator("#task-range")).to_have_text(
            _range(1, 8, 8)
        )  # item_999, item_9990..9996

        # The fork's ten thousand branches are one node counting them by status ...
        expect(group).to_contain_text(f"{BRANCHES:,} branches")
        expect(group).to_contain_text(f"{BRANCHES - WAITING:,} COMPLETED")
        expect(group).to_contain_text(f"{WAITING} SCHEDULED")
        expect(group).to_have_attribute("data-status", "SCHEDULED")
        expect(group).to_have_attribute("data-expanded", "false")
        expect(page.locator("#graph .node.branch")).to_have_count(0)
        # ... opened up on click: the first branches, and how many more there are.
        group.click()
        expect(group).to_have_attribute("data-expanded", "true")
        expect(page.locator("#graph .node.branch")).to_have_count(6)
        expect(page.locator("#graph .node[data-ref='item_0']")).to_have_attribute(
            "data-status", "COMPLETED"
        )
        expect(page.locator("#graph .node.more")).to_contain_text(f"+ {BRANCHES - 6:,} more")
        screens.save("fork-opened")
        page.locator("#graph .node[data-ref='item_3']").click()
        expect(details.locator("h2")).to_contain_text("item_3")
        group.click()
        expect(page.locator("#graph .node.branch")).to_have_count(0)

        # The loop's twelve iterations: one node, its body drawn once opened.
        loop = page.locator("#graph .node.group[data-group='loop']")
        expect(loop).to_contain_text(f"{LOOPS} iterations")
        expect(loop).to_contain_text(f"{LOOPS} COMPLETED")
        expect(page.locator("#graph .node[data-ref='step']")).to_have_count(0)
        loop.click()
        step = page.locator("#graph .node[data-ref='step']")
        expect(step).to_have_attribute("data-status", "COMPLETED")
        # The step's newest task, and how many it had over every iteration.
        step.click()
        expect(details.locator("h2")).to_contain_text(f"step__{LOOPS}")
        expect(details).to_contain_text(f"Attempts ({LOOPS})")
        # Opened groups stay open through the page's refreshes.
        page.wait_for_timeout(1500)
        expect(loop).to_have_attribute("data-expanded", "true")
        screens.save("loop-opened")


def test_a_small_run_keeps_every_row_and_its_graph(browser: Browser, tmp_path: Path) -> None:
    with PodiumTestServer(tmp_path / "small.db", sweep_interval_s=0.2) as server:
        with httpx.Client(base_url=server.url, timeout=30) as api:
            register(api, _flow("ui_small", 3), [{"name": "slow", "retryCount": 0}])
            run_id = start(api, "ui_small", {"tasks": _branches(4, 1)})
            _wait_completed(api, run_id, 1 + 3 + 1 + 4)
        with opened_page(browser, f"{server.url}/ui/", "small_run") as (page, _screens):
            page.goto(page.url.split("#")[0] + f"#/run/{run_id}")
            rows = page.locator("table.tasks tbody tr")
            expect(rows).to_have_count(1 + 3 + 1 + 5 + 1)  # every task, no pager
            expect(page.locator("#task-pager")).to_be_hidden()
            expect(page.locator("#graph .node[data-ref='step']")).to_have_attribute(
                "data-status", "COMPLETED"
            )
            expect(page.locator("#graph .node.group")).to_have_count(0)
            expect(page.locator("#timeline .lane")).to_have_count(11)
