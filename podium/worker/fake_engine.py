"""The in-memory state behind ``podium.worker.testing.FakeConductor``.

A deliberately small stand-in for Podium's engine, enough to test workers and scripts: it runs
a workflow's tasks one after the other (SIMPLE tasks are queued for workers, WAIT and HUMAN
tasks wait for a signal, any other type completes at once with no output), retries a failed
task ``retryCount`` times, and resolves ``${workflow.input.x}`` / ``${ref.output.x}``
expressions. It is not the engine: no forks, switches, timers or sub-workflows.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from typing import Any

from podium.dsl import expressions
from podium.errors import (
    ConflictError,
    DefinitionNotFoundError,
    LeaseLostError,
    TaskAlreadyFinishedError,
    TaskNotFoundError,
    ValidationError,
    WorkflowNotFoundError,
)

__all__ = ["TERMINAL_TASK", "FakeEngine"]

TERMINAL_TASK = frozenset(
    {"COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR", "CANCELED", "TIMED_OUT", "SKIPPED"}
)
_SERVICE = "fake"


def _now() -> int:
    return int(time.time() * 1000)


class FakeEngine:
    """Definitions, runs, tasks and queues in dicts, guarded by one lock (HTTP runs in a thread)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.task_defs: dict[str, dict[str, Any]] = {}
        self.workflow_defs: dict[tuple[str, int], dict[str, Any]] = {}
        self.workflows: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.queues: dict[str, list[str]] = {}
        self._ids = itertools.count(1)
        self._by_key: dict[str, str] = {}

    # -- metadata ----------------------------------------------------------------------------

    def register_task_defs(self, defs: list[dict[str, Any]]) -> None:
        """Store task definitions by name (upsert)."""
        with self.lock:
            for d in defs:
                if not isinstance(d, dict) or not d.get("name"):
                    raise ValidationError("a task definition needs a name", field="name")
                self.task_defs[str(d["name"])] = d

    def register_workflow(self, definition: dict[str, Any], overwrite: bool = True) -> None:
        """Store a workflow definition under its name and version (default 1)."""
        if not isinstance(definition, dict) or not definition.get("name"):
            raise ValidationError("a workflow definition needs a name", field="name")
        if not isinstance(definition.get("tasks"), list):
            raise ValidationError("a workflow definition needs a list of tasks", field="tasks")
        key = (str(definition["name"]), int(definition.get("version") or 1))
        with self.lock:
            if key in self.workflow_defs and not overwrite:
                raise ConflictError(f"workflow {key[0]} version {key[1]} exists", code="E_EXISTS")
            self.workflow_defs[key] = {**definition, "version": key[1]}

    def get_workflow_def(self, name: str, version: int | None = None) -> dict[str, Any]:
        """The definition of that version, or of the latest one."""
        with self.lock:
            versions = sorted(v for (n, v) in self.workflow_defs if n == name)
            wanted = version if version is not None else (versions[-1] if versions else None)
            found = self.workflow_defs.get((name, wanted)) if wanted is not None else None
        if found is None:
            raise DefinitionNotFoundError(f"no workflow definition {name!r}", service=_SERVICE)
        return found

    # -- tasks -------------------------------------------------------------------------------

    def _new_task(self, wf_id: str, ref: str, task_type: str, inp: dict[str, Any]) -> str:
        task_id = f"task-{next(self._ids)}"
        wf = self.workflows.get(wf_id, {})
        self.tasks[task_id] = {
            "taskId": task_id,
            "workflowInstanceId": wf_id,
            "taskType": task_type,
            "taskDefName": task_type,
            "referenceTaskName": ref,
            "status": "SCHEDULED",
            "inputData": inp,
            "outputData": {},
            "retryCount": 0,
            "pollCount": 0,
            "seq": len(wf.get("tasks", [])) + 1,
            "correlationId": wf.get("correlationId"),
            "workflowType": wf.get("workflowName"),
            "responseTimeoutSeconds": 3600,
            "callbackAfterSeconds": 0,
            "scheduledTime": _now(),
            "startTime": 0,
            "endTime": 0,
            "idempotencyKey": f"{wf_id}:{ref}",
            "_visibleAt": 0.0,
        }
        if wf:
            wf["tasks"].append(self.tasks[task_id])
        return task_id

    def enqueue(self, task_type: str, inp: dict[str, Any], **fields: Any) -> str:
        """Queue a task outside any workflow; ``fields`` override its camelCase fields."""
        with self.lock:
            wf_id = str(fields.pop("workflowInstanceId", f"wf-{uuid.uuid4().hex[:8]}"))
            ref = str(fields.pop("referenceTaskName", f"{task_type}_ref"))
            task_id = self._new_task(wf_id, ref, task_type, inp)
            self.tasks[task_id].update(fields)
            self.queues.setdefault(task_type, []).append(task_id)
            return task_id

    def poll(self, task_type: str, worker_id: str, count: int) -> list[dict[str, Any]]:
        """Claim up to ``count`` visible tasks of ``task_type`` for ``worker_id``."""
        claimed: list[dict[str, Any]] = []
        with self.lock:
            queue = self.queues.get(task_type, [])
            now = time.time()
            for task_id in list(queue):
                if len(claimed) >= count:
                    break
                task = self.tasks[task_id]
                wf = self.workflows.get(task["workflowInstanceId"])
                if task["_visibleAt"] > now or (wf is not None and wf["status"] == "PAUSED"):
                    continue
                queue.remove(task_id)
                task.update(status="IN_PROGRESS", workerId=worker_id, startTime=_now())
                task["pollCount"] += 1
                claimed.append(self.public(task))
        return claimed

    @staticmethod
    def public(task: dict[str, Any]) -> dict[str, Any]:
        """The task as the API shows it (without the fake's private fields)."""
        return {k: v for k, v in task.items() if not k.startswith("_")}

    def update(self, result: dict[str, Any]) -> dict[str, Any]:
        """Apply a worker's TaskResult, as the server would; returns the task."""
        with self.lock:
            task = self.tasks.get(str(result.get("taskId")))
            if task is None:
                raise TaskNotFoundError(f"no task {result.get('taskId')!r}", service=_SERVICE)
            if task["status"] in TERMINAL_TASK:
                raise TaskAlreadyFinishedError(f"task {task['taskId']} is {task['status']}")
            if task["status"] != "IN_PROGRESS" or task.get("workerId") != result.get("workerId"):
                raise LeaseLostError(f"task {task['taskId']} is not leased to this worker")
            status = str(result.get("status"))
            task["outputData"] = result.get("outputData") or {}
            if status == "IN_PROGRESS":
                delay = float(result.get("callbackAfterSeconds") or 0)
                task.update(status="SCHEDULED", _visibleAt=time.time() + delay)
                task["callbackAfterSeconds"] = int(delay)
                self.queues.setdefault(task["taskType"], []).append(task["taskId"])
                return task
            task.update(status=status, endTime=_now())
            task["reasonForIncompletion"] = result.get("reasonForIncompletion")
            self._advance(task)
            return task

    # -- workflows ---------------------------------------------------------------------------

    def start(
        self,
        name: str,
        inp: dict[str, Any],
        version: int | None = None,
        correlation_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Start a run of ``name``; the same ``idempotency_key`` returns the same run."""
        definition = self.get_workflow_def(name, version)
        with self.lock:
            if idempotency_key and idempotency_key in self._by_key:
                return self._by_key[idempotency_key]
            wf_id = str(uuid.uuid4())
            now = _now()
            self.workflows[wf_id] = {
                "workflowId": wf_id,
                "workflowName": name,
                "workflowVersion": definition["version"],
                "status": "RUNNING",
                "input": inp,
                "output": {},
                "variables": {},
                "correlationId": correlation_id,
                "reasonForIncompletion": None,
                "createTime": now,
                "startTime": now,
                "endTime": 0,
                "updateTime": now,
                "tasks": [],
                "_def": definition,
                "_next": 0,
            }
            if idempotency_key:
                self._by_key[idempotency_key] = wf_id
            self._schedule_next(self.workflows[wf_id])
            return wf_id

    def _resolve(self, wf: dict[str, Any], value: Any) -> Any:
        # The engine's own reader of ``${...}``, over the fields the fake keeps: a task's
        # latest attempt under its reference name, its data as ``input`` and ``output``.
        context: dict[str, Any] = {"workflow": wf}
        for task in wf["tasks"]:
            context[task["referenceTaskName"]] = {
                **task,
                "input": task.get("inputData"),
                "output": task.get("outputData"),
            }
        return expressions.resolve(value, context)

    def _schedule_next(self, wf: dict[str, Any]) -> None:
        steps: list[dict[str, Any]] = wf["_def"]["tasks"]
        while wf["status"] == "RUNNING":
            index = wf["_next"]
            if index >= len(steps):
                params = wf["_def"].get("outputParameters")
                last = wf["tasks"][-1]["outputData"] if wf["tasks"] else {}
                output = self._resolve(wf, params) if params else last
                self._finish(wf, "COMPLETED", output=output)
                return
            step = steps[index]
            kind = str(step.get("type") or "SIMPLE")
            inp = self._resolve(wf, step.get("inputParameters") or {})
            task_id = self._new_task(wf["workflowId"], step["taskReferenceName"], kind, inp)
            task = self.tasks[task_id]
            if kind == "SIMPLE":
                task.update(taskType=step["name"], taskDefName=step["name"])
                self.queues.setdefault(step["name"], []).append(task_id)
                return
            if kind in ("WAIT", "HUMAN"):
                task["status"] = "IN_PROGRESS"
                return
            task.update(status="COMPLETED", endTime=_now())
            wf["_next"] = index + 1

    def _advance(self, task: dict[str, Any]) -> None:
        wf = self.workflows.get(task["workflowInstanceId"])
        if wf is None or wf["status"] != "RUNNING":
            return
        wf["updateTime"] = _now()
        if task["status"] == "COMPLETED":
            wf["_next"] += 1
            self._schedule_next(wf)
            return
        retries = int(self.task_defs.get(task["taskDefName"], {}).get("retryCount") or 0)
        if task["status"] == "FAILED" and task["retryCount"] < retries:
            again = self._new_task(
                wf["workflowId"], task["referenceTaskName"], task["taskType"], task["inputData"]
            )
            self.tasks[again].update(
                retryCount=task["retryCount"] + 1,
                taskDefName=task["taskDefName"],
                retriedTaskId=task["taskId"],
            )
            self.queues.setdefault(task["taskType"], []).append(again)
            return
        self._finish(wf, "FAILED", reason=task.get("reasonForIncompletion"))

    def _finish(
        self, wf: dict[str, Any], status: str, output: Any = None, reason: str | None = None
    ) -> None:
        wf.update(status=status, endTime=_now(), updateTime=_now(), reasonForIncompletion=reason)
        if output is not None:
            wf["output"] = output
        for task in wf["tasks"]:
            if task["status"] not in TERMINAL_TASK:
                task["status"] = "CANCELED"
                for queue in self.queues.values():
                    if task["taskId"] in queue:
                        queue.remove(task["taskId"])

    def workflow(self, wf_id: str) -> dict[str, Any]:
        """The run's record (private fields included); raises if unknown."""
        wf = self.workflows.get(wf_id)
        if wf is None:
            raise WorkflowNotFoundError(f"no workflow run {wf_id!r}", service=_SERVICE)
        return wf

    def view(self, wf_id: str, include_tasks: bool = True) -> dict[str, Any]:
        """The run as ``GET /api/workflow/{id}`` shows it."""
        with self.lock:
            wf = self.workflow(wf_id)
            out = {k: v for k, v in wf.items() if not k.startswith("_") and k != "tasks"}
            if include_tasks:
                out["tasks"] = [self.public(t) for t in wf["tasks"]]
            return out

    def control(self, wf_id: str, action: str, reason: str | None = None) -> None:
        """terminate, pause, resume, retry or restart a run."""
        with self.lock:
            wf = self.workflow(wf_id)
            status = wf["status"]
            if action == "terminate" and status in ("RUNNING", "PAUSED"):
                self._finish(wf, "TERMINATED", reason=reason)
            elif action == "pause" and status == "RUNNING":
                wf["status"] = "PAUSED"
            elif action == "resume" and status == "PAUSED":
                wf["status"] = "RUNNING"
            elif action in ("retry", "restart") and status not in ("RUNNING", "PAUSED"):
                if action == "restart":
                    wf.update(tasks=[], _next=0, output={})
                wf.update(status="RUNNING", reasonForIncompletion=None, endTime=0)
                self._schedule_next(wf)
            else:
                raise ConflictError(f"cannot {action} a {status} workflow", service=_SERVICE)

    def signal(self, wf_id: str, ref: str, status: str, output: dict[str, Any]) -> str:
        """Complete (or fail) the waiting task ``ref`` of a run."""
        with self.lock:
            wf = self.workflow(wf_id)
            for task in reversed(wf["tasks"]):
                if task["referenceTaskName"] == ref and task["status"] not in TERMINAL_TASK:
                    task.update(status=status, outputData=output, endTime=_now())
                    self._advance(task)
                    return str(task["taskId"])
            raise TaskNotFoundError(f"no pending task {ref!r} in {wf_id}", service=_SERVICE)

    def search(
        self, name: str | None, status: str | None, correlation_id: str | None
    ) -> list[dict[str, Any]]:
        """Summaries of matching runs, newest first."""
        with self.lock:
            found = [
                {
                    "workflowId": wf["workflowId"],
                    "workflowType": wf["workflowName"],
                    "version": wf["workflowVersion"],
                    "status": wf["status"],
                    "correlationId": wf["correlationId"],
                    "startTime": wf["startTime"],
                    "updateTime": wf["updateTime"],
                    "endTime": wf["endTime"],
                    "reasonForIncompletion": wf["reasonForIncompletion"],
                    "input": wf["input"],
                    "output": wf["output"],
                }
                for wf in self.workflows.values()
                if (name is None or wf["workflowName"] == name)
                and (status is None or wf["status"] in status.split(","))
                and (correlation_id is None or wf["correlationId"] == correlation_id)
            ]
        return sorted(found, key=lambda s: s["startTime"], reverse=True)
