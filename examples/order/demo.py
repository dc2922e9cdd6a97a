"""Podium's main demo: an order workflow across three separate service processes.

``python -m examples.order.demo [--port 8080] [--db .podium/demo.db] [--runs 5] [--exit]``

It starts, each as its own process, the Podium server, the shipping service and the
inventory/payment workers; registers ``order_workflow.json``; starts ``--runs`` happy orders
plus one with an out-of-stock item and one too large for the card; shows their progress live;
prints how each one ended; then keeps everything running (so that the API and its docs can be
explored) until Ctrl-C. With ``--exit`` it stops after the results instead, and exits 0 only if
every order ended as expected, which makes the demo a smoke test too.

Only the REST API is used (through httpx), exactly as any other client would use it.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

__all__ = ["Order", "Run", "build_orders", "check_outcome", "failure_reason", "main"]

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
DEFINITIONS = HERE / "order_workflow.json"
WORKFLOW_NAME = "order_fulfilment"
WORKFLOW_VERSION = 1
HOST = "127.0.0.1"

TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})
_FAILED_TASK_STATUSES = frozenset({"FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT"})
_STEPS = ("reserve", "charge", "ship")

# A small shop: (sku, name, unit price in EUR).
_CATALOG = (
    ("KB-104", "Mechanical keyboard", 89.00),
    ("MS-220", "Wireless mouse", 34.50),
    ("MN-27Q", '27" monitor', 279.00),
    ("HB-050", "USB-C hub", 45.90),
    ("CB-002", "Cable pack", 12.00),
)
_CUSTOMERS = (
    {
        "name": "Ada Lovelace",
        "line1": "12 St James's Square",
        "city": "London",
        "postcode": "SW1Y 4JH",
        "country": "GB",
    },
    {
        "name": "Grace Hopper",
        "line1": "Keizersgracht 123",
        "city": "Amsterdam",
        "postcode": "1015 CJ",
        "country": "NL",
    },
    {
        "name": "Alan Turing",
        "line1": "Hauptstrasse 5",
        "city": "Berlin",
        "postcode": "10827",
        "country": "DE",
    },
    {
        "name": "Edsger Dijkstra",
        "line1": "Rue de Rivoli 40",
        "city": "Paris",
        "postcode": "75004",
        "country": "FR",
    },
)


class DemoError(Exception):
    """The demo cannot go on; the message says why and, where it helps, which log to read."""


# --------------------------------------------------------------------------------------------
# Orders and their expected outcomes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Order:
    """One order to run, and how it is expected to end."""

    correlation_id: str
    scenario: str
    input: dict[str, Any]
    expect_status: str
    expect_reason: str | None = None
    """Text the failure reason must contain, for orders meant to fail."""


def _line(sku: str, qty: int) -> dict[str, Any]:
    """An order line as the inventory worker takes it."""
    return {"sku": sku, "qty": qty}


def _total(lines: Sequence[dict[str, Any]], prices: dict[str, float]) -> float:
    """What the order costs, rounded to cents as a payment API wants it."""
    return round(sum(prices[str(line["sku"])] * int(line["qty"]) for line in lines), 2)


def build_orders(happy: int, shipping_url: str) -> list[Order]:
    """``happy`` ordinary orders, then one with an out-of-stock item and one the card declines.

    The orders are the same on every run of the demo, so that what it shows is repeatable.
    """
    prices = {sku: price for sku, _, price in _CATALOG}
    prices["OUT-OF-STOCK"] = 19.99
    orders: list[Order] = []

    def add(scenario: str, lines: list[dict[str, Any]], expect: str, reason: str | None) -> None:
        n = len(orders) + 1
        orders.append(
            Order(
                correlation_id=f"order-{n}",
                scenario=scenario,
                input={
                    "orderId": f"order-{n}",
                    "items": lines,
                    "amount": _total(lines, prices),
                    "currency": "EUR",
                    "address": _CUSTOMERS[(n - 1) % len(_CUSTOMERS)],
                    "shippingUrl": shipping_url,
                },
                expect_status=expect,
                expect_reason=reason,
            )
        )

    for i in range(happy):
        first, second = _CATALOG[i % len(_CATALOG)], _CATALOG[(i + 2) % len(_CATALOG)]
        add("happy", [_line(first[0], 1 + i % 2), _line(second[0], 1)], "COMPLETED", None)
    add("out of stock", [_line("KB-104", 1), _line("OUT-OF-STOCK", 1)], "FAILED", "out of stock")
    # 40 monitors come to 11,160 EUR: over the demo bank's 10,000 card limit.
    add("card declined", [_line("MN-27Q", 40)], "FAILED", "card declined")
    return orders


@dataclass(slots=True)
class Run:
    """An order once started: its workflow id and the last state the server reported."""

    order: Order
    workflow_id: str
    snapshot: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The run's status; STARTING until the server has been asked once."""
        return str(self.snapshot.get("status") or "STARTING")

    @property
    def finished(self) -> bool:
        """True once the run can change no more."""
        return self.status in TERMINAL_STATUSES

    @property
    def tasks(self) -> list[dict[str, Any]]:
        """The run's tasks as last reported, attempts included."""
        tasks = self.snapshot.get("tasks")
        return [t for t in tasks if isinstance(t, dict)] if isinstance(tasks, list) else []


