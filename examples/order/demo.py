"""Podium's main demo: an order workflow across three separate service processes.

``python -m examples.order.demo [--port 8080] [--db .podium/demo.db] [--runs 5] [--exit]``

It starts, each as its own process, the Podium server, the shipping service and the
inventory/payment workers; registers ``services.json`` (who owns each service, and the
shipping service's circuit breaker) and ``order_workflow.json``; then runs two scenarios
(:mod:`examples.order.scenarios`):

1. ``--runs`` happy orders plus one with an out-of-stock item and one too large for the card,
   shown live. Both failing orders end COMPENSATED, naming the service at fault and its owner;
   the declined one gives its reserved stock back.
2. A shipping outage: the shipping service's breaker opens, an order's shipment is held while
   it is open, and ships once the service is back and the breaker has closed.

The payment service declares a webhook channel pointing at a small receiver the demo starts
(:mod:`examples.order.notification_receiver`), which checks each notification's signature;
the demo prints the notification the declined card sent the payment team.

It prints how each order ended, then keeps everything running (so that the API and its docs
can be explored) until Ctrl-C. With ``--exit`` it stops after the results instead, and exits 0
only if everything went as expected, which makes the demo a smoke test too.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.text import Text

from examples.order.api import (
    WORKFLOW_NAME,
    WORKFLOW_VERSION,
    register_definitions,
    register_services,
)
from examples.order.orders import build_orders
from examples.order.processes import (
    HOST,
    Children,
    DemoError,
    ensure_port_free,
    free_port,
    reset_database,
    show,
    wait_until_ready,
)
from examples.order.report import print_results
from examples.order.scenarios import Demo, run_orders, run_outage

__all__ = ["main", "parse_args"]


def _default_port() -> int:
    """``PODIUM_PORT``, as the server reads it, so that ``PODIUM_PORT=8081 make demo`` works."""
    raw = os.environ.get("PODIUM_PORT", "").strip()
    if not raw:
        return 8080
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"PODIUM_PORT must be a port number, not {raw!r}") from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The demo's options, checked."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.order.demo",
        description="Run the order workflow across a Podium server, workers and a shipping service.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=_default_port(),
        help="Podium server port; 0 picks a free one (default: PODIUM_PORT, else 8080)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=Path(".podium/demo.db"),
        help="SQLite file, recreated at start (default .podium/demo.db)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=5,
        help="how many happy orders to run; one out-of-stock and one declined order, and two for the shipping outage, are always added (default 5)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds to wait for each scenario's orders to finish (default 60)",
    )
    parser.add_argument(
        "--exit",
        action="store_true",
        help="stop after the results; exit status 0 only if everything went as expected",
    )
    args = parser.parse_args(argv)
    if args.runs < 0:
        parser.error("--runs must be 0 or more")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    return args


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM (and SIGHUP) into SystemExit, so that ``finally`` stops the children."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_demo(args: argparse.Namespace, console: Console, children: Children) -> int:
    """Everything between starting the first process and stopping the last; returns the exit code."""
    db: Path = args.db.resolve()
    port = args.port or free_port()
    if args.port:
        ensure_port_free(port)
    url = f"http://{HOST}:{port}"
    api = f"{url}/api"
    shipping_port = free_port()
    shipping_url = f"http://{HOST}:{shipping_port}"
    hook_port = free_port()
    hook_url = f"http://{HOST}:{hook_port}"
    hook_secret = secrets.token_hex(16)
    hooks = children.log_dir / "notifications.jsonl"
    hooks.unlink(missing_ok=True)

    with httpx.Client(timeout=10.0) as client:
        server = children.start("server", "podium", "server", "--db", str(db), "--port", str(port))
        shipping = children.start(
            "shipping", "examples.order.shipping_service", "--port", str(shipping_port)
        )
        console.print(
            f"▸ Podium server     {url}  (pid {server.process.pid}, log {show(server.log_path)})"
        )
        console.print(
            f"▸ shipping service  {shipping_url}  (pid {shipping.process.pid}, log {show(shipping.log_path)})"
        )
        receiver = children.start(
            "receiver",
            "examples.order.notification_receiver",
            "--port",
            str(hook_port),
            "--secret",
            hook_secret,
            "--out",
            str(hooks),
        )
        console.print(
            f"▸ payment team's webhook receiver  {hook_url}  (pid {receiver.process.pid})"
        )
        took = wait_until_ready(client, f"{api}/health", server, children, timeout=30)
        wait_until_ready(client, f"{shipping_url}/health", shipping, children, timeout=30)
        wait_until_ready(client, f"{hook_url}/ready", receiver, children, timeout=30)
        console.print(f"  all are up ({took:.1f} s)")

        payment_hook = {"kind": "webhook", "url": f"{hook_url}/payments", "secret": hook_secret}
        services = register_services(client, api, {"payment": [payment_hook]})
        for service in services:
            breaker = service.get("circuitBreaker")
            console.print(
                f"▸ registered service {service['name']:<9} owner {service['owner']}, "
                f"on call {service.get('onCall', '-')}"
                + (
                    f"; breaker opens after {breaker['failureThreshold']} failures "
                    f"for {breaker['openSeconds']} s"
                    if breaker
                    else ""
                )
            )
        definitions = register_definitions(client, api)
        task_names = ", ".join(t["name"] for t in definitions["taskDefs"])
        console.print(
            f"▸ registered task definitions ({task_names}) and workflow {WORKFLOW_NAME} v{WORKFLOW_VERSION}"
        )

        workers = children.start(
            "workers", "podium", "worker", "examples.order.workers", "--server", url
        )
        console.print(
            f"▸ workers           reserve_inventory, release_inventory, charge_payment  "
            f"(pid {workers.process.pid}, log {show(workers.log_path)})"
        )

        demo = Demo(client, api, shipping_url, children, console, args.timeout)
        orders = build_orders(args.runs, shipping_url)
        console.print(
            f"▸ starting {len(orders)} orders: {args.runs} ordinary, 1 with an out-of-stock item, 1 over the card limit"
        )
        runs = run_orders(demo, orders)
        outage_runs, problems = run_outage(demo, len(orders) + 1)
        problems = print_results([*runs, *outage_runs], console, problems)
        problems += _show_notification(console, hooks, args.timeout)

        if args.exit:
            return 1 if problems else 0

        console.print()
        console.print(f"Podium is running at [bold]{url}[/] — API docs at [bold]{url}/docs[/]")
        console.print(f"Watch the runs in the UI at [bold]{url}/ui/[/]")
        console.print(f"Try: curl -s '{api}/workflow/{runs[-1].workflow_id}?includeTasks=true'")
        console.print(f"     curl -s '{api}/services/shipping'")
        console.print(f"     podium notifications list --server {url}")
        console.print("Press Ctrl-C to stop everything.")
        try:
            while True:
                children.check_alive()
                time.sleep(0.5)
        except KeyboardInterrupt:
            # Ctrl-C is the normal way out here; the exit status still tells how the runs went.
            console.print()
            return 1 if problems else 0


def _show_notification(console: Console, hooks: Path, timeout: float) -> list[str]:
    """Print the notification the payment team's receiver got; the problems, if none came."""
    deadline = time.monotonic() + timeout
    while not hooks.exists() or not hooks.read_text().strip():
        if time.monotonic() > deadline:
            return ["the payment team's receiver got no notification"]
        time.sleep(0.2)
    received = [json.loads(line) for line in hooks.read_text().splitlines() if line.strip()]
    console.print(
        Text("Notification received by the payment team (signature verified)", style="bold")
    )
    for hook in received:
        message = hook["message"]
        service = message.get("service") or {}
        console.print(f"  {message['event']}: {message['summary']}")
        console.print(f"    run      {message['run']['url']}")
        for label, key in (("owner", "owner"), ("on call", "onCall"), ("runbook", "runbook")):
            if service.get(key):
                console.print(f"    {label:<8} {service[key]}")
    console.print()
    if len(received) != 1:
        return [f"the payment team's receiver got {len(received)} notifications, not 1"]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; the return value is the process exit status."""
    args = parse_args(argv)
    # soft_wrap: long lines (paths, reasons) stay whole, so they can be copied and grepped.
    console = Console(highlight=False, soft_wrap=True)
    db: Path = args.db.resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    reset_database(db)
    log_dir = db.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    console.print(Text("Podium order demo", style="bold"))
    console.print(f"  database {show(db)} (fresh), logs in {show(log_dir)}/")
    children = Children(log_dir)
    code = 1
    with _stop_on_sigterm():
        try:
            code = run_demo(args, console, children)
        except KeyboardInterrupt:
            console.print("\nInterrupted before the runs finished.")
            code = 130
        except DemoError as error:
            console.print(Text(f"✘ {error}", style="red"))
            code = 1
        except httpx.HTTPError as error:
            # The server stopped answering mid-demo; its log says why better than a traceback.
            console.print(
                Text(
                    f"✘ lost contact with a service: {error!r}; see the logs in {show(log_dir)}/",
                    style="red",
                )
            )
            code = 1
        finally:
            if children.children:
                # A second Ctrl-C must not cut the clean-up short and leave processes behind.
                previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
                try:
                    console.print(f"Stopping {len(children.children)} processes…")
                    children.stop_all()
                finally:
                    signal.signal(signal.SIGINT, previous)
                console.print("Stopped. Bye!")
    return code


if __name__ == "__main__":
    sys.exit(main())
