"""Conductor's script semantics for SWITCH and DO_WHILE expressions, as QuickJS gives them.

Each case runs through ``podium.dsl.evaluators.evaluate`` as a SWITCH's ``javascript``
evaluator does; ``$`` is the task's input. Every case runs twice: the second time the script's
interpreter and compiled code may be kept from the first, and the answer must not change.
"""

from __future__ import annotations

from typing import Any

import pytest

from podium.dsl.evaluators import EvaluationError, evaluate

INPUTS: dict[str, Any] = {
    "order": {"total": 150, "currency": "EUR", "lines": 2, "vip": False},
    "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 0}],
    "type": "Express",
    "name": "  Ada Lovelace  ",
    "tags": ["fragile", "gift"],
    "zero": 0,
    "one": 1,
    "text_one": "1",
    "empty": "",
    "nothing": None,
    "ratio": 0.5,
    "nested": {"a": {"b": {"c": "deep"}}},
    "dash-key": "dashed",
}


def run(source: str, inputs: dict[str, Any] | None = None) -> Any:
    first = evaluate("javascript", source, INPUTS if inputs is None else inputs)
    again = evaluate("javascript", source, INPUTS if inputs is None else inputs)
    assert again == first
    return first


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("42", 42),
        ("3.5", 3.5),
        ("1.0", 1),
        (".5", 0.5),
        ("1e3", 1000),
        ("2.5e-1", 0.25),
        ("0x1F", 31),
        ("0b101", 5),
        ("0o17", 15),
        ("'single'", "single"),
        ('"double"', "double"),
        (r"'it\'s'", "it's"),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'a\nb\tc\\d'", "a\nb\tc\\d"),
        (r"'\u0041\x42\u{1F600}'", "AB\U0001f600"),
        (r"'\q'", "q"),
        ("''", ""),
        ("true", True),
        ("false", False),
        ("null", None),
        ("undefined", None),
        ("[1, 'two', null, [3]]", [1, "two", None, [3]]),
        ("[]", []),
        ("[1, 2,]", [1, 2]),
        ("[undefined]", [None]),
        ("({a: 1, 'b': 2, \"c\": [3], 4: 'four'})", {"a": 1, "b": 2, "c": [3], "4": "four"}),
        ("({})", {}),
        ("({a: 1, a: 2})", {"a": 2}),
        ("({a: undefined, b: null})", {"b": None}),
        ("({if: 1, default: 2})", {"if": 1, "default": 2}),
        ("({nested: {x: $.one}})", {"nested": {"x": 1}}),
        ("{a: 1}", 1),  # at the start of a script, a brace opens a block, not an object
    ],
)
def test_literals(source: str, expected: Any) -> None:
    result = run(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("$.order.total", 150),
        ("$['order']['currency']", "EUR"),
        ('$["order"].lines', 2),
        ("$.items[0].sku", "A-1"),
        ("$.items[1]['qty']", 0),
        ("$.items[$.one].sku", "B-2"),
        ("$.items['1'].sku", "B-2"),
        ("$.items[1.0].sku", "B-2"),
        ("$.items.length", 2),
        ("$.items[2]", None),
        ("$.items[-1]", None),
        ("$.items[0.5]", None),
        ("$.items['01']", None),
        ("$.type.length", 7),
        ("$.type[0]", "E"),
        ("$.type[100]", None),
        ("'abc'.length", 3),
        ("[1, 2, 3].length", 3),
        ("$.nested.a.b.c", "deep"),
        ("$['dash-key']", "dashed"),
        ("$.missing", None),
        ("$.order.missing", None),
        ("$.order.length", None),  # a dict's length is a missing key
        ("({length: 5}).length", 5),
        ("$.order['__class__']", None),
        ("$.tags.__len__", None),
        ("$", INPUTS),
    ],
)
def test_member_and_index_access(source: str, expected: Any) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Precedence: * / % over + -, over comparisons, over equality, over && over || and ??.
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),  # left-associative
        ("100 / 10 / 5", 2),
        ("2 * 3 % 4", 2),
        ("1 + 2 < 4", True),
        ("1 < 2 == true", True),
        ("1 == 1 && 2 == 3", False),
        ("true || false && false", True),
        ("(true || false) && false", False),
        ("!true || true", True),
        ("!(true || true)", False),
        ("-2 * 3", -6),
        ("- -2", 2),
        ("-$.order.total + 50", -100),
        ("1 - -1", 2),
        ("typeof 1 + 'x'", "numberx"),
        ("1 > 0 ? 'pos' : 'neg'", "pos"),
        ("0 ? 'a' : 1 ? 'b' : 'c'", "b"),  # right-associative
        ("1 ? 0 ? 'x' : 'y' : 'z'", "y"),
        ("false || null ? 'a' : 'b'", "b"),
        ("1 + 1 === 2 ? 'two' : 'other'", "two"),
        ("$.order.total > 100 && $.order.currency == 'EUR' ? 'big-eur' : 'other'", "big-eur"),
        ("null ?? 'x' ? 'yes' : 'no'", "yes"),
    ],
)
def test_precedence_and_associativity(source: str, expected: Any) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("7 * 6", 42),
        ("7 / 2", 3.5),
        ("6 / 3", 2),
        ("7 % 3", 1),
        ("-7 % 3", -1),  # the dividend's sign, as in JavaScript
        ("7 % -3", 1),
        ("5.5 % 2", 1.5),
        ("2 + 3", 5),
        ("0.1 + 0.2", 0.30000000000000004),
        ("5 - 8", -3),
        ("'6' * '7'", 42),
        ("'10' - 3", 7),
        ("'10' / '4'", 2.5),
        ("true + 1", 2),
        ("null + 1", 1),
        ("[] * 2", 0),
        ("[5] * 2", 10),
        ("'a' + 'b'", "ab"),
        ("'a' + 1", "a1"),
        ("1 + 'a'", "1a"),
        ("1 + 2 + 'a'", "3a"),
        ("'a' + 1 + 2", "a12"),
        ("'n=' + 3.0", "n=3"),
        ("'n=' + 2.50", "n=2.5"),
        ("'v=' + null", "v=null"),
        ("'v=' + undefined", "v=undefined"),
        ("'v=' + true", "v=true"),
        ("'v=' + [1, [2, 3], null]", "v=1,2,3,"),
        ("'v=' + {}", "v=[object Object]"),
        ("[] + []", ""),
        ("[1] + [2]", "12"),
        ("'big ' + 1e21", "big 1e+21"),
        ("'small ' + 1e-7", "small 1e-7"),
        ("'small ' + 0.000001", "small 0.000001"),
        ("'x' + 1/3", "x0.3333333333333333"),
        ("'x' + 1/0", "xInfinity"),
        ("'x' + -1/0", "x-Infinity"),
        ("'x' + 0/0", "xNaN"),
        ("'x' + $.order.total", "x150"),
        ("+'3'", 3),
        ("+''", 0),
        ("+' 12 '", 12),
        ("+true", 1),
        ("+null", 0),
        ("-'4'", -4),
        ("!0", True),
        ("!''", True),
        ("!'0'", False),
        ("![]", False),
        ("!{}", False),
        ("!null", True),
        ("!undefined", True),
        ("!$.missing", True),
        ("!!$.order", True),
    ],
)
def test_arithmetic_concatenation_and_unary(source: str, expected: Any) -> None:
    result = run(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("source", ["1 / 0", "-1 / 0", "0 / 0", "5 % 0", "+'abc'", "1e400"])
def test_a_result_json_cannot_carry_fails_the_task(source: str) -> None:
    # Conductor hands a script's value on as JSON, which has no Infinity or NaN.
    with pytest.raises(EvaluationError) as caught:
        evaluate("javascript", source, INPUTS)
    assert "which JSON cannot represent" in caught.value.message


def test_fractions_stay_floats_and_integral_numbers_come_back_as_ints() -> None:
    assert run("$.ratio * 3") == 1.5
    assert type(run("$.ratio * 4")) is int


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 < 2", True),
        ("2 < 1", False),
        ("2 <= 2", True),
        ("3 > 2", True),
        ("2 >= 3", False),
        ("'b' > 'a'", True),
        ("'2' > '10'", True),  # two strings compare as text
        ("2 > '10'", False),  # a number and a string compare as numbers
        ("'abc' < 1", False),  # NaN compares false
        ("'abc' >= 1", False),
        ("null < 1", True),
        ("$.order.total >= 150", True),
    ],
)
def test_relational(source: str, expected: bool) -> None:
    assert run(source) is expected


