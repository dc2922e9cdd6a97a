"""Fan-out: a FORK_JOIN_DYNAMIC of N SIMPLE branches and its JOIN, one worker; and Restate's.

Podium's time is the run's own (end - start, as the server stamped them); Restate's is the
call's wall time through its ingress, as in the peers' W3 (``bench.peers.restate_peer``). Each
is the median of ``runs`` after one run that warms up.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
from pathlib import Path
from typing import Any

from bench.big_runs.podium_server import BigServer, register, wait_run
from bench.peers.common import PYTHON, ROOT
from bench.run import _Api

FAN_OUT_TARGETS = {"sqlite": 1.0, "postgres": 2.0}
"""Podium's time / Restate's, at most, per store."""
RESTATE_TIMEOUT_S = 1800


def fan_out_flow(name: str = "big_fan_out") -> dict[str, Any]:
    """Branches of ``bench_noop``, one per item of the run's input ``inputs``, then the join."""
    return {
        "name": name,
        "version": 1,
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN_DYNAMIC",
                "inputParameters": {
                    "forkTaskName": "bench_noop",
                    "forkTaskInputs": "${workflow.input.inputs}",
                },
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN"},
        ],
    }


def branch_inputs(branches: int) -> dict[str, Any]:
    return {"inputs": [{"i": i} for i in range(branches)]}


async def _measure(client: _Api, branches: int, runs: int, timeout: float) -> list[float]:
    await register(client, fan_out_flow())
    took: list[float] = []
    for i in range(runs + 1):  # the first warms up
        run_id = await client.post("/api/workflow/big_fan_out", branch_inputs(branches))
        body = await wait_run(client, run_id, timeout, label=f"fan-out x {branches}")
        if i:
            took.append(float(body["endTime"] - body["startTime"]))
    return took


def measure_podium(server: BigServer, branches: int, runs: int, timeout: float) -> dict[str, Any]:
    took: list[float] = asyncio.run(
        server.call(lambda client: _measure(client, branches, runs, timeout))
    )
    return {"median_ms": statistics.median(took), "runs_ms": took}


def measure_restate(work: Path, branches: int, runs: int) -> dict[str, Any]:
    """Restate's fan-out, run by ``restate_fan_out`` in the peers' virtualenv.

    The caller installs the peers first (``bench.peers.__main__._ensure_peers_installed``);
    whatever stops Restate from running comes back as ``{"error": why}``.
    """
    if not PYTHON.exists():
        return {"error": f"the peers' virtualenv is missing ({PYTHON})"}
    out = work / "restate.json"
    command = [str(PYTHON), "-m", "bench.big_runs.restate_fan_out", "--json-out", str(out)]
    command += ["--work", str(work / "restate"), "--branches", str(branches), "--runs", str(runs)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        subprocess.run(command, cwd=ROOT, env=env, timeout=RESTATE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"Restate's fan-out did not finish in {RESTATE_TIMEOUT_S}s"}
    if not out.exists():
        return {"error": "the Restate script wrote no result (see its output above)"}
    result: dict[str, Any] = json.loads(out.read_text())
    return result
