"""Conductor parameter expressions: ${...} resolution, references() and reference_root()."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from podium.dsl.expressions import ExpressionError, reference_root, references, resolve
from podium.errors import ValidationError

CONTEXT: dict[str, Any] = {
    "workflow": {
        "input": {
            "order": {"id": 7, "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}]},
            "id": "o-1",
            "flag": True,
            "off": False,
            "nothing": None,
            "count": 3,
            "ratio": 1.5,
            "tags": ["a", "b"],
            "empty": "",
            "text": "hello",
            "template": "${workflow.input.id}",
            "dotted.key": "dotted",
        },
        "output": {},
        "variables": {"attempt": 2},
        "workflowId": "wf-123",
        "correlationId": "corr-9",
        "workflowType": "checkout",
        "version": 1,
    },
    "charge-card": {
        "input": {"amount": 10},
        "output": {"receipt": {"id": "r-1"}, "items": [[1, 2], [3]], "name": "Bob"},
        "status": "COMPLETED",
        "taskId": "t-1",
    },
    "ship_ref": {"output": None, "status": "SCHEDULED"},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Whole-string references keep the value's type.
        ("${workflow.input.order}", CONTEXT["workflow"]["input"]["order"]),
        ("${workflow.input.tags}", ["a", "b"]),
        ("${workflow.input.count}", 3),
        ("${workflow.input.ratio}", 1.5),
        ("${workflow.input.flag}", True),
        ("${workflow.input.off}", False),
        ("${workflow.input.nothing}", None),
        ("${workflow.input.empty}", ""),
        ("${workflow.version}", 1),
        ("${workflow.workflowId}", "wf-123"),
        ("${workflow.variables.attempt}", 2),
        ("${charge-card.status}", "COMPLETED"),
        ("${charge-card.output}", CONTEXT["charge-card"]["output"]),
        ("${workflow.input}", CONTEXT["workflow"]["input"]),
        # Whitespace inside the braces is ignored.
        ("${ workflow.input.id }", "o-1"),
    ],
)
def test_single_reference_keeps_type(template: str, expected: Any) -> None:
    result = resolve(template, CONTEXT)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${workflow.input.order.items[0].sku}", "A-1"),
        ("${workflow.input.order.items[1].qty}", 1),
        ("${charge-card.output.items[0][1]}", 2),
        ("${charge-card.output.items[1]}", [3]),
        ("${charge-card.output.receipt.id}", "r-1"),
        ("${workflow.input['dotted.key']}", "dotted"),
        ('${workflow.input["order"].id}', 7),
    ],
)
def test_paths_follow_keys_and_indexes(template: str, expected: Any) -> None:
    assert resolve(template, CONTEXT) == expected


@pytest.mark.parametrize(
    "template",
    [
        "${workflow.input.missing}",
        "${workflow.input.missing.deeper.still}",
        "${workflow.input.order.items[9]}",
        "${workflow.input.order.items[9].sku}",
        "${workflow.input.nothing.x}",
        "${workflow.input.count.x}",  # a key of a number
        "${workflow.input.text[0]}",  # an index into a string
        "${workflow.input.order[0]}",  # an index into a dict
        "${workflow.input.tags.first}",  # a key of a list
        "${ship_ref.output.tracking}",  # output not there yet
        "${unknown_task.output.x}",
    ],
)
def test_missing_paths_give_none(template: str) -> None:
    assert resolve(template, CONTEXT) is None


@pytest.mark.parametrize(
    "template",
    ["${HOME}", "${PATH}", "${USER}", "${env.HOME}", "${os.environ}", "${__class__}"],
)
def test_environment_and_unknown_roots_are_not_exposed(
    template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", "/secret/home")
    monkeypatch.setenv("USER", "secret-user")
    assert resolve(template, CONTEXT) is None
    assert "secret" not in str(resolve(f"x {template} y", CONTEXT))


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("order ${workflow.input.id} for ${charge-card.output.name}", "order o-1 for Bob"),
        ("n=${workflow.input.count}", "n=3"),
        ("r=${workflow.input.ratio}", "r=1.5"),
        ("flag=${workflow.input.flag}/${workflow.input.off}", "flag=true/false"),
        ("none=${workflow.input.nothing}", "none=null"),
        ("missing=${workflow.input.missing}", "missing=null"),
        ("env=${HOME}", "env=null"),
        ("tags=${workflow.input.tags}", 'tags=["a","b"]'),
        ("r=${charge-card.output.receipt}", 'r={"id":"r-1"}'),
        ("${workflow.input.id}${workflow.input.count}", "o-13"),
        ("${workflow.input.id} ", "o-1 "),
        (" ${workflow.input.count}", " 3"),
        ("empty=[${workflow.input.empty}]", "empty=[]"),
        ("unicode ${workflow.input.text} é", "unicode hello é"),
    ],
)
def test_interpolation(template: str, expected: str) -> None:
    assert resolve(template, CONTEXT) == expected


def test_interpolation_writes_non_ascii_json_as_is() -> None:
    context = {"workflow": {"input": {"d": {"name": "Zoë"}}}}
    assert resolve("d=${workflow.input.d}", context) == 'd={"name":"Zoë"}'


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$${workflow.input.id}", "${workflow.input.id}"),
        ("cost: $${x} and ${workflow.input.id}", "cost: ${x} and o-1"),
        ("price $5", "price $5"),
        ("$", "$"),
        ("$$", "$$"),
        ("${unterminated", "${unterminated"),
        ("${workflow.input.id} ${open", "o-1 ${open"),
        ("no references at all", "no references at all"),
        ("", ""),
    ],
)
def test_escapes_and_literal_dollars(template: str, expected: str) -> None:
    assert resolve(template, CONTEXT) == expected


def test_resolved_values_are_not_resolved_again() -> None:
    # The value holds "${...}" text; resolving it again would let data inject references.
    assert resolve("${workflow.input.template}", CONTEXT) == "${workflow.input.id}"
    assert resolve("t=${workflow.input.template}", CONTEXT) == "t=${workflow.input.id}"


@pytest.mark.parametrize("value", [0, 1, -2.5, True, False, None, b"bytes"])
def test_non_string_scalars_pass_through(value: Any) -> None:
    assert resolve(value, CONTEXT) is value


def test_nested_containers_are_resolved_and_rebuilt() -> None:
    template: dict[str, Any] = {
        "orderId": "${workflow.input.order.id}",
        "lines": [
            {"sku": "${workflow.input.order.items[0].sku}", "qty": 2},
            "${charge-card.output.receipt}",
            ["${workflow.input.count}", "n=${workflow.input.count}"],
        ],
        "static": {"keep": True, "n": None},
        "${workflow.input.id}": "keys are not resolved",
        "tuple": ("${workflow.input.id}", 1),
    }
    original = copy.deepcopy(template)

    result = resolve(template, CONTEXT)

    assert result == {
        "orderId": 7,
        "lines": [{"sku": "A-1", "qty": 2}, {"id": "r-1"}, [3, "n=3"]],
        "static": {"keep": True, "n": None},
        "${workflow.input.id}": "keys are not resolved",
        "tuple": ["o-1", 1],
    }
    assert template == original, "the template must not be changed"
    assert result is not template
    assert result["static"] is not template["static"]
    assert result["lines"] is not template["lines"]


def test_resolve_accepts_any_mapping_as_context_and_template() -> None:
    from types import MappingProxyType

    context = MappingProxyType({"workflow": MappingProxyType({"input": {"a": 1}})})
    template = MappingProxyType({"x": "${workflow.input.a}"})
    assert resolve(template, context) == {"x": 1}


def test_attributes_of_objects_are_never_read() -> None:
    class Secretive:
        secret = "s3cret"

    context = {"workflow": {"input": {"obj": Secretive()}}}
    assert resolve("${workflow.input.obj.secret}", context) is None
    assert resolve("${workflow.input.obj.__class__}", context) is None


def test_repeated_templates_use_the_cache() -> None:
    from podium.dsl import expressions

    template = "cached ${workflow.input.id} ${workflow.input.count}"
    resolve(template, CONTEXT)
    before = expressions._parse_template.cache_info().hits
    for _ in range(5):
        assert resolve(template, CONTEXT) == "cached o-1 3"
    assert expressions._parse_template.cache_info().hits >= before + 5


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${workflow.input.a}", ["workflow.input.a"]),
        (
            {"a": "${workflow.input.a}", "b": ["x ${ref.output.x[0].y}"]},
            ["workflow.input.a", "ref.output.x[0].y"],
        ),
        (
            {"k": "${a.b} and ${c-d.output} and ${a.b}", "n": 1, "z": None},
            ["a.b", "c-d.output", "a.b"],
        ),
        ({"nested": {"deep": [[{"x": "${t.output.v}"}]]}}, ["t.output.v"]),
        ("$${escaped.not.a.ref} ${real.one}", ["real.one"]),
        ("${ spaced.path }", ["spaced.path"]),
        ("${HOME}", ["HOME"]),
        ({"no": "refs", "n": [1, 2, True]}, []),
        (42, []),
        (None, []),
        ("${unterminated", []),
    ],
)
def test_references(template: Any, expected: list[str]) -> None:
    assert references(template) == expected


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("${}", None),
        ("x ${a..}", None),
        ({"order": {"items": ["${a[x]}"]}}, "order.items[0]"),
        ({"a": "${a[}"}, "a"),
        ({"a": "${.a}"}, "a"),
        ({"a": "${a.}"}, "a"),
    ],
)
def test_references_rejects_malformed_paths(template: Any, field: str | None) -> None:
    with pytest.raises(ExpressionError) as caught:
        references(template)
    assert isinstance(caught.value, ValidationError)
    assert caught.value.code == "E_EXPRESSION"
    assert caught.value.service == "dsl"
    assert caught.value.status_code == 400
    assert caught.value.field == field
    assert "malformed reference" in caught.value.message


@pytest.mark.parametrize("template", ["${}", "${a..}", "${a[x]}", "x ${a[} y"])
def test_resolve_never_raises_on_malformed_paths(template: str) -> None:
    result = resolve(template, CONTEXT)
    assert result is None or result == "x null y"


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("workflow.input.a", "workflow"),
        ("workflow", "workflow"),
        ("charge-card.output.items[0]", "charge-card"),
        ("ref[0].x", "ref"),
        (" ref.output ", "ref"),
    ],
)
def test_reference_root(path: str, root: str) -> None:
    assert reference_root(path) == root


def test_references_and_reference_root_together() -> None:
    template = {"a": "${workflow.input.a}", "b": "${pay.output.id} ${ship.output.eta}"}
    assert [reference_root(path) for path in references(template)] == ["workflow", "pay", "ship"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # A path that may match many values gives the list of its matches, as Jayway's does.
        ("${workflow.input.order..sku}", ["A-1", "B-2"]),
        ("${workflow.input.order.items[*].qty}", [2, 1]),
        ("${workflow.input.order.items[?(@.qty > 1)].sku}", ["A-1"]),
        ("${workflow.input.order.items[0:1]}", [{"sku": "A-1", "qty": 2}]),
        ("${charge-card.output..id}", ["r-1"]),
        ("${charge-card..nothing}", []),
        ("${$.workflow.input.order..qty}", [2, 1]),
        # One that matches one value gives it, or None.
        ("${workflow.input.order.items[-1].sku}", "B-2"),
        ("${$.workflow.input.id}", "o-1"),
        ("${workflow.input.tags[-5]}", None),
        # Interpolated, the list is JSON text.
        ("skus ${workflow.input.order..sku}", 'skus ["A-1","B-2"]'),
    ],
)
def test_jsonpath_forms_beyond_dotted_paths(template: str, expected: Any) -> None:
    assert resolve(template, CONTEXT) == expected


def test_jsonpath_references_are_valid_references() -> None:
    template = {"a": "${x.output..id}", "b": "${x.output.items[?(@.n == 'z')]}"}
    assert references(template) == ["x.output..id", "x.output.items[?(@.n == 'z')]"]


def test_a_jsonpath_filter_that_cannot_compare_gives_no_matches() -> None:
    assert resolve("${workflow.input.order.items[?(@.sku > 1)]}", CONTEXT) == []


def test_jsonpath_reads_a_live_mapping_context() -> None:
    class Live(Mapping[str, Any]):
        def __getitem__(self, key: str) -> Any:
            return CONTEXT[key]

        def __iter__(self) -> Iterator[str]:
            return iter(CONTEXT)

        def __len__(self) -> int:
            return len(CONTEXT)

    assert resolve("${charge-card.output.items[*][0]}", Live()) == [1, 3]
    assert resolve("${$..receipt.id}", Live()) == ["r-1"]
