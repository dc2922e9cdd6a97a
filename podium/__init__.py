"""Podium: a durable orchestrator for microservices.

The public SDK is what ``__all__`` lists; everything else may change between releases.
"""

from podium.worker import Task, TaskFailedError, TaskInProgress, WorkerRunner, worker_task

__version__ = "0.1.0"

__all__ = [
    "Task",
    "TaskFailedError",
    "TaskInProgress",
    "WorkerRunner",
    "__version__",
    "worker_task",
]