@pytest.mark.parametrize(
    ("left", "right", "loose", "strict"),
    [
        ("1", "1", True, True),
        ("1", "1.0", True, True),
        ("'1'", "1", True, False),
        ("1", "'1'", True, False),
        ("''", "0", True, False),
        ("'0'", "false", True, False),
        ("true", "1", True, False),
        ("false", "0", True, False),
        ("null", "undefined", True, False),
        ("null", "null", True, True),
        ("undefined", "$.missing", True, True),
        ("null", "0", False, False),
        ("null", "false", False, False),
        ("undefined", "''", False, False),
        ("'a'", "'a'", True, True),
        ("'a'", "'b'", False, False),
        ("[1]", "1", True, False),
        ("[1, 2]", "'1,2'", True, False),
        ("[]", "[]", False, False),  # two different arrays
        ("$.tags", "$.tags", True, True),  # the same array
        ("({})", "'[object Object]'", True, False),
        ("0/0", "0/0", False, False),  # NaN equals nothing
        ("$.text_one", "$.one", True, False),
        ("$.nothing", "null", True, True),
    ],
)
def test_loose_and_strict_equality(left: str, right: str, loose: bool, strict: bool) -> None:
    assert run(f"{left} == {right}") is loose
    assert run(f"{left} != {right}") is (not loose)
    assert run(f"{left} === {right}") is strict
    assert run(f"{left} !== {right}") is (not strict)
    # Equality is symmetric.
    assert run(f"{right} == {left}") is loose
    assert run(f"{right} === {left}") is strict


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 && 'yes'", "yes"),
        ("0 && 'yes'", 0),
        ("'' && 'yes'", ""),
        ("null && 'yes'", None),
        ("'a' || 'b'", "a"),
        ("0 || 'b'", "b"),
        ("0 || ''", ""),
        ("[] || 'b'", []),
        ("({}) && 'obj'", "obj"),
        ("null ?? 'd'", "d"),
        ("$.missing ?? 'd'", "d"),
        ("0 ?? 'd'", 0),
        ("'' ?? 'd'", ""),
        ("false ?? 'd'", False),
        ("(null || 0) ?? 'd'", 0),
        ("null ?? (0 || 'e')", "e"),
        ("$.order.vip || $.order.currency", "EUR"),
    ],
)
def test_logical_operators_return_operands(source: str, expected: Any) -> None:
    result = run(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "source",
    [
        "false && $.nothing.boom",
        "true || $.nothing.boom",
        "1 ?? $.nothing.boom",
        "true ? 'ok' : $.nothing.boom",
        "false ? $.nothing.boom : 'ok'",
        "$.nothing && $.nothing.boom",
        "false && undefined_name",
    ],
)
def test_short_circuit_skips_the_other_side(source: str) -> None:
    result = run(source)
    assert result in ("ok", False, True, 1, None)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # JavaScript truthiness: 0, '', null, undefined and NaN are false; [] and {} are true.
        ("0 ? 't' : 'f'", "f"),
        ("-0 ? 't' : 'f'", "f"),
        ("0.0 ? 't' : 'f'", "f"),
        ("'' ? 't' : 'f'", "f"),
        ("null ? 't' : 'f'", "f"),
        ("undefined ? 't' : 'f'", "f"),
        ("(0/0) ? 't' : 'f'", "f"),
        ("'0' ? 't' : 'f'", "t"),
        ("' ' ? 't' : 'f'", "t"),
        ("[] ? 't' : 'f'", "t"),
        ("({}) ? 't' : 'f'", "t"),
        ("0.1 ? 't' : 'f'", "t"),
        ("-1 ? 't' : 'f'", "t"),
        ("$.ratio ? 't' : 'f'", "t"),
        ("$.zero ? 't' : 'f'", "f"),
        ("$.empty ? 't' : 'f'", "f"),
    ],
)
def test_truthiness(source: str, expected: str) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("typeof 1", "number"),
        ("typeof 1.5", "number"),
        ("typeof 'x'", "string"),
        ("typeof true", "boolean"),
        ("typeof null", "object"),
        ("typeof undefined", "undefined"),
        ("typeof []", "object"),
        ("typeof {}", "object"),
        ("typeof $", "object"),
        ("typeof $.missing", "undefined"),
        ("typeof not_bound", "undefined"),
        ("typeof typeof 1", "string"),
    ],
)
def test_typeof(source: str, expected: str) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("$.type.toUpperCase()", "EXPRESS"),
        ("$.type.toLowerCase()", "express"),
        ("$.name.trim()", "Ada Lovelace"),
        ("$.name.trim().toLowerCase()", "ada lovelace"),
        ("$.type.includes('press')", True),
        ("$.type.includes('z')", False),
        ("$.type.indexOf('p')", 2),
        ("$.type.indexOf('z')", -1),
        ("$.type.startsWith('Ex')", True),
        ("$.type.startsWith('ex')", False),
        ("$.type.endsWith('ss')", True),
        ("$.tags.includes('gift')", True),
        ("$.tags.includes('GIFT')", False),
        ("$.tags.indexOf('gift')", 1),
        ("$.tags.indexOf('nope')", -1),
        ("[1, 2, 3].includes(2)", True),
        ("[1, 2, 3].includes('2')", False),  # strict, unlike ==
        ("[0/0].includes(0/0)", True),  # SameValueZero
        ("[0/0].indexOf(0/0)", -1),  # strict equality
        ("'a1'.includes(1)", True),
        ("'abc'.includes()", False),
        ("'undefined'.includes()", True),
        ("['a', 'b'].indexOf('b') >= 0 ? 'found' : 'missing'", "found"),
        ("'  x  '.trim().length", 1),
        ("$['type'].toUpperCase() == 'EXPRESS'", True),
    ],
)
def test_methods(source: str, expected: Any) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("$.type;", "Express"),
        ("(function(){ return $.type; })()", "Express"),
        ("(function () { return $.order.total > 100 ? 'big' : 'small'; })();", "big"),
        ("(function(){ return $.type })()", "Express"),
        ("(function(){ return $.type; }())", "Express"),
        ("function e() { return $.type == 'Express' ? 'fast' : 'slow'; } e();", "fast"),
        ("function pick() { return $.one + 1 } pick()", 2),
        ("function e() { return 1; }; e();", 1),
        ("\n  // Conductor scripts often carry comments\n  $.one /* inline */ + 1\n", 2),
    ],
)
def test_statement_wrappers_and_comments(source: str, expected: Any) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "inputs", "text"),
    [
        ("$.nothing.x", INPUTS, "cannot read property 'x' of null"),
        ("$.missing.x", INPUTS, "cannot read property 'x' of undefined"),
        ("$.missing[0]", INPUTS, "cannot read property '0' of undefined"),
        ("null.x", INPUTS, "cannot read property 'x' of null"),
        ("$.nothing.trim()", INPUTS, "cannot read property 'trim' of null"),
        ("nope", INPUTS, "'nope' is not defined"),
        ("$.order.total.toUpperCase()", INPUTS, "not a function"),
        ("$.missing.x", {}, "cannot read property 'x' of undefined"),
    ],
)
def test_runtime_errors_fail_the_task_with_the_engine_s_message(
    source: str, inputs: dict[str, Any], text: str
) -> None:
    messages = []
    for _ in range(2):  # the kept interpreter reports it as a fresh one would
        with pytest.raises(EvaluationError) as caught:
            evaluate("javascript", source, inputs)
        messages.append(caught.value.message)
    assert text in messages[0]
    assert messages[0] == messages[1]


