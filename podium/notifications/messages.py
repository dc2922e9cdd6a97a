"""What a channel is told: one JSON message per event, and its text for Slack and email.

Built in the decision's transaction from the run and the service registry as they stand then,
so the message names the owner and on-call of that moment; only the UI link's address is
added when it is sent (the server that sends knows where it is served).
"""

from __future__ import annotations

import re
from typing import Any

from podium.dsl.notifications import NotifyEvent
from podium.dsl.services import Service
from podium.engine.state import RunState, TaskState

__all__ = ["breaker_message", "error_code", "render_text", "run_message", "with_links"]

_CODE = re.compile(r"^([A-Z][A-Z0-9_]{2,63})\b")
_TITLES = {
    NotifyEvent.RUN_FAILED: "failed",
    NotifyEvent.RUN_TIMED_OUT: "timed out",
    NotifyEvent.RUN_COMPENSATED: "failed and was compensated",
    NotifyEvent.RUN_COMPENSATION_FAILED: "failed, and its compensation failed too",
    NotifyEvent.BREAKER_OPENED: "circuit breaker opened",
    NotifyEvent.BREAKER_CLOSED: "circuit breaker closed",
}


def error_code(task: TaskState | None) -> str | None:
    """A failure's error code: the worker's ``errorCode`` (or ``code``) output, else a code
    its reason starts with (``CARD_DECLINED: over the limit``)."""
    if task is None:
        return None
    for key in ("errorCode", "code"):
        value = task.output.get(key)
        if isinstance(value, str) and value:
            return value
    match = _CODE.match(task.reason or "")
    return match.group(1) if match else None


def _service_part(name: str | None, record: Service | None, code: str | None) -> dict[str, Any]:
    part: dict[str, Any] = {"name": name}
    if record is not None:
        part.update(
            owner=record.owner,
            contact=record.contact,
            onCall=record.onCall,
            docsUrl=record.docsUrl,
            runbook=record.runbook_for(code),
        )
    return {key: value for key, value in part.items() if value is not None}


def run_message(
    event: NotifyEvent,
    run: RunState,
    task: TaskState | None,
    service_name: str | None,
    record: Service | None,
    now: int,
) -> dict[str, Any]:
    """The message about a run that ended badly, naming the task and service behind it."""
    code = error_code(task)
    service = _service_part(service_name, record, code)
    who = service_name or "no named service"
    summary = f"{run.name} run {run.run_id} {_TITLES.get(event, event)}: {run.reason or ''}"
    summary = f"{summary.rstrip(': ')} (service {who})"
    body: dict[str, Any] = {
        "event": str(event),
        "at": now,
        "summary": summary,
        "workflow": {"name": run.name, "version": run.version},
        "run": {
            "id": run.run_id,
            "status": str(run.status),
            "reason": run.reason,
            "correlationId": run.correlation_id,
            "uiPath": f"/ui/#/run/{run.run_id}",
        },
        "service": service,
    }
    if task is not None:
        body["task"] = {
            "id": task.task_id,
            "ref": task.ref,
            "type": str(task.type),
            "status": str(task.status),
            "reason": task.reason,
            "errorCode": code,
        }
    return body


def breaker_message(event: NotifyEvent, service: Service, reason: str, now: int) -> dict[str, Any]:
    """The message about a service's breaker opening or closing."""
    return {
        "event": str(event),
        "at": now,
        "summary": f"service {service.name}: {_TITLES[event]} ({reason})",
        "service": _service_part(service.name, service, None),
        "reason": reason,
    }


def with_links(body: dict[str, Any], base_url: str) -> dict[str, Any]:
    """``body`` with the run's UI link made absolute on ``base_url``."""
    run = body.get("run")
    if not isinstance(run, dict) or "uiPath" not in run:
        return body
    return {**body, "run": {**run, "url": base_url.rstrip("/") + run["uiPath"]}}


def render_text(body: dict[str, Any]) -> str:
    """The message as lines of text (Slack's ``text``, an email's body)."""
    lines = [str(body.get("summary", body.get("event")))]
    run = body.get("run") or {}
    if run:
        lines.append(f"Run: {run.get('id')} ({run.get('status')}) {run.get('url', '')}".rstrip())
    workflow = body.get("workflow") or {}
    if workflow:
        lines.append(f"Workflow: {workflow.get('name')} v{workflow.get('version')}")
    task = body.get("task") or {}
    if task:
        code = f" [{task['errorCode']}]" if task.get("errorCode") else ""
        lines.append(f"Task: {task.get('ref')} {task.get('status')}{code}: {task.get('reason')}")
    service = body.get("service") or {}
    for label, key in (
        ("Service", "name"),
        ("Owner", "owner"),
        ("Contact", "contact"),
        ("On call", "onCall"),
        ("Runbook", "runbook"),
    ):
        if service.get(key):
            lines.append(f"{label}: {service[key]}")
    return "\n".join(lines)
