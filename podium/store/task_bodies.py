"""Decoding a run's task rows so that what repeats from task to task is held once.

A cached run of a wide fork holds thousands of tasks that differ in little but their ids,
refs and inputs: each decoded on its own, every one carried its own copy of the same name,
type, queue and worker id, of the same timestamps (a batch ends many tasks in the same
millisecond) and of three empty lists. Here the tasks of one run share one object for each
of those values. Strings and ints cannot change; the lists shared are empty ones, and the
engine never changes a task's containers in place (``copy_task`` is shallow, so a state and
its clones already share them): it assigns new ones.
"""

from __future__ import annotations

from typing import Any

import orjson

from podium.engine.task_state import TaskState

__all__ = ["TaskBodies"]

_STRINGS = ("ref", "name", "type", "queue", "worker_id", "domain", "reason")
"""Fields whose strings repeat between tasks (``ref`` within a task, in its dynamic step)."""
_INTS = ("scheduled_at", "available_at", "start_at", "end_at", "update_at")
"""Timestamps: the tasks of one fork are scheduled, and often ended, together."""
_LISTS = ("logs", "scope_loops", "scope_iterations")
_STEP_STRINGS = ("name", "taskReferenceName", "type")
"""In a dynamic branch's own step (``dynamic_step``)."""


class TaskBodies:
    """Decodes the task rows of one run; equal values between them are shared."""

    __slots__ = ("_empty", "_ints", "_strings")

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._ints: dict[int, int] = {}
        self._empty: list[Any] = []

    def decode(self, body: bytes) -> TaskState:
        return TaskState.from_dict(self.fields(body))

    def fields(self, body: bytes) -> dict[str, Any]:
        """The task's fields as stored, with the values that repeat shared."""
        data: dict[str, Any] = orjson.loads(body)
        strings, ints = self._strings, self._ints
        for name in _STRINGS:
            value = data.get(name)
            if type(value) is str:
                data[name] = strings.setdefault(value, value)
        for name in _INTS:
            value = data.get(name)
            # ``type() is int``: True equals 1 and must never come back as it.
            if type(value) is int:
                data[name] = ints.setdefault(value, value)
        for name in _LISTS:
            value = data.get(name)
            if type(value) is list and not value:
                data[name] = self._empty
        step = data.get("dynamic_step")
        if type(step) is dict:
            for name in _STEP_STRINGS:
                value = step.get(name)
                if type(value) is str:
                    step[name] = strings.setdefault(value, value)
        return data
