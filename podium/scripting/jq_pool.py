"""A pool of child processes that run jq queries, so that a slow query can be killed.

The jq library holds the GIL while it computes and offers no way to interrupt it: a query
such as ``last(range(1e9))`` run in the server's own process would freeze every thread of it,
the event loop included. Here each query is sent to an idle child (``jq_child.py``) over a
pipe; the calling thread waits for the answer without holding the GIL, and a child whose
answer is not back by the deadline is killed and dropped, its place taken by a fresh one on
the next call. A round trip costs well under a millisecond; starting a child costs tens.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from podium.scripting.errors import ScriptError

__all__ = ["MEMORY_LIMIT_BYTES", "JqPool"]

_CHILD = Path(__file__).with_name("jq_child.py")
MEMORY_LIMIT_BYTES = 1 << 30
"""Address space a jq process may use by default; a query needing more ends it and fails."""
_KEEP_IDLE = 4
"""Idle children kept for the next query; more are started while more threads ask at once."""


class _Child:
    """One jq process and the bytes of its answer read so far."""

    def __init__(self, memory_limit_bytes: int) -> None:
        self.memory_limit_bytes = memory_limit_bytes
        # -I: no user site, no PYTHONPATH, no current directory on the path: the child
        # imports only the standard library and jq from the interpreter's own site-packages.
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(_CHILD), str(memory_limit_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin = self.process.stdin
        self.stdout_fd = self.process.stdout.fileno()

    def ask(self, request: bytes, deadline: float) -> bytes | None:
        """The answer line to ``request``, or None if it is not back by ``deadline``."""
        self.stdin.write(request)
        self.stdin.flush()
        chunks: list[bytes] = []
        with selectors.DefaultSelector() as selector:
            selector.register(self.stdout_fd, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    return None
                chunk = os.read(self.stdout_fd, 1 << 16)
                if not chunk:
                    raise ScriptError(
                        "jq query ended its process without an answer (most likely it "
                        f"needed more than {self.memory_limit_bytes >> 20} MiB of memory)",
                        code="E_SCRIPT_MEMORY",
                    )
                chunks.append(chunk)
                if chunk.endswith(b"\n"):
                    return b"".join(chunks)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


class JqPool:
    """Runs queries in child processes; safe to call from several threads at once."""

    def __init__(
        self, keep_idle: int = _KEEP_IDLE, memory_limit_bytes: int = MEMORY_LIMIT_BYTES
    ) -> None:
        self._memory_limit_bytes = memory_limit_bytes
        self._idle: list[_Child] = []
        self._lock = threading.Lock()
        self._keep_idle = keep_idle

    def run(self, query: str, input_text: str, time_limit_ms: int) -> list[Any]:
        """Every output of ``query`` (already checked to compile) over the JSON ``input_text``.

        Raises :class:`ScriptError` with code ``E_SCRIPT_TIMEOUT`` when no answer came within
        ``time_limit_ms`` (the child is killed), or with the child's code when jq failed.
        """
        request = json.dumps({"query": query, "input": input_text, "limit_ms": time_limit_ms})
        child = self._take()
        # The clock starts once a child is ready: starting one is not the query's time.
        deadline = time.monotonic() + time_limit_ms / 1000
        try:
            line = child.ask(request.encode() + b"\n", deadline)
        except BaseException:
            child.kill()
            raise
        if line is None:
            child.kill()
            raise ScriptError(
                f"jq query ran longer than {time_limit_ms} ms and was stopped",
                code="E_SCRIPT_TIMEOUT",
            )
        self._give_back(child)
        reply = json.loads(line)
        if "error" in reply:
            raise ScriptError(str(reply["error"]), code=str(reply["code"]))
        outputs: list[Any] = reply["outputs"]
        return outputs

    def close(self) -> None:
        """Kill the idle children (a call in flight kills its own if it runs late)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for child in idle:
            child.kill()

    def _take(self) -> _Child:
        with self._lock:
            while self._idle:
                child = self._idle.pop()
                if child.process.poll() is None:
                    return child
                child.kill()
        try:
            return _Child(self._memory_limit_bytes)
        except OSError as exc:
            raise ScriptError(f"no jq process could be started: {exc}", code="E_SCRIPT") from exc

    def _give_back(self, child: _Child) -> None:
        with self._lock:
            if len(self._idle) < self._keep_idle:
                self._idle.append(child)
                return
        child.kill()
