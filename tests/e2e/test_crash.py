"""Kill the server with SIGKILL while 200 runs are in flight: after a restart all complete.

Both on SQLite and on PostgreSQL (``store_choice`` runs each test on each)."""

from __future__ import annotations

import signal
import time

import httpx

from podium.testing import free_port
from tests.e2e.processes import spawn, stop, wait_healthy

RUNS = 200
FLOW = {
    "name": "crash_flow",
    "version": 1,
    "tasks": [
        {
            "name": "crash_double",
            "taskReferenceName": "double",
            "inputParameters": {"n": "${workflow.input.n}"},
        },
        {
            "name": "crash_increment",
            "taskReferenceName": "inc",
            "inputParameters": {"value": "${double.output.value}"},
        },
        {
            "name": "crash_square",
            "taskReferenceName": "square",
            "inputParameters": {"value": "${inc.output.value}"},
        },
    ],
    "outputParameters": {"result": "${square.output.value}", "n": "${workflow.input.n}"},
}
TASK_DEFS = [
    {"name": name, "retryCount": 2, "retryDelaySeconds": 0, "responseTimeoutSeconds": 5}
    for name in ("crash_double", "crash_increment", "crash_square")
]


def _count(client: httpx.Client, status: str) -> int:
    found = client.get("/api/workflow/search", params={"status": status, "size": 0}).json()
    total: int = found["totalHits"]
    return total


def _statuses(client: httpx.Client) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in ("RUNNING", "COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"):
        found = client.get("/api/workflow/search", params={"status": status, "size": 0}).json()
        counts[status] = found["totalHits"]
    return counts


def test_sigkill_mid_run_loses_nothing(tmp_path, store_choice):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_args = ["server", "--port", str(port)]
    store_env = store_choice.environment()
    server = spawn(server_args, tmp_path / "server.log", store_env)
    workers = []
    try:
        wait_healthy(url)
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.post("/api/metadata/taskdefs", json=TASK_DEFS).status_code == 200
            assert (
                client.post(
                    "/api/metadata/workflow", params={"overwrite": "true"}, json=FLOW
                ).status_code
                == 200
            )
            workers = [
                spawn(
                    ["worker", "tests.e2e.crash_workers", "--server", url],
                    tmp_path / f"worker{i}.log",
                )
                for i in range(2)
            ]
            ids = {
                client.post("/api/workflow/crash_flow", json={"n": n}).text: n for n in range(RUNS)
            }
            assert len(ids) == RUNS
            # Let the work get going, then kill the server in the middle of it.
            deadline = time.monotonic() + 60
            while (completed := _count(client, "COMPLETED")) < RUNS // 10:
                assert time.monotonic() < deadline, "workers made no progress before the crash"
                time.sleep(0.02)
            stop(server, signal.SIGKILL)
        assert completed < RUNS, "the crash came too late to test anything"
        time.sleep(0.5)

        server = spawn(server_args, tmp_path / "server.log", store_env)
        wait_healthy(url)
        with httpx.Client(base_url=url, timeout=30) as client:
            deadline = time.monotonic() + 120
            while _statuses(client)["COMPLETED"] < RUNS:
                counts = _statuses(client)
                assert counts["FAILED"] == counts["TIMED_OUT"] == 0, counts
                assert time.monotonic() < deadline, f"runs did not all complete: {counts}"
                time.sleep(0.2)
            for run_id, n in ids.items():
                body = client.get(f"/api/workflow/{run_id}").json()
                assert body["status"] == "COMPLETED"
                assert body["output"] == {"result": (n * 2 + 1) ** 2, "n": n}, body
                assert [
                    t["referenceTaskName"] for t in body["tasks"] if t["status"] == "COMPLETED"
                ] == ["double", "inc", "square"]
    finally:
        for worker in workers:
            stop(worker)
        stop(server)


def test_a_timer_that_fell_due_while_the_server_was_down_fires_at_restart(tmp_path, store_choice):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_args = ["server", "--port", str(port)]
    store_env = store_choice.environment()
    server = spawn(server_args, tmp_path / "server.log", store_env)
    try:
        wait_healthy(url)
        flow = {
            "name": "nap",
            "tasks": [
                {
                    "name": "w",
                    "taskReferenceName": "w",
                    "type": "WAIT",
                    "inputParameters": {"duration": "1s"},
                }
            ],
        }
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.post("/api/metadata/workflow", json=flow).status_code == 200
            run_id = client.post("/api/workflow/nap", json={}).text
        stop(server, signal.SIGKILL)
        time.sleep(1.5)  # the WAIT falls due while no server runs
        server = spawn(server_args, tmp_path / "server.log", store_env)
        wait_healthy(url)
        with httpx.Client(base_url=url, timeout=30) as client:
            deadline = time.monotonic() + 30  # generous: the machine may be busy
            while (body := client.get(f"/api/workflow/{run_id}").json())["status"] == "RUNNING":
                assert time.monotonic() < deadline, body
                time.sleep(0.05)
            assert body["status"] == "COMPLETED"
    finally:
        stop(server)
