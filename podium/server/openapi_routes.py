"""What each route answers beyond what ``openapi`` derives: the refusals its handler raises.

``openapi`` derives the answers every route of a kind shares (the auth gate's, the store's,
those of invalid parameters and of a JSON body). This table holds the rest, one line per
route: the statuses its handler itself refuses with (a run that does not exist: 404; one in a
state that forbids the action: 409; a value only the handler checks: 400), and its successes
where they are not FastAPI's ``200`` of the return annotation. A route missing here, or an
entry naming no route, fails ``tests/unit/test_openapi_answers.py``: each new route states
what it answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ROUTES", "Answers"]

_TEXT = {"schema": {"type": "string"}}


@dataclass(frozen=True, slots=True)
class Answers:
    """One route's answers, besides those derived for every route like it."""

    errors: tuple[int, ...] = ()
    """Statuses the handler refuses with itself (its ``PodiumError``s)."""
    success: tuple[int, ...] = (200,)
    """Its successful statuses; ``204`` answers no body."""
    media: dict[str, Any] = field(default_factory=dict)
    """The 200's media types, where they are not what FastAPI documents (text, HTML)."""
    store: bool = True
    """Whether it reads or writes the store, so may answer 503 when the store fails."""
    raw_body: bool = False
    """Its body is read as it is, not as JSON by ``read_json`` (no 413: the handler checks
    the size itself and answers 400)."""
    without_auth: tuple[int, ...] | None = None
    """With authentication off, the only statuses it answers (``/api/token``: 404)."""


_NONE = Answers()
_FOUND = Answers(errors=(404,))
_ACTION = Answers(errors=(404, 409))
_NO_CONTENT = (204,)
_MAYBE_CONTENT = (200, 204)