def test_undefined_is_not_null_inside_expressions() -> None:
    assert run("$.missing === undefined") is True
    assert run("$.missing === null") is False
    assert run("$.nothing === null") is True
    assert run("$.nothing === undefined") is False
    assert run("$.missing") is None


def test_bindings_are_not_mutated() -> None:
    inputs = {"a": [1, 2], "b": {"c": 1}}
    snapshot = repr(inputs)
    assert run("$.a.includes(1) && $.b.c == 1 ? {x: $.a} : [$.b]", inputs) == {"x": [1, 2]}
    assert repr(inputs) == snapshot


def test_conductor_style_switch_expression() -> None:
    source = """
        (function () {
            // route by country and amount
            return $.country == 'NL' && $.amount >= 1000 ? 'manual_review'
                 : $.country == 'NL' ? 'nl_fast'
                 : ['DE', 'FR'].includes($.country) ? 'eu'
                 : 'default';
        })();
    """
    cases = [
        ({"country": "NL", "amount": 5000}, "manual_review"),
        ({"country": "NL", "amount": 10}, "nl_fast"),
        ({"country": "FR", "amount": 10}, "eu"),
        ({"country": "US", "amount": 10}, "default"),
    ]
    assert [run(source, inputs) for inputs, _ in cases] == [e for _, e in cases]
