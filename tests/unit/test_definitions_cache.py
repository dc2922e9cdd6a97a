"""Blueprints are cached by content key, the most recently used ones only."""

from __future__ import annotations

from typing import Any

from podium.server.definitions import Definitions


class _Tx:
    """The two reads ``Definitions`` makes, from dicts; counts the run definitions read."""

    def __init__(self) -> None:
        self.run_definitions: dict[str, dict[str, Any]] = {}
        self.reads = 0

    def get_task_def(self, name: str) -> dict[str, Any] | None:
        return {"name": name}

    def get_run_definition(self, key: str) -> dict[str, Any] | None:
        self.reads += 1
        return self.run_definitions.get(key)


def _flow(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "tasks": [{"name": "work", "taskReferenceName": "work", "type": "SIMPLE"}],
    }


def _freeze(definitions: Definitions, tx: _Tx, name: str) -> str:
    key, snapshot, _ = definitions.freeze(tx, _flow(name))  # type: ignore[arg-type]
    tx.run_definitions[key] = snapshot  # as a starting run stores it
    return key


def test_inline_definitions_do_not_grow_the_cache_past_its_bound() -> None:
    definitions = Definitions(max_blueprints=3)
    tx = _Tx()
    keys = [_freeze(definitions, tx, f"inline-{i}") for i in range(10)]
    assert len(definitions) == 3
    assert len(set(keys)) == 10


def test_an_evicted_blueprint_is_built_again_from_the_stored_snapshot() -> None:
    definitions = Definitions(max_blueprints=2)
    tx = _Tx()
    first = _freeze(definitions, tx, "first")
    _freeze(definitions, tx, "second")
    _freeze(definitions, tx, "third")  # evicts the first
    blueprint = definitions.blueprint(tx, first)  # type: ignore[arg-type]
    assert blueprint.definition.name == "first"
    assert tx.reads == 1
    assert len(definitions) == 2


def test_the_blueprint_used_last_is_the_one_kept() -> None:
    definitions = Definitions(max_blueprints=2)
    tx = _Tx()
    first = _freeze(definitions, tx, "first")
    second = _freeze(definitions, tx, "second")
    definitions.blueprint(tx, first)  # type: ignore[arg-type]
    _freeze(definitions, tx, "third")  # evicts the second, used longest ago
    definitions.blueprint(tx, first)  # type: ignore[arg-type]
    assert tx.reads == 0
    definitions.blueprint(tx, second)  # type: ignore[arg-type]
    assert tx.reads == 1
