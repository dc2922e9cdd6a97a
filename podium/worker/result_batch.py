"""Posting a runner's results together: ``POST /api/tasks/update-batch``, like a group commit.

A slot hands its result over and waits for the answer: its next task, or None. Up to two batch
requests are in flight at once. While fewer are, a result is sent at once, so a lone worker
waits for no timer; while two are, results that finish meanwhile wait and go together in the
next request, sent as soon as one is answered. Under load, N results cost one request instead
of N, and the server reads the next request while it records the one before.

Each answer is read as the same result posted alone would be (``results``). A server without
the route (an older Podium, or Conductor) is asked one by one with ``update-v2`` from then on;
while the runner stops, results go one by one to v1, which hands out no new work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from podium.resilience.backoff import Backoff
from podium.worker.execution import TaskResult
from podium.worker.results import (
    JSON_HEADERS,
    ResultPoster,
    is_retryable,
    is_task_gone,
    next_task,
    too_large,
)
from podium.worker.transport import HttpResponse, HttpTransport, TransportError, error_text

__all__ = ["BATCH_PATH", "ResultBatcher"]

logger = logging.getLogger("podium.worker")

BATCH_PATH = "/api/tasks/update-batch"
_MAX_ITEMS = 100
"""The server's limit per request."""
_MAX_BYTES = 2 * 1024 * 1024
"""Well under the server's default body limit (5 MiB); a larger result goes by itself."""
_IN_FLIGHT = 2
"""Batch requests at once. With one, the server sat idle between answering a request and
receiving the next; a second one in flight gave about 9% more steps/s under load. A third gave
nothing more."""


class _Alone:
    """The answer that tells a slot to post its result by itself (``ResultPoster``)."""


_ALONE = _Alone()


@dataclass(eq=False, slots=True)
class _Item:
    result: TaskResult
    traceparent: str | None
    deadline: float
    done: asyncio.Future[dict[str, Any] | _Alone | None]
    content: bytes = b""
    attempts: int = 0

    def __post_init__(self) -> None:
        self.encode()

    def encode(self) -> None:
        content = self.result.content
        if self.traceparent is not None:
            # The result is an encoded JSON object: add the field without encoding its output
            # again. One request carries results of many traces, so it cannot be a header.
            tail = b',"traceparent":' + orjson.dumps(self.traceparent) + b"}"
            content = content[:-1] + tail
        self.content = content

    def settle(self, outcome: dict[str, Any] | _Alone | None) -> None:
        if not self.done.done():  # its slot may have been cancelled (a forced quit)
            self.done.set_result(outcome)