ROUTES: dict[str, Answers] = {
    "GET /api/health": _NONE,
    "GET /api/health/ready": _NONE,
    "GET /api/health/live": Answers(store=False),
    # definitions
    "GET /api/metadata/taskdefs": _NONE,
    "PUT /api/metadata/taskdefs": _NONE,
    "POST /api/metadata/taskdefs": _NONE,
    "GET /api/metadata/taskdefs/{name}": _FOUND,
    "DELETE /api/metadata/taskdefs/{name}": _FOUND,
    "POST /api/metadata/workflow": Answers(errors=(409,)),
    "PUT /api/metadata/workflow": _NONE,
    "GET /api/metadata/workflow": _NONE,
    "GET /api/metadata/workflow/names-and-versions": _NONE,
    "GET /api/metadata/workflow/names": _NONE,
    "GET /api/metadata/workflow/latest-versions": _NONE,
    "GET /api/metadata/workflow/{name}/versions": _FOUND,
    "POST /api/metadata/workflow/validate": Answers(errors=(400,)),
    "GET /api/metadata/workflow/{name}": _FOUND,
    "DELETE /api/metadata/workflow/{name}/{version}": _FOUND,
    # runs: a run's own errors are answered per run in the bulk answers' bulkErrorResults
    "PUT /api/workflow/bulk/pause": _NONE,
    "PUT /api/workflow/bulk/resume": _NONE,
    "POST /api/workflow/bulk/retry": _NONE,
    "POST /api/workflow/bulk/restart": _NONE,
    "POST /api/workflow/bulk/terminate": _NONE,
    # a bulk retry's runs are answered per run in ``refused``; its filter is checked by hand
    "POST /api/bulk/rerun": Answers(errors=(400,)),
    "POST /api/workflow/correlated/batch": _NONE,
    "GET /api/workflow/{name}/correlated/{correlation_id}": _NONE,
    "POST /api/workflow/{name}/correlated": _NONE,
    "GET /api/workflow/running/{name}": _NONE,
    "POST /api/workflow/execute/{name}/{version}": _FOUND,
    "POST /api/workflow": _FOUND,
    "GET /api/workflow/search": Answers(errors=(400,)),
    "GET /api/workflow/search-v2": Answers(errors=(400,)),
    "GET /api/workflow/search-by-tasks": Answers(errors=(400,)),
    "GET /api/workflow/search-by-tasks-v2": Answers(errors=(400,)),
    "POST /api/workflow/{name}": _FOUND,
    "GET /api/workflow/{workflow_id}": _FOUND,
    "DELETE /api/workflow/{workflow_id}": Answers(errors=(400, 404, 409)),
    "GET /api/workflow/{workflow_id}/status": _FOUND,
    "PUT /api/workflow/decide/{workflow_id}": Answers(errors=(404,), success=_NO_CONTENT),
    "DELETE /api/workflow/{workflow_id}/remove": _FOUND,
    "DELETE /api/workflow/{workflow_id}/terminate-remove": _FOUND,
    "GET /api/workflow/{workflow_id}/tasks": Answers(errors=(400, 404)),
    "GET /api/workflow/{workflow_id}/task-counts": _FOUND,
    "GET /api/workflow/{workflow_id}/overview": Answers(errors=(400, 404)),
    "POST /api/workflow/{workflow_id}/resetcallbacks": _FOUND,
    "PUT /api/workflow/{workflow_id}/pause": _ACTION,
    "PUT /api/workflow/{workflow_id}/resume": _ACTION,
    "POST /api/workflow/{workflow_id}/retry": _ACTION,
    "POST /api/workflow/{workflow_id}/rerun": _ACTION,
    "PUT /api/workflow/{workflow_id}/skiptask/{task_reference_name}": Answers(
        errors=(404, 409), success=_NO_CONTENT
    ),
    "POST /api/workflow/{workflow_id}/variables": _ACTION,
    "POST /api/workflow/{workflow_id}/restart": _ACTION,
    # tasks: Podium's own HTTP queue is refused by name (400)
    "GET /api/tasks/poll/batch/{task_type}": Answers(errors=(400,)),
    "GET /api/tasks/poll/{task_type}": Answers(errors=(400,), success=_MAYBE_CONTENT),
    "POST /api/tasks": _ACTION,
    "POST /api/tasks/update-v2": Answers(errors=(404, 409), success=_MAYBE_CONTENT),
    "POST /api/tasks/update-batch": _NONE,
    "GET /api/tasks/queue/sizes": _NONE,
    "GET /api/tasks/queue/size": Answers(errors=(400,)),
    "GET /api/tasks/queue/polldata": Answers(store=False),
    "GET /api/tasks/queue/polldata/all": Answers(store=False),
    "GET /api/tasks/queue/all": _NONE,
    "GET /api/tasks/queue/all/verbose": _NONE,
    "POST /api/tasks/queue/requeue/{task_type}": Answers(errors=(400,), store=False),
    "GET /api/tasks/search": Answers(errors=(400,)),
    "GET /api/tasks/search-v2": Answers(errors=(400,)),
    # signals: no task waiting (or several) is a 409
    "POST /api/tasks/{workflow_id}/{status}/signal": Answers(errors=(400, 404, 409)),
    "POST /api/tasks/{workflow_id}/{status}/signal/sync": Answers(errors=(400, 404, 409)),
    "POST /api/tasks/{workflow_id}/{ref}/{status}": Answers(errors=(400, 404, 409)),
    "POST /api/tasks/{workflow_id}/{ref}/{status}/sync": Answers(errors=(400, 404, 409)),
    "GET /api/tasks/{task_id}/log": _FOUND,
    "POST /api/tasks/{task_id}/log": Answers(errors=(404,), success=_NO_CONTENT, raw_body=True),
    "GET /api/tasks/{task_id}": _FOUND,
    # services
    "GET /api/services": _NONE,
    "PUT /api/services": _NONE,
    "POST /api/services": _NONE,
    "GET /api/services/{name}": _FOUND,
    "DELETE /api/services/{name}": _FOUND,
    "POST /api/services/{name}/breaker/reset": _FOUND,
    # keys and tokens
    "POST /api/token": Answers(errors=(401,), without_auth=(404,)),
    "GET /api/keys": _NONE,
    "POST /api/keys": Answers(errors=(409,)),
    "DELETE /api/keys/{key_id}": _FOUND,
    # contracts: ``kind`` is checked by the handler (400)
    "POST /api/contracts": Answers(errors=(409,)),
    "GET /api/contracts": Answers(errors=(400,)),
    "GET /api/contracts/catalogue": Answers(
        errors=(400,), media={"text/markdown": _TEXT, "text/html": _TEXT}
    ),
    "GET /api/contracts/{kind}/{name}/versions": Answers(errors=(400, 404)),
    "GET /api/contracts/{kind}/{name}": Answers(errors=(400, 404)),
    "GET /api/contracts/{kind}/{name}/{version}": Answers(errors=(400, 404)),
    # the event bus
    "GET /api/events/dead-letters": _NONE,
    "POST /api/events/dead-letters/replay": _NONE,
    "GET /api/events/id/{event_id}": _FOUND,
    "GET /api/events": _NONE,
    "POST /api/events/{topic}": Answers(errors=(400,)),
    "GET /api/event": _NONE,
    "PUT /api/event": _FOUND,
    "POST /api/event": Answers(errors=(409,)),
    "GET /api/event/{event}": _NONE,
    "DELETE /api/event/{name}": _FOUND,
    # SLOs
    "POST /api/slos": _NONE,
    "GET /api/slos": _NONE,
    "GET /api/slos/{name}": _FOUND,
    "GET /api/slos/{name}/versions": _FOUND,
    "DELETE /api/slos/{name}": _FOUND,
    # schedules
    "POST /api/scheduler/schedules": _NONE,
    "GET /api/scheduler/schedules": _NONE,
    "GET /api/scheduler/schedules/{name}": _FOUND,
    "DELETE /api/scheduler/schedules/{name}": _FOUND,
    "PUT /api/scheduler/schedules/{name}/pause": _FOUND,
    "GET /api/scheduler/schedules/{name}/pause": _FOUND,
    "PUT /api/scheduler/schedules/{name}/resume": _FOUND,
    "GET /api/scheduler/schedules/{name}/resume": _FOUND,
    "GET /api/scheduler/schedules/{name}/next": _FOUND,
    "POST /api/scheduler/schedules/{name}/backfill": _FOUND,
    "GET /api/scheduler/nextFewSchedules": Answers(store=False),
    "GET /api/scheduler/admin/pause": _NONE,
    "PUT /api/scheduler/admin/pause": _NONE,
    "GET /api/scheduler/admin/resume": _NONE,
    "PUT /api/scheduler/admin/resume": _NONE,
    "GET /api/scheduler/search/executions": _NONE,
    "GET /api/subscriptions": _NONE,
    "POST /api/subscriptions": _NONE,
    "DELETE /api/subscriptions/{name}": _FOUND,
    "GET /api/subscriptions/{name}/poll": _FOUND,
    "POST /api/subscriptions/{name}/ack": _FOUND,
    "POST /api/subscriptions/{name}/nack": _FOUND,
    "GET /api/trace/{correlation_id}": _FOUND,
    # notifications (limit and state are checked by the handler)
    "GET /api/notifications/deliveries": Answers(errors=(400,)),
    "GET /api/notifications/dead": Answers(errors=(400,)),
    "GET /api/notifications/{notification_id}": _FOUND,
    "POST /api/notifications/{notification_id}/replay": _FOUND,
    # Prometheus' text exposition format (its version travels as a media type parameter)
    "GET /metrics": Answers(media={"text/plain": _TEXT}),
    "GET /api/scaling/queues": _NONE,
    "GET /api/scaling/queues/{task_type}": _NONE,
    # the web UI's page (its other files are static, served as they are)
    "GET /ui/": Answers(store=False, media={"text/html": _TEXT}),
}
