"""The limit settings read their PODIUM_* variables, and secret references resolve only
through the resolver, never through the engine's expressions."""

from __future__ import annotations

import pytest

from podium.dsl import expressions
from podium.engine.context import expression_context
from podium.engine.state import RunState, RunStatus
from podium.server.limits import engine_limits
from podium.server.secrets import MissingSecretError, SecretResolver
from podium.settings import Settings


def test_limits_come_from_their_variables(monkeypatch):
    for name, value in {
        "PODIUM_MAX_TASK_OUTPUT_BYTES": "11",
        "PODIUM_MAX_WORKFLOW_INPUT_BYTES": "12",
        "PODIUM_MAX_FORK_WIDTH": "13",
        "PODIUM_MAX_LOOP_ITERATIONS": "14",
        "PODIUM_MAX_SUBWORKFLOW_DEPTH": "15",
        "PODIUM_MAX_TASKS_PER_RUN": "16",
        "PODIUM_DECISION_STEP_BUDGET": "17",
        "PODIUM_JQ_TIME_LIMIT_MS": "18",
        "PODIUM_SECRETS_FILE": "/etc/podium/secrets.json",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert (settings.max_task_output_bytes, settings.max_workflow_input_bytes) == (11, 12)
    assert settings.secrets_file == "/etc/podium/secrets.json"
    limits = engine_limits(settings)
    assert (limits.max_fork_width, limits.max_loop_iterations) == (13, 14)
    assert limits.max_subworkflow_depth == 15
    assert (limits.max_tasks_per_run, limits.decision_step_budget) == (16, 17)
    assert limits.jq_time_limit_ms == 18


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("max_tasks_per_run", "PODIUM_MAX_TASKS_PER_RUN"),
        ("decision_step_budget", "PODIUM_DECISION_STEP_BUDGET"),
        ("jq_time_limit_ms", "PODIUM_JQ_TIME_LIMIT_MS"),
    ],
)
def test_a_bound_that_is_not_positive_is_refused_naming_it(field, name):
    with pytest.raises(ValueError, match=name):
        engine_limits(Settings(**{field: 0}))


def test_the_engine_keeps_secret_references_as_written():
    state = RunState("r1", "flow", 1, RunStatus.RUNNING, 0)
    template = {"Authorization": "Bearer ${workflow.secrets.API_TOKEN}"}
    assert expressions.resolve(template, expression_context(state)) == template


def test_the_resolver_reads_variables_then_the_file(tmp_path):
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text('{"from-file": "f", "both": "file"}')
    resolver = SecretResolver(
        str(secrets_file), env={"PODIUM_SECRET_API_TOKEN": "t", "PODIUM_SECRET_BOTH": "env"}
    )
    assert resolver.value("API_TOKEN") == "t"
    assert resolver.value("from-file") == "f"
    assert resolver.value("both") == "env"
    with pytest.raises(MissingSecretError, match="PODIUM_SECRET_ABSENT"):
        resolver.value("absent")
