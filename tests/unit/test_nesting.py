"""The depth walk behind PODIUM_MAX_JSON_DEPTH."""

from __future__ import annotations

from typing import Any

import pytest

from podium.dsl.nesting import LARGEST_MAX_DEPTH, deeper_than, render_path
from podium.server.limits import engine_limits
from podium.settings import Settings


def nested(levels: int) -> Any:
    value: Any = {}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


def test_scalars_and_values_within_the_limit_pass():
    assert deeper_than(1, 1) is None
    assert deeper_than("x", 1) is None
    assert deeper_than({"a": 1, "b": [1, 2]}, 2) is None
    assert deeper_than(nested(64), 64) is None


def test_the_first_container_past_the_limit_is_named_by_its_path():
    value = {"ok": [1, {"x": 2}], "deep": [{"k": [[1]]}]}
    assert deeper_than(value, 4) == ("deep", 0, "k", 0)
    assert deeper_than(value, 5) is None
    assert deeper_than(nested(65), 64) == ("k",) * 64


def test_a_value_far_deeper_than_python_recurses_is_walked_without_recursion():
    value: Any = []
    for _ in range(200_000):
        value = [value]
    assert deeper_than(value, 64) == (0,) * 64


def test_siblings_after_a_deep_branch_are_still_measured():
    value = {"a": nested(3), "b": 1, "c": [[[[]]]]}
    assert deeper_than(value, 4) == ("c", 0, 0, 0)


def test_paths_render_as_fields_and_stop_after_a_few_parts():
    assert render_path("input", ("a", 0, "b")) == "input.a[0].b"
    assert render_path("", ("a", 0)) == "a[0]"
    assert render_path("", (0, "outputData")) == "[0].outputData"
    assert render_path("x", (0,) * 10, longest=2) == "x[0][0]..."


def test_the_setting_is_refused_past_what_a_run_can_hold():
    assert engine_limits(Settings(max_json_depth=LARGEST_MAX_DEPTH)).max_json_depth == 100
    with pytest.raises(ValueError, match="PODIUM_MAX_JSON_DEPTH"):
        engine_limits(Settings(max_json_depth=LARGEST_MAX_DEPTH + 1))
