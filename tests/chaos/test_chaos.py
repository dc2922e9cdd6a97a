"""Chaos: a mixed workload while server and worker processes are SIGKILLed and restarted.

On PostgreSQL two server instances share the store; on SQLite the one instance is killed
and restarted. Two worker processes run sequential steps, a fork, a step whose first attempt
fails and a WAIT timer. Victims are picked at random (the seed is printed on failure) for a
bounded time, on loopback only. Afterwards every run must be COMPLETED with the output its
input implies, and no step's side effect may have happened twice.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx

from podium.testing import free_port
from tests.e2e.processes import spawn, stop, wait_healthy

RUNS = 24
CHAOS_S = float(os.environ.get("PODIUM_CHAOS_SECONDS", "20"))
LEASE_S = 2
EFFECT_STEPS = 4  # ch_add, ch_double, ch_flaky (its success), ch_sum


def _flow() -> dict[str, object]:
    return {
        "name": "chaos_flow",
        "version": 1,
        "tasks": [
            {
                "name": "ch_add",
                "taskReferenceName": "add",
                "inputParameters": {"value": "${workflow.input.value}"},
            },
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [
                        {
                            "name": "ch_double",
                            "taskReferenceName": "double",
                            "inputParameters": {"value": "${add.output.value}"},
                        }
                    ],
                    [
                        {
                            "name": "ch_flaky",
                            "taskReferenceName": "flaky",
                            "inputParameters": {"value": "${add.output.value}"},
                        },
                        {
                            "name": "pause",
                            "taskReferenceName": "pause",
                            "type": "WAIT",
                            "inputParameters": {"duration": "1s"},
                        },
                    ],
                ],
            },
            {
                "name": "join",
                "taskReferenceName": "join",
                "type": "JOIN",
                "joinOn": ["double", "pause"],
            },
            {
                "name": "ch_sum",
                "taskReferenceName": "sum",
                "inputParameters": {
                    "left": "${double.output.value}",
                    "right": "${flaky.output.value}",
                },
            },
        ],
        "outputParameters": {"value": "${sum.output.value}"},
    }


def _expected(value: int) -> int:
    return (value + 1) * 2 + (value + 1) + 10


class Cluster:
    """The server and worker processes, each restartable on the same address."""

    def __init__(self, tmp_path: Path, env: dict[str, str], servers: int) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.ports = [free_port() for _ in range(servers)]
        self.urls = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.servers: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self.restarts = 0

    def start_server(self, i: int) -> subprocess.Popen[bytes]:
        log = self.tmp_path / f"server{i}.log"
        return spawn(["server", "--port", str(self.ports[i])], log, self.env)

    def start_worker(self, i: int) -> subprocess.Popen[bytes]:
        order = self.urls if i % 2 == 0 else self.urls[::-1]
        args = ["worker", "tests.chaos.chaos_workers", "--server", ",".join(order)]
        return spawn(args, self.tmp_path / f"worker{i}.log", self.env)

    def up(self) -> None:
        self.servers = [self.start_server(i) for i in range(len(self.ports))]
        for url in self.urls:
            wait_healthy(url)
        self.workers = [self.start_worker(i) for i in range(2)]

    def kill_and_restart(self, rng: random.Random) -> str:
        victims = [("server", i) for i in range(len(self.servers))]
        victims += [("worker", i) for i in range(len(self.workers))]
        kind, i = rng.choice(victims)
        group = self.servers if kind == "server" else self.workers
        stop(group[i], signal.SIGKILL)
        time.sleep(rng.uniform(0.2, 1.5))
        group[i] = self.start_server(i) if kind == "server" else self.start_worker(i)
        if kind == "server":
            wait_healthy(self.urls[i])
        self.restarts += 1
        return f"{kind}{i}"

    def down(self) -> None:
        for process in [*self.workers, *self.servers]:
            stop(process)


def _post(urls: list[str], path: str, **kwargs: object) -> httpx.Response:
    """POST to whichever instance answers, retrying while instances are being restarted."""
    deadline = time.monotonic() + 60
    while True:
        for url in urls:
            try:
                response = httpx.post(url + path, timeout=10, **kwargs)  # type: ignore[arg-type]
            except httpx.HTTPError:
                continue
            if response.status_code < 500:
                return response
        assert time.monotonic() < deadline, f"no instance took POST {path}"
        time.sleep(0.2)


def _effects_db(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE deliveries (key TEXT NOT NULL, task_id TEXT NOT NULL)")
        conn.execute("CREATE TABLE applied (key TEXT PRIMARY KEY)")
        conn.execute("CREATE TABLE effects (key TEXT NOT NULL)")


def test_random_kills_lose_nothing_and_repeat_no_side_effect(tmp_path, store_choice):
    seed = int(os.environ.get("PODIUM_CHAOS_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    effects_path = tmp_path / "effects.db"
    _effects_db(effects_path)
    env = {
        **store_choice.environment(),
        "PODIUM_SWEEP_INTERVAL_S": "0.3",
        "CHAOS_EFFECTS_DB": str(effects_path),
    }
    cluster = Cluster(tmp_path, env, servers=2 if store_choice.backend == "postgres" else 1)
    kills: list[str] = []
    try:
        cluster.up()
        urls = cluster.urls
        task_defs = [
            {
                "name": name,
                "retryCount": 3,
                "retryDelaySeconds": 0,
                "responseTimeoutSeconds": LEASE_S,
                "timeoutSeconds": 0,
            }
            for name in ("ch_add", "ch_double", "ch_flaky", "ch_sum")
        ]
        assert _post(urls, "/api/metadata/taskdefs", json=task_defs).status_code == 200
        registered = _post(urls, "/api/metadata/workflow?overwrite=true", json=_flow())
        assert registered.status_code == 200, registered.text

        ids: dict[str, int] = {}
        began = time.monotonic()
        next_kill = began + rng.uniform(0.5, 2.0)
        value = 0
        while time.monotonic() - began < CHAOS_S:
            if value < RUNS:
                # The idempotency key makes a start retried after a lost answer start once.
                started = _post(
                    urls,
                    "/api/workflow/chaos_flow",
                    json={"value": value},
                    params={"idempotencyKey": f"chaos-{value}"},
                )
                assert started.status_code == 200, started.text
                ids[started.text] = value
                value += 1
            if time.monotonic() >= next_kill:
                kills.append(cluster.kill_and_restart(rng))
                next_kill = time.monotonic() + rng.uniform(0.5, 2.5)
            time.sleep(0.1)
        while value < RUNS:
            started = _post(
                urls,
                "/api/workflow/chaos_flow",
                json={"value": value},
                params={"idempotencyKey": f"chaos-{value}"},
            )
            ids[started.text] = value
            value += 1
        assert len(ids) == RUNS, "a retried start made a second run"
        assert kills, "nothing was killed"

        deadline = time.monotonic() + 120
        pending = dict(ids)
        with httpx.Client(base_url=urls[0], timeout=10) as client:
            while pending:
                assert time.monotonic() < deadline, (
                    f"seed {seed}, kills {kills}: {len(pending)} runs unfinished, e.g. "
                    f"{client.get(f'/api/workflow/{next(iter(pending))}').text[:2000]}"
                )
                for run_id in list(pending):
                    body = client.get(
                        f"/api/workflow/{run_id}", params={"includeTasks": "false"}
                    ).json()
                    if body["status"] in ("RUNNING", "PAUSED"):
                        continue
                    assert body["status"] == "COMPLETED", (seed, kills, body)
                    assert body["output"] == {"value": _expected(pending.pop(run_id))}, body
                time.sleep(0.3)
    finally:
        cluster.down()

    with sqlite3.connect(effects_path) as conn:
        repeated = conn.execute(
            "SELECT key, COUNT(*) FROM effects GROUP BY key HAVING COUNT(*) > 1"
        ).fetchall()
        effects = conn.execute("SELECT COUNT(DISTINCT key), COUNT(*) FROM effects").fetchone()
        deliveries = conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()
    assert repeated == [], (seed, kills)
    assert effects == (RUNS * EFFECT_STEPS, RUNS * EFFECT_STEPS), (seed, kills)
    assert deliveries is not None and deliveries[0] >= RUNS * EFFECT_STEPS
