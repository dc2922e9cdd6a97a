"""The engine is pure: importing it pulls in no web framework, database or HTTP client,
and its source reads no clock and draws no random numbers."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import podium.engine

FORBIDDEN = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlite3",
    "psycopg",
    "sqlalchemy",
    "httpx",
    "podium.store",
    "podium.server",
)

ENGINE_DIR = Path(podium.engine.__file__).parent
PODIUM_DIR = ENGINE_DIR.parent

_REPORT = """
import json, sys
forbidden = {forbidden!r}
{prelude}
import podium.engine
loaded = sorted(
    name for name in sys.modules
    if any(name == f or name.startswith(f + ".") for f in forbidden)
)
print(json.dumps({{"loaded": loaded, "modules": sorted(sys.modules)}}))
"""

# Registers a bare ``podium`` package so that ``podium/__init__.py`` does not run: what the
# engine itself imports, whatever the package's top-level convenience imports are.
_SKIP_PACKAGE_INIT = f"""
import types
package = types.ModuleType("podium")
package.__path__ = [{str(PODIUM_DIR)!r}]
sys.modules["podium"] = package
"""


def _import_in_subprocess(prelude: str = "") -> dict[str, list[str]]:
    script = _REPORT.format(forbidden=FORBIDDEN, prelude=prelude)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


def test_the_engine_modules_import_nothing_impure():
    found = _import_in_subprocess(_SKIP_PACKAGE_INIT)
    assert found["loaded"] == []
    podium_modules = {m for m in found["modules"] if m.startswith("podium.")}
    assert podium_modules <= {
        "podium.dsl",
        "podium.dsl.bounds",  # constants and a pydantic type, like podium.dsl.models
        "podium.dsl.durations",
        "podium.dsl.evaluators",
        "podium.dsl.expressions",
        "podium.dsl.http_request",  # which part of an input is the request: no IO
        "podium.dsl.jsonpaths",  # JSONPath reads with jsonpath-ng: pure functions of the data
        "podium.dsl.models",
        "podium.dsl.nesting",  # a pure walk over JSON values
        "podium.dsl.services",  # pydantic models only, like podium.dsl.models
        "podium.dsl.sinks",
        "podium.dsl.walk",  # the walk over a definition's steps
        "podium.engine",
        "podium.engine.blueprint",
        "podium.engine.compensation",
        "podium.engine.context",
        "podium.engine.decider",
        "podium.engine.domains",
        "podium.engine.dynamic",
        "podium.engine.event_tasks",
        "podium.engine.events",
        "podium.engine.exclusive_join",
        "podium.engine.limits",
        "podium.engine.jq_step",
        "podium.engine.joins",
        "podium.engine.loop_entries",
        "podium.engine.loops",
        "podium.engine.outcomes",
        "podium.engine.rework",
        "podium.engine.routing_slip",
        "podium.engine.secret_refs",
        "podium.engine.state",
        "podium.engine.system_tasks",
        "podium.engine.task_index",
        "podium.engine.task_state",
        "podium.engine.timing",
        "podium.errors",
    }, podium_modules


def test_the_script_sandbox_the_engine_calls_imports_nothing_impure():
    # podium.scripting is loaded on the first INLINE, SWITCH or DO_WHILE script. It is still
    # pure computation: each call runs in an interpreter no other script has changed, with no
    # IO, clock or randomness reachable, and the same script over the same inputs gives the same value.
    found = _import_in_subprocess(_SKIP_PACKAGE_INIT + "import podium.scripting\n")
    assert found["loaded"] == []
    assert "podium.scripting" in found["modules"]


def test_import_podium_engine_loads_no_framework_database_or_http_client():
    found = _import_in_subprocess()
    assert found["loaded"] == []


_CLOCK_OR_RANDOM_MODULES = {"time", "random", "secrets", "os", "asyncio", "threading", "socket"}
_CLOCK_OR_RANDOM_CALLS = {
    "uuid1",
    "uuid4",
    "utcnow",
    "today",
    "monotonic",
    "time_ns",
    "perf_counter",
}


@pytest.mark.parametrize("path", sorted(ENGINE_DIR.glob("*.py")), ids=lambda p: p.name)
def test_engine_source_reads_no_clock_and_draws_no_random_numbers(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            problems += [
                a.name for a in node.names if a.name.split(".")[0] in _CLOCK_OR_RANDOM_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in _CLOCK_OR_RANDOM_MODULES | {"datetime"}:
                problems.append(node.module)
        elif isinstance(node, ast.Attribute) and node.attr in _CLOCK_OR_RANDOM_CALLS:
            problems.append(node.attr)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "now"
            and isinstance(node.value, ast.Name)
            and node.value.id == "datetime"
        ):
            problems.append("datetime.now")
    assert problems == []


def test_the_public_sdk_is_what_all_lists():
    import podium

    public = {name for name in dir(podium) if not name.startswith("_")} | set(
        podium._WORKER_EXPORTS
    )
    assert set(podium.__all__) - {"__version__"} == podium._WORKER_EXPORTS
    for name in podium.__all__:
        assert getattr(podium, name) is not None
    assert public >= podium._WORKER_EXPORTS
