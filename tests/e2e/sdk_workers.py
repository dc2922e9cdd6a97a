"""Workers for the Conductor SDK acceptance test, written as a Conductor user writes them.

They live at module level because the SDK's TaskHandler starts each worker in a spawned
process, which imports the function by name. No ``from __future__ import annotations``: the
SDK reads the annotations at run time to decide how to call a worker.
"""

from typing import Any

from conductor.client.context.task_context import TaskInProgress, get_task_context
from conductor.client.http.models.task import Task
from conductor.client.http.models.task_result import TaskResult
from conductor.client.http.models.task_result_status import TaskResultStatus


def quote(sku: str, quantity: int) -> dict[str, Any]:
    """A plain function: the SDK fills its arguments from the task's input by name."""
    return {"sku": sku, "total": quantity * 7}


def flaky_reserve(task: Task) -> TaskResult:
    """Fails its first attempt: the server must retry it as the task definition says."""
    result = TaskResult(
        task_id=task.task_id,
        workflow_instance_id=task.workflow_instance_id,
        worker_id="sdk-flaky",
    )
    if task.retry_count == 0:
        result.status = TaskResultStatus.FAILED
        result.reason_for_incompletion = "warehouse busy, try again"
        return result
    result.status = TaskResultStatus.COMPLETED
    result.output_data = {"reserved": True, "attempt": task.retry_count}
    return result


def pack(item: str) -> dict[str, Any]:
    return {"packed": item.upper()}


def label(order_id: str) -> dict[str, Any]:
    return {"label": f"LBL-{order_id}"}


def notify(message: str) -> str:
    """A non-dict return: the SDK sends it as ``{"result": ...}``."""
    return f"sent: {message}"


def long_job(job: str) -> dict[str, Any] | TaskInProgress:
    """A long task as the SDK writes one: it reports progress until its third delivery."""
    context = get_task_context()
    polls = context.get_poll_count()
    context.add_log(f"delivery {polls} of {job}")
    if polls < 3:
        return TaskInProgress(callback_after_seconds=1, output={"progress": polls})
    return {"job": job, "deliveries": polls}


def in_blue() -> dict[str, Any]:
    """Polls the task domain "blue" (see test_conductor_sdk_domains)."""
    return {"by": "blue"}


def in_no_domain() -> dict[str, Any]:
    return {"by": "plain"}
