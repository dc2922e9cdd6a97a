"""The trace of one business transaction as a causal graph and a timeline. Pure: it works on
what the store returned (runs, events, deliveries), so it is tested without a server.

Nodes are workflows, tasks, events and deliveries (an event handed to a handler, a pulling
service or a waiting task). Edges say what caused what: a run ran its tasks, an EVENT task
published an event, an event was delivered, a delivery started a run, finished a task or led
its service to publish further events. Each node's time is never earlier than its cause's,
so clocks that disagree across services cannot put an effect before its cause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podium.dsl.models import TaskType
from podium.engine.state import RunState, RunStatus, TaskState, TaskStatus
from podium.store.events_base import BusEvent, Delivery, DeliveryStatus

__all__ = ["TraceInput", "build_graph"]

_FAILED = frozenset(
    {TaskStatus.FAILED, TaskStatus.FAILED_WITH_TERMINAL_ERROR, TaskStatus.TIMED_OUT}
)
_UNDOING = frozenset({str(RunStatus.COMPENSATED), str(RunStatus.COMPENSATING)})
"""Run statuses under which a failed step's effects were (or are being) undone."""
_OUTSIDE = frozenset({TaskType.SIMPLE, TaskType.HTTP, TaskType.DYNAMIC})


@dataclass(slots=True)
class TraceInput:
    correlation_id: str
    runs: list[RunState]
    services: dict[str, str | None]
    """The service behind each task (by task id), where one is known."""
    events: list[BusEvent]
    deliveries: list[Delivery]


@dataclass(slots=True)
class _Node:
    id: str
    kind: str
    label: str
    time: int
    status: str
    service: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    children: list[str] = field(default_factory=list)


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, _Node] = {}
        self.edges: list[dict[str, str]] = []

    def add(self, node: _Node) -> None:
        self.nodes.setdefault(node.id, node)

    def link(self, parent: str, child: str, relation: str) -> None:
        if parent not in self.nodes or child not in self.nodes or parent == child:
            return
        self.edges.append({"from": parent, "to": child, "relation": relation})
        node = self.nodes[child]
        if node.parent is None and not self._is_ancestor(child, parent):
            node.parent = parent
            self.nodes[parent].children.append(child)

    def _is_ancestor(self, maybe: str, of: str) -> bool:
        current: str | None = of
        while current is not None:
            if current == maybe:
                return True
            current = self.nodes[current].parent
        return False


def _task_service(task: TaskState, services: dict[str, str | None]) -> str | None:
    named = services.get(task.task_id)
    if named:
        return named
    if task.type in _OUTSIDE:
        return task.name  # the task type is what the worker serving it polls for
    return None


def _add_runs(graph: _Graph, data: TraceInput) -> None:
    for run in data.runs:
        run_node = f"run:{run.run_id}"
        graph.add(
            _Node(
                run_node,
                "workflow",
                f"{run.name} v{run.version}",
                run.start_at or run.created_at,
                str(run.status),
                detail={
                    "workflowId": run.run_id,
                    "endTime": run.end_at,
                    "reason": run.reason,
                    # A run a schedule started says which, and for which tick.
                    "scheduleName": run.schedule_name,
                    "scheduledTime": run.scheduled_time,
                },
            )
        )
        for task in run.tasks:
            if task.retried and task.status not in _FAILED:
                continue
            graph.add(
                _Node(
                    f"task:{task.task_id}",
                    "task",
                    f"{task.ref} ({task.type if task.type != 'SIMPLE' else task.name})",
                    task.start_at or task.scheduled_at,
                    str(task.status),
                    service=_task_service(task, data.services),
                    detail={
                        "taskId": task.task_id,
                        "workflowId": run.run_id,
                        "ref": task.ref,
                        "type": task.type,
                        "workerId": task.worker_id,
                        "retryCount": task.retry_count,
                        "endTime": task.end_at,
                        "reason": task.reason,
                    },
                )
            )
    for run in data.runs:
        for task in run.tasks:
            graph.link(f"run:{run.run_id}", f"task:{task.task_id}", "ran")
            if task.sub_workflow_id:
                graph.link(f"task:{task.task_id}", f"run:{task.sub_workflow_id}", "sub-workflow")
            started = task.output.get("workflowId") if task.type == "START_WORKFLOW" else None
            if isinstance(started, str):
                graph.link(f"task:{task.task_id}", f"run:{started}", "started")
        if run.parent_run_id:
            graph.link(f"run:{run.parent_run_id}", f"run:{run.run_id}", "sub-workflow")


def _event_status(event: BusEvent, deliveries: list[Delivery]) -> str:
    mine = [d for d in deliveries if d.event_id == event.event_id]
    if any(d.status == DeliveryStatus.DEAD for d in mine):
        return "DEAD_LETTERED"
    if any(d.status == DeliveryStatus.PENDING for d in mine):
        return "PENDING"
    return "DELIVERED" if mine else "PUBLISHED"