def failure_reason(workflow: dict[str, Any]) -> str:
    """Why a run did not complete: the workflow's reason plus each failed task's own reason.

    Both are shown because the workflow's reason may only say *which* task failed, while the
    task's says *why* (``out of stock: ...``), and that is what a reader wants.
    """
    reasons: list[str] = []
    top = workflow.get("reasonForIncompletion")
    if top:
        reasons.append(str(top))
    tasks = workflow.get("tasks")
    for task in tasks if isinstance(tasks, list) else []:
        if not isinstance(task, dict) or task.get("status") not in _FAILED_TASK_STATUSES:
            continue
        reason = task.get("reasonForIncompletion")
        if reason and not any(str(reason) in seen for seen in reasons):
            reasons.append(f"{task.get('referenceTaskName', '?')}: {reason}")
    return "; ".join(reasons) or "(no reason given)"


def check_outcome(order: Order, workflow: dict[str, Any]) -> str | None:
    """``None`` when the run ended as ``order`` expects, otherwise what went differently."""
    status = workflow.get("status") or "unknown"
    if status not in TERMINAL_STATUSES:
        return f"still {status} when the demo gave up waiting"
    if status != order.expect_status:
        detail = f" ({failure_reason(workflow)})" if status != "COMPLETED" else ""
        return f"ended {status}, expected {order.expect_status}{detail}"
    if status == "COMPLETED":
        output = workflow.get("output")
        if not isinstance(output, dict) or not output.get("trackingNumber"):
            return f"completed without a tracking number (output: {json.dumps(output)})"
        return None
    reason = failure_reason(workflow)
    if order.expect_reason and order.expect_reason.lower() not in reason.lower():
        return f"failed for another reason: {reason} (expected {order.expect_reason!r})"
    return None


# --------------------------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------------------------


def _parent_death_hook() -> Callable[[], None] | None:
    """On Linux, a hook that makes a child get SIGTERM when the demo dies, even by SIGKILL.

    try/finally covers every way out of the demo except being killed outright; this covers
    that one, so that no server or worker is ever left behind.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)

    return hook


@dataclass(slots=True)
class Child:
    """A service process the demo started, and the log its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]


