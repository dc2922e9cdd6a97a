"""The definitions runs execute: resolved, frozen with their TaskDefs, and indexed.

A new run executes a snapshot of its workflow definition with each step's TaskDef embedded,
keyed by a hash of its content, so later edits never change a running run. Resolved
definitions are cached until any definition changes (the store's generation counter says
when, on every instance alike); blueprints are cached by content key, the most recently used
ones only: runs started with inline definitions can bring a new one each, and a blueprint
evicted is built again from the stored snapshot when a run needs it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import orjson

from podium.dsl import walk
from podium.dsl.bounds import INT4_MAX, INT4_MIN, nul_problem
from podium.dsl.models import TaskDef, TaskType, WorkflowDef
from podium.engine.blueprint import Blueprint
from podium.engine.limits import EngineLimits
from podium.errors import DefinitionNotFoundError, ValidationError
from podium.store.base import StoreTx

__all__ = ["Definitions"]

MAX_BLUEPRINTS = 1024


class Definitions:
    def __init__(
        self, limits: EngineLimits | None = None, *, max_blueprints: int = MAX_BLUEPRINTS
    ) -> None:
        self.limits = limits or EngineLimits()
        self.max_blueprints = max(1, max_blueprints)
        self._blueprints: OrderedDict[str, Blueprint] = OrderedDict()
        self.stored: set[str] = set()
        """Content keys whose run definition a committed unit wrote. The rows are never
        deleted or changed (the key is the content's hash), so they need not be written
        again. Kept no larger than the blueprints: writing a row again changes nothing."""
        self._resolved: dict[
            tuple[str, int | None, int], tuple[str, dict[str, Any], Blueprint]
        ] = {}

    def resolve(
        self, tx: StoreTx, name: str, version: int | None
    ) -> tuple[str, dict[str, Any], Blueprint]:
        """The frozen definition a new run of ``name`` executes, cached until any definition
        changes (the store's generation counter says when)."""
        cache_key = (name, version, tx.definitions_generation())
        cached = self._resolved.get(cache_key)
        if cached is not None:
            return cached
        # A name or version from a run (START_WORKFLOW's input) may be one the store cannot
        # compare (a NUL, a number past 32 bits); none is registered so: not found, on both.
        storable = nul_problem(name) is None
        storable = storable and (version is None or INT4_MIN <= version <= INT4_MAX)
        body = tx.get_workflow_def(name, version) if storable else None
        if body is None:
            which = f"version {version}" if version is not None else "any version"
            raise DefinitionNotFoundError(
                f"no workflow definition '{name}' ({which}) is registered",
                service="server",
                field="name",
            )
        if len(self._resolved) > 1000:
            self._resolved.clear()
        resolved = self._resolved[cache_key] = self.freeze(tx, body)
        return resolved

    def freeze(self, tx: StoreTx, body: dict[str, Any]) -> tuple[str, dict[str, Any], Blueprint]:
        """A definition's snapshot, its content key and its blueprint."""
        snapshot = self._snapshot(tx, body)
        key = hashlib.sha256(orjson.dumps(snapshot, option=orjson.OPT_SORT_KEYS)).hexdigest()
        blueprint = self._cached(key)
        if blueprint is None:
            blueprint = self._keep(
                key, Blueprint(WorkflowDef.model_validate(snapshot), self.limits)
            )
        return key, snapshot, blueprint

    def _snapshot(self, tx: StoreTx, body: dict[str, Any]) -> dict[str, Any]:
        """The definition with each step's TaskDef embedded, frozen for the run's lifetime."""
        definition = WorkflowDef.model_validate(body)
        cache: dict[str, TaskDef | None] = {}

        def task_def(name: str) -> TaskDef | None:
            if name not in cache:
                found = tx.get_task_def(name)
                cache[name] = TaskDef.model_validate(found) if found else None
            return cache[name]

        for step in walk.steps(definition.tasks):
            undo = step.compensation  # its retry policy is its own TaskDef's
            if undo and undo.taskDefinition is None and undo.type != TaskType.SUB_WORKFLOW:
                undo.taskDefinition = task_def(undo.name)
            if step.taskDefinition is not None or step.type not in (TaskType.SIMPLE, TaskType.HTTP):
                continue
            step.taskDefinition = task_def(step.name)
        return definition.to_json()

    def blueprint(self, tx: StoreTx, key: str) -> Blueprint:
        blueprint = self._cached(key)
        if blueprint is None:
            body = tx.get_run_definition(key)
            if body is None:
                raise ValidationError(f"the definition {key} of a run is missing", service="store")
            blueprint = self._keep(key, Blueprint(WorkflowDef.model_validate(body), self.limits))
        return blueprint

    def __len__(self) -> int:
        return len(self._blueprints)

    def _cached(self, key: str) -> Blueprint | None:
        blueprint = self._blueprints.get(key)
        if blueprint is not None:
            try:
                self._blueprints.move_to_end(key)
            except KeyError:  # evicted meanwhile by a unit on another thread (PostgreSQL)
                pass
        return blueprint

    def _keep(self, key: str, blueprint: Blueprint) -> Blueprint:
        self._blueprints[key] = blueprint
        while len(self._blueprints) > self.max_blueprints:
            self._blueprints.popitem(last=False)
        if len(self.stored) > self.max_blueprints:
            self.stored.clear()
        return blueprint
