"""The program a jq child process runs: one query per line in, one answer per line out.

It is started as a script (``python -I jq_child.py MEMORY_LIMIT_BYTES``), not as a module of ``podium``, so it
imports nothing but the standard library and ``jq``: it starts fast and holds no server state.
Each request is a JSON object ``{"query": ..., "input": <JSON text>, "limit_ms": ...}``; each
answer is ``{"outputs": [...]}`` or ``{"error": message, "code": ...}``. The parent kills the
process when an answer is late, so nothing here needs to be interruptible.
"""

from __future__ import annotations

import functools
import json
import resource
import sys
import time
from typing import Any

import jq


@functools.lru_cache(maxsize=256)
def _program(query: str) -> Any:
    return jq.compile(query)


def _error(message: str, code: str) -> str:
    return json.dumps({"error": message, "code": code})


def answer(request: dict[str, Any]) -> str:
    """The answer line to one request; the parent checked that the query compiles."""
    limit_ms = int(request["limit_ms"])
    deadline = time.monotonic() + limit_ms / 1000
    outputs: list[Any] = []
    try:
        # An endless stream is stopped here too, so that its outputs do not fill the memory
        # while the parent waits for its deadline.
        for output in _program(request["query"]).input_text(request["input"]):
            outputs.append(output)
            if time.monotonic() > deadline:
                return _error(
                    f"jq query ran longer than {limit_ms} ms and was stopped "
                    f"after {len(outputs)} outputs",
                    "E_SCRIPT_TIMEOUT",
                )
    except ValueError as exc:
        return _error(f"jq query failed: {exc}", "E_SCRIPT")
    try:
        return json.dumps({"outputs": outputs}, allow_nan=False)
    except ValueError as exc:
        return _error(f"jq query's result is not JSON: {exc}", "E_SCRIPT_RESULT")


def serve(memory_limit_bytes: int) -> None:
    # Past the limit jq's allocations fail and the process ends; the parent reports that.
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    for line in sys.stdin:
        sys.stdout.write(answer(json.loads(line)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