class Children:
    """Starts the demo's processes and makes sure every one of them is stopped."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []
        self._preexec = _parent_death_hook()
        self._env = dict(os.environ)
        # The children must import ``examples`` and ``podium`` from this tree wherever the demo
        # was started from, and write their logs as they go, not when a buffer fills.
        self._env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
        )
        self._env["PYTHONUNBUFFERED"] = "1"

    def start(self, name: str, *args: str) -> Child:
        """Start ``python -m <args>`` with the demo's own interpreter, output to ``<name>.log``."""
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("wb")
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", *args],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=self._env,
                # Their own session: Ctrl-C reaches only the demo, which then stops them in
                # order (workers first) instead of everything dying at once mid-request.
                start_new_session=True,
                # preexec_fn is unsafe only with threads running; none are until the live view.
                preexec_fn=self._preexec,
            )
        except BaseException:
            log_file.close()
            raise
        child = Child(name, process, log_path, log_file)
        self.children.append(child)
        return child

    def check_alive(self) -> None:
        """Raise :class:`DemoError` if a child has exited: nothing would make progress then."""
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise DemoError(
                    f"the {child.name} process exited with code {code}; "
                    f"see {_show(child.log_path)}\n{log_tail(child.log_path)}"
                )

    def stop_all(self, timeout: float = 5.0) -> None:
        """Stop the children one by one, last started first: SIGTERM, then SIGKILL after ``timeout``.

        One by one, so that the workers have left before the server goes: they then finish
        what they hold and post it instead of seeing the server vanish under them.
        """
        while self.children:
            child = self.children.pop()
            _signal(child.process, signal.SIGTERM)
            try:
                child.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal(child.process, signal.SIGKILL)
                child.process.wait()
            finally:
                child.log_file.close()


