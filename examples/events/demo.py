"""The hybrid order flow, end to end, in one process.

``python -m examples.events.demo [--db .podium/events-demo.db] [--port 0]``

It starts a Podium server on a SQLite file, the warehouse and shipping workers (orchestrated)
and the notification and loyalty services (choreographed: they only see events), registers
``order_shipping.json``, runs two orders — one for a customer the loyalty programme refuses —
and prints ``podium trace`` for each. Exits 0 when both traces look as they should.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

from rich.console import Console

from examples.events import services, workers
from podium.cli_trace import render_trace
from podium.client import PodiumClient
from podium.testing import PodiumTestServer
from podium.worker import WorkerRunner

__all__ = ["main"]

HERE = Path(__file__).resolve().parent


def _run_order(podium: PodiumClient, order_id: str, customer: str) -> None:
    run_id = podium.start_workflow(
        "order_shipping",
        {"orderId": order_id, "customer": customer, "total": 180, "items": [{"sku": "MUG-1"}]},
        correlation_id=order_id,
    )
    podium.wait_for(run_id, timeout=30, poll_interval=0.1)


def _settled(podium: PodiumClient, order_id: str) -> dict:
    """The trace once nothing in it is still pending (services may need a retry or two)."""
    deadline = time.monotonic() + 30
    while True:
        trace = podium.trace(order_id)
        pending = [p for p in trace["problems"] if p["kind"] in ("undelivered", "waiting")]
        if not pending or time.monotonic() > deadline:
            return trace
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=".podium/events-demo.db")
    args = parser.parse_args(argv)
    Path(args.db).unlink(missing_ok=True)
    console = Console()
    definitions = json.loads((HERE / "order_shipping.json").read_text())
    with (
        PodiumTestServer(args.db, sweep_interval_s=0.2) as server,
        PodiumClient(server.url) as podium,
    ):
        console.print(f"Podium on {server.url} (SQLite {args.db})")
        podium.register_task_defs(definitions["taskDefs"])
        podium.register_workflow(definitions["workflows"][0])
        consumers = [
            services.notification_service(server.url),
            services.loyalty_service(server.url),
        ]
        for consumer in consumers:
            consumer.subscribe()
        threads = [threading.Thread(target=c.run, daemon=True) for c in consumers]
        runner = WorkerRunner(server.url, [workers.pack_order, workers.ship_order])
        threads.append(threading.Thread(target=runner.run, daemon=True))
        for thread in threads:
            thread.start()
        try:
            _run_order(podium, "order-1001", "ada")
            _run_order(podium, "order-1002", "mallory")
            good, bad = _settled(podium, "order-1001"), _settled(podium, "order-1002")
        finally:
            runner.stop()
            for consumer in consumers:
                consumer.stop()
        for trace in (good, bad):
            console.rule(trace["correlationId"])
            render_trace(trace, console)
    ok = good["status"] == "COMPLETED" and (bad["stoppedAt"] or {}).get("service") == "loyalty"
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
