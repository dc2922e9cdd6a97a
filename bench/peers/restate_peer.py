"""Restate: the server from npm (``@restatedev/restate-server``) and the Python SDK (PyPI
``restate-sdk``) served by hypercorn; both are started and stopped here.

Every step is a ``ctx.run`` whose result the server journals before the handler goes on. Runs
are started through the server's HTTP ingress: W1 and W3 call and wait, W2 calls 500 at once,
W4 sends (``/send``) handlers that sleep for a day, and reads the server's memory.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import time
from datetime import timedelta
from typing import Any

import aiohttp
import restate

from bench.peers.common import (
    HOME,
    VENV,
    Sizes,
    free_port,
    per_step,
    rss_mb,
    run_peer,
    spawn,
    terminate,
    w4_result,
    wait_port,
)

SERVER = HOME / "restate" / "node_modules" / ".bin" / "restate-server"
bench = restate.Service("bench")


async def _noop(i: int) -> int:
    return i + 1


@bench.handler()
async def sequence(ctx: restate.Context, steps: int) -> int:
    i = 0
    for _ in range(steps):
        i = await ctx.run("step", _noop, args=(i,))
    return i


@bench.handler()
async def fan_out(ctx: restate.Context, branches: int) -> int:
    futures = [ctx.run("branch", _noop, args=(b,)) for b in range(branches)]
    await restate.gather(*futures)
    return sum([await f for f in futures])


@bench.handler()
async def parked(ctx: restate.Context, i: int) -> None:
    await ctx.sleep(timedelta(days=1))


app = restate.app(services=[bench])


class RestatePeer:
    name = "Restate (server + Python SDK on hypercorn)"

    def __init__(self, args: argparse.Namespace) -> None:
        self.work = args.work
        self.loop = asyncio.new_event_loop()
        self.server: subprocess.Popen[bytes] | None = None
        self.service: subprocess.Popen[bytes] | None = None
        self.notes: list[str] = []

    def start(self) -> None:
        if not SERVER.exists():
            raise RuntimeError(f"{SERVER} is missing (npm install @restatedev/restate-server)")
        self.ingress, admin, node, sdk = (free_port() for _ in range(4))
        self.server = spawn(
            [str(SERVER), "--no-logo", "--listen-mode", "tcp"],
            self.work / "restate.log",
            {
                "RESTATE_BASE_DIR": str(self.work / "restate-data"),
                "RESTATE_INGRESS__BIND_ADDRESS": f"127.0.0.1:{self.ingress}",
                "RESTATE_ADMIN__BIND_ADDRESS": f"127.0.0.1:{admin}",
                "RESTATE_BIND_ADDRESS": f"127.0.0.1:{node}",
                "RESTATE_DISABLE_TELEMETRY": "true",
                "RESTATE_LOG_FILTER": "warn",
            },
        )
        self.service = spawn(
            [
                str(VENV / "bin" / "hypercorn"),
                "bench.peers.restate_peer:app",
                "--bind",
                f"127.0.0.1:{sdk}",
                "--log-level",
                "warning",
            ],
            self.work / "hypercorn.log",
        )
        wait_port(admin)
        wait_port(sdk)
        wait_port(self.ingress)
        self.loop.run_until_complete(self._register(admin, sdk))

    async def _register(self, admin: int, sdk: int) -> None:
        self.session = aiohttp.ClientSession(
            f"http://127.0.0.1:{self.ingress}", connector=aiohttp.TCPConnector(limit=64)
        )
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 60
            while True:
                async with session.post(
                    f"http://127.0.0.1:{admin}/deployments",
                    json={"uri": f"http://127.0.0.1:{sdk}"},
                ) as response:
                    if response.status < 300:
                        break
                    text = await response.text()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"registration failed: {response.status} {text}")
                await asyncio.sleep(0.5)
        await self._call("sequence", 1)

    async def _call(self, handler: str, body: Any, send: bool = False) -> Any:
        path = f"/bench/{handler}" + ("/send" if send else "")
        async with self.session.post(path, json=body) as response:
            if response.status >= 300:
                raise RuntimeError(f"{path}: {response.status} {await response.text()}")
            return await response.json()

    def _go(self, job: Any) -> Any:
        return self.loop.run_until_complete(job)

    def w1(self, sizes: Sizes) -> dict[str, Any]:
        async def go() -> list[float]:
            took = []
            for i in range(sizes.w1_runs + 2):
                began = time.perf_counter()
                await self._call("sequence", sizes.w1_steps)
                if i >= 2:
                    took.append(time.perf_counter() - began)
            return took

        return per_step(self._go(go()), sizes.w1_steps)

    def w2(self, sizes: Sizes) -> dict[str, Any]:
        async def go() -> float:
            began = time.perf_counter()
            await asyncio.gather(
                *(self._call("sequence", sizes.w2_steps) for _ in range(sizes.w2_runs))
            )
            return sizes.w2_runs * sizes.w2_steps / (time.perf_counter() - began)

        rates = [self._go(go()) for _ in range(sizes.w2_rounds)]
        return {"steps_per_s": statistics.median(rates), "low": min(rates), "high": max(rates)}

    def w3(self, sizes: Sizes) -> dict[str, Any]:
        async def go() -> list[float]:
            took = []
            for i in range(sizes.w3_runs + 1):
                began = time.perf_counter()
                await self._call("fan_out", sizes.w3_branches)
                if i:
                    took.append(time.perf_counter() - began)
            return took

        return {"median_ms": statistics.median(self._go(go())) * 1000}

    def w4(self, sizes: Sizes) -> dict[str, Any]:
        assert self.server is not None
        pid = self.server.pid

        async def go() -> dict[str, Any]:
            rss = {0: rss_mb(pid)}
            began = time.perf_counter()
            done = 0
            for mark in sizes.checkpoints():
                while done < mark and time.perf_counter() - began < sizes.w4_budget_s:
                    batch = min(32, mark - done)
                    await asyncio.gather(
                        *(self._call("parked", done, send=True) for _ in range(batch))
                    )
                    done += batch
                rss[done] = rss_mb(pid)
                if done < mark:
                    break
            return w4_result(done, time.perf_counter() - began, rss, sizes.parked)

        return dict(self._go(go()))

    def stop(self) -> None:
        session = getattr(self, "session", None)
        if session is not None:
            self._go(session.close())
        terminate(self.service)
        terminate(self.server, timeout=30)


if __name__ == "__main__":
    run_peer(RestatePeer, __doc__)
