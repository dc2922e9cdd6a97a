"""run_jq: Conductor's JSON_JQ_TRANSFORM examples, all outputs, errors and the hidden environment."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from podium.scripting import ScriptError, run_jq
from podium.scripting.jq_pool import JqPool


def test_conductor_example_merges_two_lists():
    data = {"key1": {"value1": ["a", "b"]}, "key2": {"value2": ["c", "d"]}}
    assert run_jq("{ key3: (.key1.value1 + .key2.value2) }", data) == [
        {"key3": ["a", "b", "c", "d"]}
    ]


def test_select_returns_every_match_in_order():
    data = {"users": [{"name": "a", "age": 31}, {"name": "b", "age": 17}, {"name": "c", "age": 40}]}
    assert run_jq(".users[] | select(.age >= 18) | .name", data) == ["a", "c"]


def test_multiple_outputs_and_no_output():
    assert run_jq(".a, .b, (.c | length)", {"a": 1, "b": [2], "c": "xyz"}) == [1, [2], 3]
    assert run_jq("empty", {"a": 1}) == []


def test_numbers_keep_json_types():
    assert run_jq("[.x / 2, .x * 1.5, .x]", {"x": 4}) == [[2, 6, 4]]
    assert run_jq(".x / 8", {"x": 4}) == [0.5]


def test_definitions_and_reduce_work_inside_a_query():
    query = "def total: reduce .[] as $n (0; . + $n); {sum: total, count: length}"
    assert run_jq(query, [1, 2, 3]) == [{"sum": 6, "count": 3}]


def test_compile_error_gives_jq_message():
    with pytest.raises(ScriptError) as caught:
        run_jq(".items[", {})
    assert caught.value.code == "E_SCRIPT_SYNTAX"
    assert "syntax error" in caught.value.message
    assert "line 1, column" in caught.value.message


def test_unknown_function_is_a_compile_error():
    with pytest.raises(ScriptError, match="nosuch/0 is not defined"):
        run_jq("nosuch", {})


def test_runtime_error_gives_jq_message():
    with pytest.raises(ScriptError) as caught:
        run_jq(".a + 1", {"a": "x"})
    assert caught.value.code == "E_SCRIPT"
    assert 'string ("x") and number (1) cannot be added' in caught.value.message


def test_error_raised_by_the_query_is_reported():
    with pytest.raises(ScriptError, match="order has no lines"):
        run_jq(
            'if (.lines | length) == 0 then error("order has no lines") else . end', {"lines": []}
        )


def test_environment_is_hidden():
    assert run_jq("[env, $ENV, env.PATH, $ENV.HOME]", {}) == [[{}, {}, None, None]]


def test_modules_are_refused():
    with pytest.raises(ScriptError) as caught:
        run_jq('import "lib" as lib; .', {})
    assert caught.value.code == "E_SCRIPT_SYNTAX"


def test_endless_stream_is_stopped_at_the_time_limit():
    with pytest.raises(ScriptError) as caught:
        run_jq("repeat(1)", None, time_limit_ms=50)
    assert caught.value.code == "E_SCRIPT_TIMEOUT"
    assert "jq query ran longer than 50 ms" in caught.value.message


def test_input_that_is_not_json_is_refused():
    with pytest.raises(ScriptError) as caught:
        run_jq(".", {"x": float("nan")})
    assert caught.value.code == "E_SCRIPT_INPUT"


def test_compiled_query_is_shared_safely_between_threads():
    def run(n: int) -> list[object]:
        return run_jq("[.[] | . * 2] | add", list(range(n)))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(1, 65)))
    assert results == [[n * (n - 1)] for n in range(1, 65)]


def test_a_query_computing_past_the_limit_is_killed_and_other_threads_go_on():
    ticks = 0
    stop = False

    def tick() -> None:
        nonlocal ticks
        while not stop:
            ticks += 1
            time.sleep(0.01)

    ticker = threading.Thread(target=tick)
    ticker.start()
    began = time.monotonic()
    try:
        with pytest.raises(ScriptError) as caught:
            run_jq("last(range(1e9))", None, time_limit_ms=300)
    finally:
        stop = True
        ticker.join()
    assert time.monotonic() - began < 2
    assert caught.value.code == "E_SCRIPT_TIMEOUT"
    assert "longer than 300 ms" in caught.value.message
    assert ticks >= 10  # the ticker ran while jq computed
    assert run_jq(". + 1", 1) == [2]  # a fresh process took the killed one's place


def test_a_query_past_the_memory_limit_ends_its_process_and_fails():
    pool = JqPool(memory_limit_bytes=256 * 1024 * 1024)
    try:
        with pytest.raises(ScriptError) as caught:
            pool.run("[range(1e8)] | length", "null", 30_000)
        assert caught.value.code == "E_SCRIPT_MEMORY"
        assert "256 MiB" in caught.value.message
        assert pool.run(". + 1", "1", 1000) == [2]
    finally:
        pool.close()
