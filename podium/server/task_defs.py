"""Registered TaskDefs for runs whose steps are named only at run time (routing slips)."""

from __future__ import annotations

from typing import Any

from podium.dsl import walk
from podium.dsl.http_request import template_names
from podium.dsl.models import TaskDef, TaskType, WorkflowDef
from podium.engine.blueprint import Blueprint
from podium.store.base import StoreTx

__all__ = ["TaskDefCatalog", "input_templates"]


def input_templates(tx: StoreTx, definition: WorkflowDef) -> dict[str, dict[str, Any]]:
    """The ``inputTemplate`` of each registered TaskDef an HTTP step of ``definition`` may
    take its request from (``http_request.template_names``), for validating it."""
    found: dict[str, dict[str, Any]] = {}
    for name in sorted(template_names(definition)):
        body = tx.get_task_def(name)
        template = body.get("inputTemplate") if body else None
        if isinstance(template, dict):
            found[name] = template
    return found


class TaskDefCatalog:
    """Every registered TaskDef, read again only when a definition changes.

    A definition's own steps have their TaskDefs frozen into the run at its start; a routing
    slip's steps take theirs from here when each step starts.
    """

    def __init__(self) -> None:
        self._has_slip: dict[int, bool] = {}  # by id(): the orchestrator keeps blueprints for good
        self._loaded: tuple[int, dict[str, TaskDef]] = (-1, {})

    def for_run(self, tx: StoreTx, blueprint: Blueprint) -> dict[str, TaskDef]:
        """The TaskDefs a decision of a run on ``blueprint`` may need (none without slips)."""
        slips = self._has_slip.get(id(blueprint))
        if slips is None:
            slips = self._has_slip[id(blueprint)] = any(
                step.type == TaskType.ROUTING_SLIP
                for step in walk.steps(blueprint.definition.tasks)
            )
        if not slips:
            return {}
        generation = tx.definitions_generation()
        if self._loaded[0] != generation:
            found = {body["name"]: TaskDef.model_validate(body) for body in tx.list_task_defs()}
            self._loaded = (generation, found)
        return self._loaded[1]
