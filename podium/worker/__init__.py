"""Podium's worker SDK: write a task handler as a plain function and run it.

::

    from podium.worker import WorkerRunner, worker_task

    @worker_task("reserve_inventory", concurrency=4)
    def reserve(sku: str, quantity: int = 1) -> dict[str, object]:
        return {"reserved": quantity}

    WorkerRunner("http://127.0.0.1:8080", tasks=[reserve]).run()

or, from a shell, ``podium worker mymodule:reserve``.
"""

from podium.worker.registry import WorkerTaskSpec, registered_tasks, worker_task
from podium.worker.runner import WorkerRunner
from podium.worker.task import Task, TaskFailedError, TaskInProgress

__all__ = [
    "Task",
    "TaskFailedError",
    "TaskInProgress",
    "WorkerRunner",
    "WorkerTaskSpec",
    "registered_tasks",
    "worker_task",
]
