"""Dispatch limits per task type (concurrentExecLimit, rateLimitPerFrequency) observed by
counting workers, and result caching (cacheConfig)."""

from __future__ import annotations

import threading
import time

from tests.behaviour.helpers import complete, poll, register, start, task_of, wait_status


def _flow(name: str, task: str, **step: object) -> dict[str, object]:
    return {
        "name": name,
        "tasks": [{"name": task, "taskReferenceName": "work", "type": "SIMPLE", **step}],
    }


def test_concurrency_limit_holds_across_eager_workers(api, server):
    import httpx

    register(
        api, _flow("narrow", "narrow_task"), [{"name": "narrow_task", "concurrentExecLimit": 2}]
    )
    run_ids = [start(api, "narrow", {"n": n}) for n in range(8)]
    lock = threading.Lock()
    in_flight = 0
    peak = 0

    def worker(index: int) -> None:
        nonlocal in_flight, peak
        with httpx.Client(base_url=server.url, timeout=30) as client:
            idle_since = time.monotonic()
            while time.monotonic() - idle_since < 1.5:
                tasks = poll(client, "narrow_task", worker=f"w{index}", count=3, timeout_ms=100)
                if not tasks:
                    continue
                idle_since = time.monotonic()
                with lock:
                    in_flight += len(tasks)
                    peak = max(peak, in_flight)
                time.sleep(0.05)
                for task in tasks:
                    with lock:
                        in_flight -= 1
                    complete(client, task, worker=f"w{index}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [wait_status(api, run_id)["status"] for run_id in run_ids] == ["COMPLETED"] * 8
    assert peak == 2, f"{peak} tasks ran at once"


def test_rate_limit_hands_out_at_most_n_per_window(api):
    task_def = {"name": "slow_api", "rateLimitPerFrequency": 3, "rateLimitFrequencyInSeconds": 1}
    register(api, _flow("metered", "slow_api"), [task_def])
    for n in range(7):
        start(api, "metered", {"n": n})
    first = poll(api, "slow_api", count=10, timeout_ms=200)
    assert len(first) == 3
    assert poll(api, "slow_api", count=10, timeout_ms=200) == []
    for task in first:
        complete(api, task)
    assert poll(api, "slow_api", count=10, timeout_ms=200) == []  # done, but the window is spent
    time.sleep(1.0)
    assert len(poll(api, "slow_api", count=10, timeout_ms=200)) == 3


def test_cached_results_are_served_without_a_worker_until_they_expire(api):
    cache = {"key": "${input.sku}", "ttlInSeconds": 60}
    flow = _flow(
        "price", "price_lookup", cacheConfig=cache, inputParameters={"sku": "${workflow.input.sku}"}
    )
    register(api, flow, [{"name": "price_lookup"}])
    first = start(api, "price", {"sku": "A-1"})
    (task,) = poll(api, "price_lookup")
    complete(api, task, {"price": 10})
    assert wait_status(api, first)["status"] == "COMPLETED"

    again = start(api, "price", {"sku": "A-1"})
    assert poll(api, "price_lookup", timeout_ms=300) == []  # answered from the cache
    body = wait_status(api, again)
    assert body["status"] == "COMPLETED"
    assert task_of(body, "work")["outputData"] == {"price": 10}

    other = start(api, "price", {"sku": "B-2"})
    (fresh,) = poll(api, "price_lookup")
    assert fresh["workflowInstanceId"] == other
