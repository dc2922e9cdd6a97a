"""``@worker_task``, the registry and how a task's input becomes a handler's arguments."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import podium.worker
from podium.worker import Task, WorkerTaskSpec, registered_tasks, worker_task
from podium.worker.registry import load_tasks, spec_for


def make_task(**input: Any) -> Task:
    return Task.from_json(
        {
            "taskId": "t-1",
            "workflowInstanceId": "wf-1",
            "referenceTaskName": "ref",
            "taskType": "t",
            "inputData": input,
        }
    )


def test_public_names_are_exactly_those_promised() -> None:
    assert set(podium.worker.__all__) == {
        "worker_task",
        "Task",
        "TaskFailedError",
        "TaskInProgress",
        "WorkerRunner",
        "WorkerTaskSpec",
        "registered_tasks",
    }
    for name in podium.worker.__all__:
        assert getattr(podium.worker, name).__doc__, f"{name} has no docstring"


def test_decorator_returns_the_function_unchanged_and_registers_it() -> None:
    @worker_task("reg_reserve", concurrency=3, poll_timeout_ms=250)
    def reserve(sku: str) -> dict[str, str]:
        return {"sku": sku}

    assert reserve("A") == {"sku": "A"}
    spec = spec_for(reserve)
    assert (spec.name, spec.concurrency, spec.poll_timeout_ms) == ("reg_reserve", 3, 250)
    assert spec in registered_tasks(__name__)
    assert spec not in registered_tasks("some.other.module")


def test_bare_decorator_uses_the_function_name() -> None:
    @worker_task
    def ship_parcel() -> None:
        return None

    assert spec_for(ship_parcel).name == "ship_parcel"


def test_plain_function_handles_the_task_named_after_it() -> None:
    def charge() -> None:
        return None

    assert spec_for(charge).name == "charge"


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        worker_task("x", concurrency=0)(lambda: None)


def test_arguments_are_filled_by_name_with_defaults_and_none() -> None:
    def handler(sku: str, quantity: int = 1, note: str | None = "n", missing: Any = None) -> None:
        return None

    spec = WorkerTaskSpec.of(handler)
    args, kwargs = spec.arguments(make_task(sku="A-1", extra="ignored"))
    assert args == []
    # The others are absent: Python applies their defaults.
    assert kwargs == {"sku": "A-1"}

    def no_default(sku: str, quantity: int) -> None:
        return None

    _, kwargs = WorkerTaskSpec.of(no_default).arguments(make_task(sku="B"))
    assert kwargs == {"sku": "B", "quantity": None}


def test_positional_only_parameters_keep_their_places() -> None:
    def handler(a: int = 1, b: int = 2, /) -> None:
        return None

    assert WorkerTaskSpec.of(handler).arguments(make_task(b=5)) == ([1, 5], {})


def test_a_parameter_annotated_task_gets_the_whole_task() -> None:
    def handler(task: Task) -> None:
        return None

    task = make_task(a=1)
    assert WorkerTaskSpec.of(handler).arguments(task) == ([], {"task": task})


def test_task_annotation_as_an_unresolvable_string_is_recognised() -> None:
    # Written as a string that cannot be resolved in this module's globals.
    def handler(t: podium.worker.Task, amount: int) -> None:
        return None

    handler.__annotations__["t"] = "worker.Task"
    task = make_task(amount=5)
    assert WorkerTaskSpec.of(handler).arguments(task) == ([], {"t": task, "amount": 5})


def test_var_keyword_takes_the_remaining_inputs() -> None:
    def handler(a: int, **rest: Any) -> None:
        return None

    _, kwargs = WorkerTaskSpec.of(handler).arguments(make_task(a=1, b=2, c=3))
    assert kwargs == {"a": 1, "b": 2, "c": 3}


def test_task_from_json_tolerates_nulls_and_derives_the_idempotency_key() -> None:
    task = Task.from_json(
        {
            "taskId": "t",
            "workflowInstanceId": "w",
            "referenceTaskName": "r",
            "taskDefName": "d",
            "inputData": None,
            "retryCount": None,
        }
    )
    assert task.input == {}
    assert task.retry_count == 0
    assert task.task_type == "d"
    assert task.idempotency_key == "w:r"
    given = Task.from_json({"taskId": "t", "idempotencyKey": "k", "correlationId": "c"})
    assert (given.idempotency_key, given.correlation_id) == ("k", "c")


def test_load_tasks_by_function_and_by_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "regmod_handlers.py").write_text(
        textwrap.dedent(
            """
            from podium.worker import worker_task

            @worker_task("regmod_a")
            def a():
                return 1

            @worker_task("regmod_b")
            async def b():
                return 2

            def not_a_task():
                return 3
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert [s.name for s in load_tasks("regmod_handlers")] == ["regmod_a", "regmod_b"]
        assert [s.name for s in load_tasks("regmod_handlers:b")] == ["regmod_b"]
        assert load_tasks("regmod_handlers:b")[0].is_async
        assert [s.name for s in load_tasks("regmod_handlers:not_a_task")] == ["not_a_task"]
        with pytest.raises(LookupError, match="no attribute"):
            load_tasks("regmod_handlers:nope")
        with pytest.raises(LookupError, match="registers no @worker_task"):
            load_tasks("textwrap")
    finally:
        sys.modules.pop("regmod_handlers", None)
