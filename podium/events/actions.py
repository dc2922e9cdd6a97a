"""Running an event handler on one event: its condition, then its actions, in one unit of work.

Whatever the actions do (start a run, finish a task, publish) commits together with the
delivery being marked done; if any action fails, none of them happened and the delivery is
tried again later. Ids of what an action creates are derived from the event and the handler,
so running a delivery again can never start a second run for it.
"""

from __future__ import annotations

from typing import Any

import orjson

from podium.dsl import evaluators, expressions
from podium.dsl.bounds import nul_problem
from podium.engine.state import derive_id
from podium.errors import HandlerFailedError
from podium.events.bus import publish_tx
from podium.events.model import EventHandler, HandlerAction, TaskAction
from podium.events.ports import RunOps
from podium.store.base import StoreTx
from podium.store.events_base import BusEvent

__all__ = ["condition_holds", "run_handler"]


def _context(event: BusEvent) -> dict[str, Any]:
    payload = event.payload if isinstance(event.payload, dict) else {"payload": event.payload}
    envelope = {
        "id": event.event_id,
        "topic": event.topic,
        "type": event.type,
        "source": event.source,
        "correlationId": event.correlation_id,
        "time": event.time,
    }
    return {**payload, "_event": envelope}


def condition_holds(handler: EventHandler, event: BusEvent) -> bool:
    if not handler.condition:
        return True
    payload = event.payload if isinstance(event.payload, dict) else {"payload": event.payload}
    try:
        value = evaluators.evaluate(
            handler.evaluatorType or "javascript", handler.condition, payload
        )
    except evaluators.EvaluationError as exc:
        raise HandlerFailedError(f"condition failed: {exc.message}") from exc
    return bool(value)  # JavaScript's truthiness, which Conductor's conditions follow


def _expand(value: Any, inline_json: bool) -> Any:
    """Conductor's ``expandInlineJSON``: string values holding JSON objects become objects."""
    if not inline_json:
        return value
    if isinstance(value, dict):
        return {k: _expand(v, True) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, True) for v in value]
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def run_handler(
    tx: StoreTx, ops: RunOps, handler: EventHandler, event: BusEvent, now: int
) -> dict[str, Any]:
    """Carry ``handler`` out for ``event``; what it did, for the delivery's outcome."""
    if not condition_holds(handler, event):
        return {"matched": False, "actions": []}
    context = _context(event)
    done = []
    for index, action in enumerate(handler.actions):
        body = _expand(
            expressions.resolve(getattr(action, action.action).model_dump(mode="json"), context),
            action.expandInlineJSON,
        )
        salt = f"{handler.name}/{index}"
        done.append(_run_action(tx, ops, action, body, event, salt, now))
    return {"matched": True, "actions": done}


def _storable(field: str, value: str) -> str:
    """``value``, computed from the event, if a store can keep it as a name; the stores index
    names in text columns, which on PostgreSQL cannot hold a NUL character."""
    problem = nul_problem(value)
    if problem is not None:
        raise HandlerFailedError(f"{field} is {value!r}, which {problem}")
    return value


def _run_action(
    tx: StoreTx,
    ops: RunOps,
    action: HandlerAction,
    body: dict[str, Any],
    event: BusEvent,
    salt: str,
    now: int,
) -> dict[str, Any]:
    if action.action == "start_workflow":
        run_id = derive_id(event.event_id, salt)
        correlation_id = body.get("correlationId") or event.correlation_id
        name = _storable("start_workflow.name", str(body["name"]))
        if correlation_id is not None:
            correlation_id = _storable("start_workflow.correlationId", str(correlation_id))
        ops.start_run(
            run_id,
            name,
            body.get("version"),
            body.get("input") or {},
            correlation_id,
            now,
            source_run_id=event.run_id,
        )
        return {"action": "start_workflow", "workflowId": run_id, "name": body["name"]}
    if action.action in ("complete_task", "fail_task"):
        target = TaskAction.model_validate(body)
        owner = target.workflowId or tx.run_of_task(target.taskId or "")
        if owner is None:
            raise HandlerFailedError(f"no task has id {target.taskId}")
        status = "COMPLETED" if action.action == "complete_task" else "FAILED"
        task_id = ops.finish_task(
            owner, target.taskId, target.taskRefName, status, target.output, target.reason, now
        )
        outcome: dict[str, Any] = {
            "action": action.action,
            "workflowId": owner,
            "taskId": task_id,
        }
        if task_id is None:
            outcome["skipped"] = "the task had already ended"
        return outcome
    # publish
    new_id = derive_id(event.event_id, salt)
    topic = str(body["topic"])  # a literal, held to a pattern at registration
    published = BusEvent(
        event_id=new_id,
        topic=topic,
        type=_storable("publish.type", str(body.get("type") or topic)),
        time=now,
        payload=body.get("payload"),
        source=f"handler:{salt.split('/')[0]}",
        correlation_id=event.correlation_id,
        causation_id=event.event_id,
    )
    publish_tx(tx, ops, published, now)
    return {"action": "publish", "eventId": new_id, "topic": topic}