def _signal(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the child's process group (it leads its own), so helpers it spawned go too."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        # Not (or no longer) a group leader: signal the process itself.
        try:
            process.send_signal(sig)
        except ProcessLookupError:
            pass


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a child's log, indented, to show next to an error."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    tail = text.rstrip().splitlines()[-lines:]
    return "\n".join("    " + line for line in tail)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def ensure_port_free(port: int) -> None:
    """Fail early, and helpfully, when the asked-for port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As servers set it, so that a port in TIME_WAIT from a previous demo still counts free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            raise DemoError(
                f"port {port} is already in use; pass --port 0 to use a free one"
            ) from None


def wait_until_ready(
    client: httpx.Client, url: str, child: Child, children: Children, timeout: float
) -> float:
    """Poll ``url`` until it answers 200; returns how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        children.check_alive()
        try:
            if client.get(url, timeout=1.0).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise DemoError(
        f"the {child.name} did not answer {url} within {timeout:.0f} s; see {_show(child.log_path)}\n"
        f"{log_tail(child.log_path)}"
    )


def reset_database(db: Path) -> None:
    """Remove a previous demo database (and SQLite's side files) so each demo starts afresh."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Talking to Podium
# --------------------------------------------------------------------------------------------


def _expect_ok(response: httpx.Response, what: str) -> None:
    if not response.is_success:
        raise DemoError(f"could not {what}: HTTP {response.status_code} {response.text[:500]}")


def register_definitions(client: httpx.Client, api: str) -> dict[str, Any]:
    """Register the task and workflow definitions of ``order_workflow.json``; returns them."""
    definitions: dict[str, Any] = json.loads(DEFINITIONS.read_text())
    _expect_ok(
        client.post(f"{api}/metadata/taskdefs", json=definitions["taskDefs"]),
        "register the task definitions",
    )
    for workflow in definitions["workflows"]:
        _expect_ok(
            client.post(f"{api}/metadata/workflow", params={"overwrite": "true"}, json=workflow),
            f"register workflow {workflow['name']}",
        )
    return definitions


def _workflow_id(response: httpx.Response) -> str:
    """The id from a start response: Conductor sends it as text/plain, some servers as JSON."""
    text = response.text.strip()
    if text.startswith("{"):
        body = response.json()
        return str(body.get("workflowId") or body.get("id") or "")
    return text.strip('"')


def start_order(client: httpx.Client, api: str, order: Order) -> Run:
    """Start one execution of the order workflow."""
    response = client.post(
        f"{api}/workflow/{WORKFLOW_NAME}",
        params={"version": WORKFLOW_VERSION, "correlationId": order.correlation_id},
        json=order.input,
    )
    _expect_ok(response, f"start {order.correlation_id}")
    workflow_id = _workflow_id(response)
    if not workflow_id:
        raise DemoError(
            f"starting {order.correlation_id} returned no workflow id: {response.text!r}"
        )
    return Run(order, workflow_id)


def refresh(client: httpx.Client, api: str, run: Run) -> None:
    """Fetch the run's current state; a failed fetch keeps the last one (the next poll retries)."""
    try:
        response = client.get(f"{api}/workflow/{run.workflow_id}", params={"includeTasks": "true"})
    except httpx.TransportError:
        return
    if response.status_code == 200:
        body = response.json()
        if isinstance(body, dict):
            run.snapshot = body


# --------------------------------------------------------------------------------------------
# What the demo shows
# --------------------------------------------------------------------------------------------

_STATUS_STYLES = {
    "COMPLETED": "bold green",
    "FAILED": "bold red",
    "TIMED_OUT": "bold red",
    "TERMINATED": "bold red",
    "RUNNING": "yellow",
    "PAUSED": "magenta",
}


def current_task(run: Run) -> str:
    """The step the run is at: the last task not finished yet, else the last one (and how it ended)."""
    tasks = run.tasks
    if not tasks:
        return "" if run.finished else "waiting for the first task"
    active = [t for t in tasks if t.get("status") in ("SCHEDULED", "IN_PROGRESS")]
    task = (active or tasks)[-1]
    return f"{task.get('referenceTaskName', '?')} · {task.get('status', '?')}"


def tasks_done(run: Run) -> str:
    """How many of the workflow's steps have completed, as ``done/total``."""
    done = {t.get("referenceTaskName") for t in run.tasks if t.get("status") == "COMPLETED"}
    return f"{len(done)}/{len(_STEPS)}"


def progress_table(runs: Sequence[Run]) -> Table:
    """The live view: one row per run."""
    table = Table(title=f"{WORKFLOW_NAME} v{WORKFLOW_VERSION}", title_justify="left")
    table.add_column("run")
    table.add_column("scenario")
    table.add_column("status")
    table.add_column("current task")
    table.add_column("done", justify="right")
    for run in runs:
        table.add_row(
            run.order.correlation_id,
            run.order.scenario,
            Text(run.status, style=_STATUS_STYLES.get(run.status, "")),
            current_task(run),
            tasks_done(run),
        )
    return table


def watch(
    client: httpx.Client,
    api: str,
    runs: list[Run],
    children: Children,
    console: Console,
    timeout: float,
) -> None:
    """Poll every unfinished run and redraw the table until all are done or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    with Live(progress_table(runs), console=console, refresh_per_second=8) as live:
        while True:
            children.check_alive()
            for run in runs:
                if not run.finished:
                    refresh(client, api, run)
            live.update(progress_table(runs))
            if all(run.finished for run in runs) or time.monotonic() > deadline:
                return
            time.sleep(0.25)


def _compact(output: Any) -> str:
    """A run's output as ``key=value`` pairs: shorter than JSON, and still exact."""
    if not isinstance(output, dict):
        return json.dumps(output)
    return "  ".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value)}"
        for key, value in output.items()
    )


