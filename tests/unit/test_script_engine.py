"""QuickJS is the only JavaScript engine: which scripts share a thread's interpreter, that
sharing it changes no script's answer, and that a server without QuickJS does not start."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

from podium.dsl import evaluators
from podium.dsl.evaluators import EvaluationError, ScriptEngineUnavailableError, evaluate
from podium.scripting.script_shape import Shape, shape
from podium.server.app import create_app
from podium.settings import Settings


@pytest.mark.parametrize(
    "source",
    [
        "$.order.total > 100 ? 'big' : 'small'",
        "(function () { return $.type == 'Express'; })()",
        "['DE', 'FR'].includes($.country) // a comment",
        "$.items[0].sku == 'A-1' && $['dash-key'] != null",
        "$.items.filter(item => item.qty > 0).length",
    ],
)
def test_a_single_expression_that_cannot_change_the_interpreter_is_compiled(source: str) -> None:
    assert shape(source) is Shape.EXPRESSION


@pytest.mark.parametrize(
    "source",
    [
        "if ($.loop['iteration'] < 3) { true; } else { false; }",
        "$.a; $.b",
        "{ $.a }",
    ],
)
def test_statements_share_the_interpreter_without_being_compiled(source: str) -> None:
    assert shape(source) is Shape.SHARED


@pytest.mark.parametrize(
    "source",
    [
        "x = 1",
        "var x = 1; x",
        "Math++",
        "Math.x += 1",
        "function f() { return 1; } f();",
        "Array.prototype.x",
        "({}).constructor",
        "$[$.key]",  # a key from the inputs could be "constructor"
        "$['__proto__']",
        "[Math].forEach([].push, Math)",
        "[].push.call(Math, 1)",
        "Object.assign(Math, {x: 1})",
        "Error.captureStackTrace(Math)",
        "$.a \\u002b 1",
        "`${$.a}`",
        "/a/.test($.a)",
        "$.a / 2",
        "1 >>= 2",
        "globalThis.x",
        "'unterminated",
    ],
)
def test_a_script_that_might_change_the_interpreter_gets_a_fresh_one(source: str) -> None:
    assert shape(source) is Shape.FRESH


def test_a_script_that_changes_its_interpreter_is_not_seen_by_the_next() -> None:
    assert evaluate("javascript", "Array.prototype.leak = 1; leak = 2; [1].leak", {}) == 1
    assert evaluate("javascript", "[Math].forEach([].push, Math); Math.length", {}) == 3
    assert shape("typeof leak + [].leak + Math.length") is Shape.EXPRESSION
    assert (
        evaluate("javascript", "typeof leak + [].leak + Math.length", {})
        == "undefinedundefinedundefined"
    )


def test_the_kept_interpreter_is_dropped_after_a_script_is_stopped() -> None:
    assert shape("while (true) {}") is Shape.SHARED
    with pytest.raises(EvaluationError) as caught:
        evaluate("javascript", "while (true) {}", {})
    assert "was stopped" in caught.value.message
    assert evaluate("javascript", "$.a + 1", {"a": 1}) == 2


def test_a_compiled_expression_reads_each_call_s_inputs() -> None:
    source = "$.n * 2 /* compiled once */"
    assert [evaluate("javascript", source, {"n": n}) for n in range(4)] == [0, 2, 4, 6]


def test_the_server_does_not_start_without_quickjs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_import = importlib.import_module

    def without_quickjs(name: str, package: str | None = None) -> ModuleType:
        if name == "podium.scripting":
            raise ModuleNotFoundError("No module named 'quickjs'", name="quickjs")
        return real_import(name, package)

    monkeypatch.setattr(evaluators.importlib, "import_module", without_quickjs)
    evaluators.load_engine.cache_clear()
    try:
        with pytest.raises(ScriptEngineUnavailableError) as caught:
            create_app(Settings(database=str(tmp_path / "podium.db")))
        assert "install the 'quickjs' package" in caught.value.message
        assert "No module named 'quickjs'" in caught.value.message
        with pytest.raises(ScriptEngineUnavailableError):
            evaluate("javascript", "1", {})
    finally:
        evaluators.load_engine.cache_clear()
