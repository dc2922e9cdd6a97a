"""evaluate_javascript: Conductor's script forms, JSON results, limits, sandbox and threads."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from podium.errors import PodiumError
from podium.scripting import ScriptError, evaluate_javascript


def test_dollar_is_bound_to_nested_inputs():
    inputs = {"order": {"lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 3}]}, "ok": True}
    script = "$.order.lines[1].sku + ':' + $.order.lines.length + ':' + $.ok"
    assert evaluate_javascript(script, inputs) == "b:2:true"


def test_function_expression_form():
    script = "(function () { return $.value * 2; })()"
    assert evaluate_javascript(script, {"value": 21}) == 42


def test_plain_expression_form():
    assert evaluate_javascript("$.a > 1", {"a": 2}) is True
    assert evaluate_javascript("$.a > 1", {"a": 0}) is False


def test_value_of_last_expression_statement_is_the_result():
    script = "function double(x) { return x * 2; }\nvar total = double($.n);\ntotal + 1;"
    assert evaluate_javascript(script, {"n": 5}) == 11


def test_result_is_json_data_and_integral_numbers_are_int():
    script = (
        "({half: $.n / 2, whole: $.n * 1.0, list: [1.5, 2.0, 'x', null, true], none: undefined})"
    )
    result = evaluate_javascript(script, {"n": 4})
    assert result == {"half": 2, "whole": 4, "list": [1.5, 2, "x", None, True]}
    assert type(result["half"]) is int
    assert type(result["whole"]) is int
    assert type(result["list"][1]) is int
    assert type(result["list"][0]) is float


def test_undefined_result_is_none():
    assert evaluate_javascript("$.missing", {}) is None


def test_inputs_are_a_copy():
    inputs = {"items": [1, 2]}
    assert evaluate_javascript("$.items.push(3); $.items.length", inputs) == 3
    assert inputs == {"items": [1, 2]}


def test_each_call_starts_from_a_clean_global_scope():
    evaluate_javascript("var leaked = 1; globalThis.other = 2; 0", {})
    assert evaluate_javascript("typeof leaked + ',' + typeof other", {}) == "undefined,undefined"


def test_endless_loop_is_stopped_near_the_time_limit():
    started = time.monotonic()
    with pytest.raises(ScriptError) as caught:
        evaluate_javascript("while (true) {}", {}, time_limit_ms=100)
    assert time.monotonic() - started < 2
    assert caught.value.code == "E_SCRIPT_TIMEOUT"
    assert "script ran longer than 100 ms and was stopped" in str(caught.value)


def test_catching_the_interrupt_does_not_keep_a_script_running():
    started = time.monotonic()
    with pytest.raises(ScriptError, match="ran longer than 100 ms"):
        evaluate_javascript("while (true) { try { while (true) {} } catch (e) {} }", {})
    assert time.monotonic() - started < 2


def test_a_looping_to_json_is_stopped_too():
    with pytest.raises(ScriptError, match="ran longer than"):
        evaluate_javascript("({ toJSON() { while (true) {} } })", {})


@pytest.mark.parametrize(
    "script",
    [
        "var s = 'x'; while (true) s = s + s;",
        "var a = []; while (true) a.push({n: a.length});",
    ],
)
def test_memory_blow_up_is_stopped(script):
    started = time.monotonic()
    with pytest.raises(ScriptError) as caught:
        evaluate_javascript(script, {}, memory_limit_bytes=8 * 1024 * 1024, time_limit_ms=5000)
    assert time.monotonic() - started < 2
    assert caught.value.code == "E_SCRIPT_MEMORY"
    assert "script used more than 8388608 bytes of memory" in str(caught.value)


def test_inputs_larger_than_the_memory_limit_are_refused():
    with pytest.raises(ScriptError) as caught:
        evaluate_javascript("1", {"big": "x" * 2_000_000}, memory_limit_bytes=1024 * 1024)
    assert caught.value.code == "E_SCRIPT_MEMORY"


def test_syntax_error_names_the_problem_and_line():
    with pytest.raises(ScriptError) as caught:
        evaluate_javascript("var a = 1;\n(function () { return a +; })()", {})
    assert caught.value.code == "E_SCRIPT_SYNTAX"
    assert "SyntaxError" in caught.value.message
    assert "';'" in caught.value.message
    assert "(line 2)" in caught.value.message


def test_thrown_error_message_is_reported():
    with pytest.raises(ScriptError) as caught:
        evaluate_javascript(
            "if ($.qty < 1) { throw new Error('qty must be positive'); }", {"qty": 0}
        )
    assert caught.value.code == "E_SCRIPT"
    assert caught.value.message.startswith("script failed: Error: qty must be positive")


def test_reading_through_a_missing_input_reports_the_type_error():
    with pytest.raises(ScriptError, match=r"TypeError: cannot read property 'b' of undefined"):
        evaluate_javascript("$.a.b", {})


def test_runaway_recursion_is_reported():
    with pytest.raises(ScriptError, match="stack overflow"):
        evaluate_javascript("function f() { return f() + 1; } f()", {})


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("(function () {})", "the result is a function"),
        ("({a: 0 / 0})", 'the value at key "a" is NaN'),
        ("[1 / 0]", "is Infinity"),
        ("10n", "the result is a bigint"),
        ("var o = {}; o.self = o; o", "circular"),
    ],
)
def test_results_that_are_not_json_are_refused(script, problem):
    with pytest.raises(ScriptError) as caught:
        evaluate_javascript(script, {})
    assert caught.value.code == "E_SCRIPT_RESULT"
    assert problem in caught.value.message


def test_inputs_that_are_not_json_are_refused():
    with pytest.raises(ScriptError) as caught:
        evaluate_javascript("1", {"when": object()})
    assert caught.value.code == "E_SCRIPT_INPUT"


@pytest.mark.parametrize(
    "name", ["require", "process", "module", "exports", "std", "os", "fetch", "setTimeout"]
)
def test_no_host_access_is_reachable(name):
    assert evaluate_javascript(f"typeof {name}", {}) == "undefined"


def test_modules_cannot_be_loaded():
    script = (
        "var r = 'pending'; import('os').then(() => { r = 'loaded'; }, () => { r = 'refused'; }); r"
    )
    assert evaluate_javascript(script, {}) == "pending"
    with pytest.raises(ScriptError, match="SyntaxError"):
        evaluate_javascript("import * as std from 'std'; 1", {})


def test_script_error_is_a_podium_error():
    with pytest.raises(PodiumError) as caught:
        evaluate_javascript("throw 'plain'", {})
    assert caught.value.service == "scripting"
    assert str(caught.value) == "podium[scripting] E_SCRIPT: script failed: plain"


def test_concurrent_calls_from_eight_threads_give_their_own_results():
    script = (
        "(function () { var s = 0; for (var i = 0; i < 20000; i++) { s += $.n; } return s; })()"
    )

    def run(n: int) -> object:
        return evaluate_javascript(script, {"n": n}, time_limit_ms=5000)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(64)))
    assert results == [n * 20000 for n in range(64)]


def test_a_stopped_script_does_not_disturb_concurrent_ones():
    def run(n: int) -> object:
        if n % 4 == 0:
            try:
                return evaluate_javascript("while (true) {}", {}, time_limit_ms=50)
            except ScriptError as exc:
                return exc.code
        return evaluate_javascript("$.n + 1", {"n": n})

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(16)))
    assert results == ["E_SCRIPT_TIMEOUT" if n % 4 == 0 else n + 1 for n in range(16)]