def report(runs: Sequence[Run], console: Console) -> list[str]:
    """Print how each run ended; returns the runs that did not end as expected."""
    problems: list[str] = []
    console.print()
    console.print(Text("Results", style="bold"))
    for run in runs:
        order = run.order
        problem = check_outcome(order, run.snapshot)
        mark = Text(
            "  ✔ " if problem is None else "  ✘ ", style="green" if problem is None else "red"
        )
        status = Text(f"{run.status:<10}", style=_STATUS_STYLES.get(run.status, ""))
        head = Text.assemble(mark, f"{order.correlation_id:<9} ", status, " ")
        if run.status == "COMPLETED":
            body = _compact(run.snapshot.get("output"))
        elif run.finished:
            body = f"reason: {failure_reason(run.snapshot)}"
        else:
            body = "did not finish in time"
        console.print(Text.assemble(head, body))
        if problem is not None:
            note = f"{order.correlation_id} ({order.scenario}): {problem}"
            console.print(Text(f"      unexpected: {problem}", style="red"))
            problems.append(note)
    console.print()
    if problems:
        console.print(
            Text(f"{len(problems)} of {len(runs)} runs did not end as expected.", style="bold red")
        )
    else:
        happy = sum(1 for run in runs if run.order.expect_status == "COMPLETED")
        console.print(
            Text(
                f"All {len(runs)} runs ended as expected: {happy} shipped, "
                f"{len(runs) - happy} failed for the right reason.",
                style="bold green",
            )
        )
    return problems


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The demo's options, checked."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.order.demo",
        description="Run the order workflow across a Podium server, workers and a shipping service.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8080,
        help="Podium server port; 0 picks a free one (default 8080)",
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
        help="how many happy orders to run; one out-of-stock and one declined order are always added (default 5)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the orders to finish (default 60)",
    )
    parser.add_argument(
        "--exit",
        action="store_true",
        help="stop after the results; exit status 0 only if every order ended as expected",
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

    with httpx.Client(timeout=10.0) as client:
        server = children.start("server", "podium", "server", "--db", str(db), "--port", str(port))
        shipping = children.start(
            "shipping", "examples.order.shipping_service", "--port", str(shipping_port)
        )
        console.print(
            f"▸ Podium server     {url}  (pid {server.process.pid}, log {_show(server.log_path)})"
        )
        console.print(
            f"▸ shipping service  {shipping_url}  (pid {shipping.process.pid}, log {_show(shipping.log_path)})"
        )
        took = wait_until_ready(client, f"{api}/health", server, children, timeout=30)
        wait_until_ready(client, f"{shipping_url}/health", shipping, children, timeout=30)
        console.print(f"  both are up ({took:.1f} s)")

        definitions = register_definitions(client, api)
        task_names = ", ".join(t["name"] for t in definitions["taskDefs"])
        console.print(
            f"▸ registered task definitions ({task_names}) and workflow {WORKFLOW_NAME} v{WORKFLOW_VERSION}"
        )

        workers = children.start(
            "workers", "podium", "worker", "examples.order.workers", "--server", url
        )
        console.print(
            f"▸ workers           {task_names}  (pid {workers.process.pid}, log {_show(workers.log_path)})"
        )

        orders = build_orders(args.runs, shipping_url)
        console.print(
            f"▸ starting {len(orders)} orders: {args.runs} ordinary, 1 with an out-of-stock item, 1 over the card limit"
        )
        runs = [start_order(client, api, order) for order in orders]
        console.print()
        watch(client, api, runs, children, console, timeout=args.timeout)
        problems = report(runs, console)

        if args.exit:
            return 1 if problems else 0

        console.print()
        console.print(f"Podium is running at [bold]{url}[/] — API docs at [bold]{url}/docs[/]")
        console.print(f"Watch the runs in the UI at [bold]{url}/ui/[/]")
        console.print(f"Try: curl -s '{api}/workflow/{runs[0].workflow_id}?includeTasks=true'")
        console.print("Press Ctrl-C to stop everything.")
        try:
            while True:
                children.check_alive()
                time.sleep(0.5)
        except KeyboardInterrupt:
            # Ctrl-C is the normal way out here; the exit status still tells how the runs went.
            console.print()
            return 1 if problems else 0


def _show(path: Path) -> str:
    """``path`` relative to the working directory when it is under it: shorter to read."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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
    console.print(f"  database {_show(db)} (fresh), logs in {_show(log_dir)}/")
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
                    f"✘ lost contact with a service: {error!r}; see the logs in {_show(log_dir)}/",
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