class ResultBatcher:
    """One runner's results, posted as many together as finished together."""

    def __init__(self, retry_seconds: float) -> None:
        self.single = ResultPoster(retry_seconds)
        self.use_batch = True
        self._pending: deque[_Item] = deque()
        self._senders: set[asyncio.Task[None]] = set()
        self._backoff = Backoff(0.1, 5.0)
        self._backing_off = 0
        """Senders waiting to send again: while any is, no new sender may skip its backoff."""

    def open(self, client: HttpTransport, stopping: asyncio.Event) -> None:
        self.single.open(client, stopping)

    def close(self) -> None:
        """Stop sending; slots still waiting (only after a forced quit) are cancelled."""
        for sender in self._senders:
            sender.cancel()
        self._senders.clear()
        for item in self._pending:
            item.done.cancel()
        self._pending.clear()
        self.single.close()

    async def post(
        self, result: TaskResult, traceparent: str | None = None
    ) -> dict[str, Any] | None:
        """Post ``result`` (with the next results to finish); return the next task, if any."""
        if not self.use_batch or self.single.stopping:
            return await self.single.post(result, traceparent)
        done: asyncio.Future[dict[str, Any] | _Alone | None]
        done = asyncio.get_running_loop().create_future()
        item = _Item(result, traceparent, time.monotonic() + self.single.retry_seconds, done)
        self._pending.append(item)
        if len(self._senders) < _IN_FLIGHT and not self._backing_off:
            self._senders.add(asyncio.create_task(self._send_pending(), name="podium:results"))
        outcome = await done
        if isinstance(outcome, _Alone):
            return await self.single.post(item.result, traceparent, item.deadline)
        return outcome

    # -- the sender --------------------------------------------------------------------------

    async def _send_pending(self) -> None:
        batch: list[_Item] = []
        try:
            while self._pending and self.use_batch and not self.single.stopping:
                batch = self._take()
                delay = await self._send(batch) if batch else None
                batch = []
                if delay is not None:
                    self._backing_off += 1
                    try:
                        await asyncio.sleep(delay)
                    finally:
                        self._backing_off -= 1
        except Exception:
            logger.exception("posting results together failed; posting them one by one")
        finally:
            # Left over when stopping, when the server has no update-batch, or after a bug of
            # ours: each slot posts its own result.
            for item in batch:
                item.settle(_ALONE)
            current = asyncio.current_task()
            if current in self._senders:  # not a sender close() gave up on
                self._senders.discard(current)
                for item in self._pending:
                    item.settle(_ALONE)
                self._pending.clear()

    def _take(self) -> list[_Item]:
        batch: list[_Item] = []
        size = 0
        while self._pending and len(batch) < _MAX_ITEMS:
            item = self._pending[0]
            if item.done.done():
                self._pending.popleft()
                continue
            if batch and size + len(item.content) > _MAX_BYTES:
                break
            batch.append(self._pending.popleft())
            size += len(item.content) + 1
        return batch

    async def _send(self, batch: list[_Item]) -> float | None:
        """Post ``batch``; the delay before the next request when some must be tried again."""
        body = b"[" + b",".join(item.content for item in batch) + b"]"
        for item in batch:
            item.attempts += 1
        try:
            response = await self.single.client.post(BATCH_PATH, content=body, headers=JSON_HEADERS)
        except TransportError as exc:
            return self._again(batch, f"{type(exc).__name__}: {exc.message}")
        status = response.status_code
        if status < 300:
            answers = _answers(response, len(batch))
            if answers is None:
                return self._again(batch, f"HTTP {status}: not an answer per result")
            self._backoff.reset()
            return self._read(batch, answers)
        code, message = error_text(response)
        if status in (403, 404, 405):
            # No such route here (an older Podium refuses routes it does not know with 403
            # when keys are on; for a current one, 403 here means 403 for update-v2 too).
            logger.warning(
                "server has no update-batch (HTTP %s); posting results one by one",
                f"{status} {code}".strip(),
            )
            self.use_batch = False
            self._alone(batch)
            return None
        if is_retryable(status):
            return self._again(batch, f"HTTP {status} {code} {message}")
        # The request as a whole was refused (too big, or an item the server cannot read):
        # posted alone, each result is refused or recorded on its own.
        logger.warning(
            "server refused %d result(s) together (HTTP %d %s %s); posting them one by one",
            len(batch),
            status,
            code,
            message,
        )
        self._alone(batch)
        return None

    def _read(self, batch: list[_Item], answers: list[dict[str, Any]]) -> float | None:
        again: list[_Item] = []
        retry = False
        for item, answer in zip(batch, answers, strict=True):
            error = answer.get("error")
            if not isinstance(error, dict):
                if item.attempts > 1:
                    logger.warning("posted result of task %s", item.result.task_id)
                item.settle(next_task(answer.get("next")))
                continue
            status = error.get("status")
            status = status if isinstance(status, int) else 500
            code, message = str(error.get("code") or ""), str(error.get("message") or "")
            if is_task_gone(status):
                logger.warning(
                    "result of task %s dropped: %s %s", item.result.task_id, code, message
                )
                item.settle(None)
            elif status == 413 and item.result.body["outputData"]:
                item.result = too_large(item.result, message)
                item.encode()
                again.append(item)
            elif is_retryable(status):
                if self._may_retry(item, f"HTTP {status} {code} {message}"):
                    again.append(item)
                    retry = True
            else:
                logger.error(
                    "server refused result of task %s: HTTP %d %s %s",
                    item.result.task_id,
                    status,
                    code,
                    message,
                )
                item.settle(None)
        self._pending.extendleft(reversed(again))
        return self._backoff.next() if retry else None

    def _again(self, batch: list[_Item], problem: str) -> float | None:
        """The request failed as a whole: the batch goes again after a pause."""
        kept = [item for item in batch if self._may_retry(item, problem)]
        self._pending.extendleft(reversed(kept))
        return self._backoff.next() if kept else None

    def _may_retry(self, item: _Item, problem: str) -> bool:
        if time.monotonic() >= item.deadline:
            logger.error(
                "giving up on result of task %s after %d attempts: %s",
                item.result.task_id,
                item.attempts,
                problem,
            )
            item.settle(None)
            return False
        if item.attempts == 1:
            logger.warning(
                "cannot post result of task %s (%s); retrying for up to %.0f s",
                item.result.task_id,
                problem,
                self.single.retry_seconds,
            )
        return True

    def _alone(self, batch: list[_Item]) -> None:
        for item in batch:
            item.settle(_ALONE)


def _answers(response: HttpResponse, count: int) -> list[dict[str, Any]] | None:
    """The server's answer per result, in order; None when the body is not that."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, list) or len(body) != count:
        return None
    if not all(isinstance(answer, dict) for answer in body):
        return None
    return body
