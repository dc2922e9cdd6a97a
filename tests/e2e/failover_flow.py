"""The five-step flow the failover tests run, its task definitions, and the schema (on the
machine's own PostgreSQL, which no test stops) where ``failover_workers`` record deliveries
and side effects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from tests.postgres import drop_schema, new_schema_name

STEPS = ["fo_add_one", "fo_double", "fo_add_three", "fo_times_five", "fo_minus_seven"]
LEASE_S = 3


def flow() -> dict[str, object]:
    tasks = []
    previous = "${workflow.input.value}"
    for index, name in enumerate(STEPS):
        ref = f"s{index}"
        tasks.append(
            {"name": name, "taskReferenceName": ref, "inputParameters": {"value": previous}}
        )
        previous = f"${{{ref}.output.value}}"
    return {
        "name": "failover_flow",
        "version": 1,
        "tasks": tasks,
        "outputParameters": {"value": previous},
    }


def task_defs() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "retryCount": 3,
            "retryDelaySeconds": 0,
            "responseTimeoutSeconds": LEASE_S,
            "timeoutSeconds": 0,
        }
        for name in STEPS
    ]


def expected(value: int) -> int:
    return ((value + 1) * 2 + 3) * 5 - 7


@contextmanager
def effects_schema(url: str) -> Iterator[str]:
    """A fresh schema on ``url`` with the workers' tables; dropped afterwards."""
    schema = new_schema_name()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.deliveries (key TEXT NOT NULL, task_id TEXT NOT NULL)")
        conn.execute(f"CREATE TABLE {schema}.applied (key TEXT PRIMARY KEY)")
        conn.execute(f"CREATE TABLE {schema}.effects (key TEXT NOT NULL)")
    try:
        yield schema
    finally:
        drop_schema(url, schema)
