"""Podium: a durable orchestrator for microservices.

The public SDK is what ``__all__`` lists; everything else may change between releases. The
worker SDK is imported on first use, so that ``import podium.engine`` loads no HTTP client.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Task",
    "TaskFailedError",
    "TaskInProgress",
    "WorkerRunner",
    "__version__",
    "worker_task",
]

if TYPE_CHECKING:
    from podium.worker import Task, TaskFailedError, TaskInProgress, WorkerRunner, worker_task

_WORKER_EXPORTS = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _WORKER_EXPORTS:
        import podium.worker

        return getattr(podium.worker, name)
    raise AttributeError(f"module 'podium' has no attribute {name!r}")