def _add_events(graph: _Graph, data: TraceInput) -> None:
    for event in data.events:
        graph.add(
            _Node(
                f"event:{event.event_id}",
                "event",
                event.type if event.type == event.topic else f"{event.type} on {event.topic}",
                event.time,
                _event_status(event, data.deliveries),
                service=event.source,
                detail={"eventId": event.event_id, "topic": event.topic, "payload": event.payload},
            )
        )
    for d in data.deliveries:
        kind = {"handler": "handler", "pull": "consumer", "wait": "wait"}.get(d.kind, d.kind)
        label = f"{kind} {d.subscriber}" if d.kind != "wait" else "released a waiting task"
        graph.add(
            _Node(
                f"delivery:{d.event_id}/{d.kind}/{d.subscriber}",
                "delivery",
                label,
                d.updated_at,
                d.status,
                service=d.subscriber if d.kind == "pull" else None,
                detail={
                    "eventId": d.event_id,
                    "subscriber": d.subscriber,
                    "deliveryKind": d.kind,
                    "attempts": d.attempts,
                    "lastError": d.last_error,
                    "outcome": d.outcome,
                },
            )
        )
    for event in data.events:
        if event.task_id:
            graph.link(f"task:{event.task_id}", f"event:{event.event_id}", "published")
    for d in data.deliveries:
        node = f"delivery:{d.event_id}/{d.kind}/{d.subscriber}"
        graph.link(f"event:{d.event_id}", node, "delivered")
        for action in (d.outcome or {}).get("actions", []):
            if action.get("action") == "start_workflow":
                graph.link(node, f"run:{action.get('workflowId')}", "started")
            elif action.get("action") in ("complete_task", "fail_task") and action.get("taskId"):
                graph.link(
                    node, f"task:{action['taskId']}", action["action"].replace("_", " ")[:-5] + "ed"
                )
            elif action.get("action") == "publish":
                graph.link(node, f"event:{action.get('eventId')}", "published")
    consumers = {(d.event_id, d.subscriber): d for d in data.deliveries if d.kind == "pull"}
    for event in data.events:
        if not event.causation_id:
            continue
        via = consumers.get((event.causation_id, event.source or ""))
        if via is not None:
            graph.link(
                f"delivery:{via.event_id}/pull/{via.subscriber}",
                f"event:{event.event_id}",
                "published",
            )
        graph.link(f"event:{event.causation_id}", f"event:{event.event_id}", "caused")


def _order(graph: _Graph) -> list[_Node]:
    """Depth first from the earliest root, children by time: causal order, then time."""
    ordered: list[_Node] = []

    def visit(node: _Node, floor: int) -> None:
        node.time = max(node.time, floor)
        ordered.append(node)
        for child in sorted((graph.nodes[c] for c in node.children), key=lambda n: n.time):
            visit(child, node.time)

    roots = sorted((n for n in graph.nodes.values() if n.parent is None), key=lambda n: n.time)
    for root in roots:
        visit(root, 0)
    return ordered


def _problems(ordered: list[_Node]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for node in ordered:
        what = None
        if node.kind == "task" and node.status in _FAILED:
            what = "failed"
        elif node.kind == "workflow" and node.status in (RunStatus.FAILED, RunStatus.TIMED_OUT):
            what = "failed"
        elif node.kind == "delivery" and node.status == DeliveryStatus.DEAD:
            what = "dead_lettered"
        elif node.kind == "delivery" and node.status == DeliveryStatus.PENDING:
            what = "undelivered"
        elif node.kind == "task" and node.status in ("SCHEDULED", "IN_PROGRESS"):
            what = "waiting"
        if what is not None:
            reason = node.detail.get("reason") or node.detail.get("lastError")
            found.append(
                {
                    "kind": what,
                    "node": node.id,
                    "label": node.label,
                    "service": node.service or node.detail.get("subscriber"),
                    "reason": reason,
                    "time": node.time,
                }
            )
    # A failed task is the cause of its run's failure: name the task, not the run, first.
    found.sort(
        key=lambda p: (
            p["kind"] not in ("failed", "dead_lettered"),
            p["node"].startswith("run:"),
            p["time"],
        )
    )
    return found


def _status(ordered: list[_Node], problems: list[dict[str, Any]]) -> str:
    """The transaction's status. A failure inside a run that compensated it (or is doing so)
    was undone: the transaction ends COMPENSATED, not FAILED, though the failed step is still
    where it stopped."""
    runs = {n.detail["workflowId"]: n.status for n in ordered if n.kind == "workflow"}
    by_id = {n.id: n for n in ordered}

    def undone(problem: dict[str, Any]) -> bool:
        run_id = by_id[problem["node"]].detail.get("workflowId")
        return runs.get(run_id) in _UNDOING

    open_problems = [p for p in problems if not (p["kind"] == "failed" and undone(p))]
    statuses = set(runs.values())
    if any(p["kind"] in ("failed", "dead_lettered") for p in open_problems):
        return "FAILED"
    if RunStatus.COMPENSATING in statuses:
        return str(RunStatus.COMPENSATING)
    if open_problems or RunStatus.RUNNING in statuses:
        return "IN_PROGRESS"
    if RunStatus.COMPENSATED in statuses:
        return str(RunStatus.COMPENSATED)
    return "COMPLETED"


def build_graph(data: TraceInput) -> dict[str, Any]:
    graph = _Graph()
    _add_runs(graph, data)
    _add_events(graph, data)
    ordered = _order(graph)
    problems = _problems(ordered)
    status = _status(ordered, problems)
    nodes = [
        {
            "id": n.id,
            "kind": n.kind,
            "label": n.label,
            "time": n.time,
            "status": n.status,
            "service": n.service,
            "parent": n.parent,
            "children": n.children,
            **{k: v for k, v in n.detail.items() if v is not None},
        }
        for n in ordered
    ]
    services = sorted({n.service for n in ordered if n.service})
    rank = {n.id: i for i, n in enumerate(ordered)}
    timeline = [
        {"time": n.time, "node": n.id, "kind": n.kind, "label": n.label, "status": n.status,
         "service": n.service}
        for n in sorted(ordered, key=lambda n: (n.time, rank[n.id]))
    ]  # fmt: skip
    return {
        "correlationId": data.correlation_id,
        "status": status,
        "services": services,
        "roots": [n.id for n in ordered if n.parent is None],
        "timeline": timeline,
        "nodes": nodes,
        "edges": graph.edges,
        "problems": problems,
        "stoppedAt": problems[0] if problems else None,
    }
