"""What ``execute`` makes of each way a handler can end, without any HTTP."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pydantic
import pytest

from podium.worker import Task, TaskFailedError, TaskInProgress, WorkerTaskSpec
from podium.worker.execution import MAX_REASON_CHARS, TaskResult, execute, output_of
from podium.worker.results import too_large

TASK = Task.from_json(
    {
        "taskId": "t-1",
        "workflowInstanceId": "wf-1",
        "referenceTaskName": "ref",
        "taskType": "demo",
        "inputData": {"n": 2},
    }
)


async def run(func: Any) -> dict[str, Any]:
    result = await execute(WorkerTaskSpec.of(func, "demo"), TASK, "w-1")
    assert isinstance(result, TaskResult)
    return result.body


@pytest.mark.parametrize(
    ("value", "output"),
    [({"a": 1}, {"a": 1}), (None, {}), (5, {"result": 5}), ([1, 2], {"result": [1, 2]})],
)
def test_output_mapping(value: Any, output: dict[str, Any]) -> None:
    assert output_of(value) == output


async def test_completed_result_body() -> None:
    body = await run(lambda n: {"double": n * 2})
    assert body == {
        "workflowInstanceId": "wf-1",
        "taskId": "t-1",
        "workerId": "w-1",
        "status": "COMPLETED",
        "outputData": {"double": 4},
    }


async def test_a_result_carries_back_the_token_of_the_lease_it_was_done_under() -> None:
    leased = Task.from_json({**TASK.raw, "leaseToken": "lease-1"})
    assert leased.lease_token == "lease-1"
    for value in ({"a": 1}, TaskInProgress(5)):
        result = await execute(WorkerTaskSpec.of(lambda v=value: v, "demo"), leased, "w-1")
        assert result.body["leaseToken"] == "lease-1"
    refused = too_large(TaskResult.build(leased, "w-1", "COMPLETED", {"a": 1}), "too big")
    assert refused.body["status"] == "FAILED"
    assert refused.body["leaseToken"] == "lease-1"
    # A task from a server that hands out no tokens gets results without the field.
    assert "leaseToken" not in TaskResult.build(TASK, "w-1", "COMPLETED").body


async def test_sync_handlers_run_off_the_event_loop() -> None:
    seen: list[str] = []

    def handler() -> None:
        seen.append(threading.current_thread().name)

    await run(handler)
    assert seen and seen[0] != threading.main_thread().name


async def test_async_handler() -> None:
    async def handler(n: int) -> int:
        await asyncio.sleep(0)
        return n + 1

    assert (await run(handler))["outputData"] == {"result": 3}


async def test_task_failed_error_is_retryable_by_default() -> None:
    def handler() -> None:
        raise TaskFailedError("card declined", output={"charged": False})

    body = await run(handler)
    assert body["status"] == "FAILED"
    assert body["reasonForIncompletion"] == "card declined"
    assert body["outputData"] == {"charged": False}
    assert "logs" not in body


async def test_non_retryable_failure_is_terminal() -> None:
    def handler() -> None:
        raise TaskFailedError("unknown customer", non_retryable=True)

    body = await run(handler)
    assert body["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert body["reasonForIncompletion"] == "unknown customer"


async def test_any_other_exception_fails_with_type_message_and_traceback() -> None:
    def handler(n: int) -> None:
        raise KeyError(f"sku-{n}")

    body = await run(handler)
    assert body["status"] == "FAILED"
    assert body["reasonForIncompletion"] == "KeyError: 'sku-2'"
    [log] = body["logs"]
    assert log["taskId"] == "t-1"
    assert "Traceback" in log["log"] and "handler" in log["log"]
    assert isinstance(log["createdTime"], int)


async def test_long_reasons_are_cut() -> None:
    def handler() -> None:
        raise TaskFailedError("x" * (MAX_REASON_CHARS + 50))

    assert len((await run(handler))["reasonForIncompletion"]) == MAX_REASON_CHARS


async def test_task_in_progress() -> None:
    body = await run(lambda: TaskInProgress(30, output={"step": 1}))
    assert body["status"] == "IN_PROGRESS"
    assert body["callbackAfterSeconds"] == 30
    assert body["outputData"] == {"step": 1}


async def test_output_that_json_cannot_carry_fails_the_task() -> None:
    body = await run(lambda: {"lock": threading.Lock()})
    assert body["status"] == "FAILED"
    assert "not JSON-serializable" in body["reasonForIncompletion"]


async def test_pydantic_models_and_sets_are_serialised() -> None:
    class Receipt(pydantic.BaseModel):
        amount: int

    result = await execute(
        WorkerTaskSpec.of(lambda: {"receipt": Receipt(amount=3), "tags": {"a"}}, "demo"),
        TASK,
        "w-1",
    )
    assert b'"receipt":{"amount":3}' in result.content
    assert b'"tags":["a"]' in result.content


async def test_sync_callable_returning_a_coroutine_is_awaited() -> None:
    async def inner() -> str:
        return "done"

    assert (await run(lambda: inner()))["outputData"] == {"result": "done"}
