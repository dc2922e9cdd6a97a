"""Payload validation, one JSON Schema keyword family at a time: what passes, what fails, and
the path each failure names."""

from __future__ import annotations

import pytest

from podium.contracts.validator import compile_schema, json_path, violations


def _check(schema, instance):
    return violations(compile_schema(schema), instance)


CASES = [
    # (family, schema, valid instance, invalid instance, path of the offending field, keyword)
    ("type", {"type": "object", "properties": {"n": {"type": "integer"}}}, {"n": 3}, {"n": 3.5}, "$.n", "type"),
    ("type union", {"properties": {"n": {"type": ["string", "null"]}}}, {"n": None}, {"n": 1}, "$.n", "type"),
    ("enum", {"properties": {"c": {"enum": ["EUR", "USD"]}}}, {"c": "EUR"}, {"c": "GBP"}, "$.c", "enum"),
    ("const", {"properties": {"v": {"const": 2}}}, {"v": 2}, {"v": 3}, "$.v", "const"),
    ("minimum", {"properties": {"a": {"minimum": 0}}}, {"a": 0}, {"a": -1}, "$.a", "minimum"),
    ("exclusiveMaximum", {"properties": {"a": {"exclusiveMaximum": 10}}}, {"a": 9.9}, {"a": 10}, "$.a", "exclusiveMaximum"),
    ("multipleOf", {"properties": {"a": {"multipleOf": 5}}}, {"a": 15}, {"a": 16}, "$.a", "multipleOf"),
    ("minLength", {"properties": {"s": {"minLength": 2}}}, {"s": "ab"}, {"s": "a"}, "$.s", "minLength"),
    ("maxLength", {"properties": {"s": {"maxLength": 2}}}, {"s": "ab"}, {"s": "abc"}, "$.s", "maxLength"),
    ("pattern", {"properties": {"sku": {"pattern": "^[A-Z]{3}-\\d+$"}}}, {"sku": "ABC-1"}, {"sku": "abc"}, "$.sku", "pattern"),
    ("format email", {"properties": {"e": {"format": "email"}}}, {"e": "a@b.example"}, {"e": "nope"}, "$.e", "format"),
    ("format uuid", {"properties": {"id": {"format": "uuid"}}}, {"id": "6f2b1e0c-4a47-4c55-9d3e-2f6a0c1d9b01"}, {"id": "x-1"}, "$.id", "format"),
    ("format date", {"properties": {"d": {"format": "date"}}}, {"d": "2024-02-29"}, {"d": "2023-02-30"}, "$.d", "format"),
    ("items", {"properties": {"xs": {"items": {"type": "string"}}}}, {"xs": ["a"]}, {"xs": ["a", 2]}, "$.xs[1]", "type"),
    ("prefixItems", {"properties": {"p": {"prefixItems": [{"type": "number"}, {"type": "string"}]}}}, {"p": [1, "x"]}, {"p": ["x", 1]}, "$.p[0]", "type"),
    ("minItems", {"properties": {"xs": {"minItems": 1}}}, {"xs": [1]}, {"xs": []}, "$.xs", "minItems"),
    ("uniqueItems", {"properties": {"xs": {"uniqueItems": True}}}, {"xs": [1, 2]}, {"xs": [1, 1]}, "$.xs", "uniqueItems"),
    ("contains", {"properties": {"xs": {"contains": {"const": "x"}}}}, {"xs": ["x"]}, {"xs": ["y"]}, "$.xs", "contains"),
    ("required", {"type": "object", "required": ["amount"]}, {"amount": 1}, {}, "$.amount", "required"),
    ("nested required", {"properties": {"order": {"required": ["id"]}}}, {"order": {"id": 1}}, {"order": {}}, "$.order.id", "required"),
    ("additionalProperties", {"properties": {"a": {}}, "additionalProperties": False}, {"a": 1}, {"a": 1, "b": 2}, "$.b", "additionalProperties"),
    ("patternProperties", {"patternProperties": {"^n_": {"type": "number"}}}, {"n_x": 1}, {"n_x": "1"}, "$.n_x", "type"),
    ("propertyNames", {"propertyNames": {"maxLength": 3}}, {"abc": 1}, {"abcd": 1}, "$.abcd", "propertyNames"),
    ("minProperties", {"minProperties": 1}, {"a": 1}, {}, "$", "minProperties"),
    ("dependentRequired", {"dependentRequired": {"card": ["cvv"]}}, {"card": 1, "cvv": 2}, {"card": 1}, "$", "dependentRequired"),
    ("allOf", {"allOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 1, "b": 2}, {"a": 1}, "$.b", "required"),
    ("anyOf", {"properties": {"v": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}, {"v": 1}, {"v": 1.5}, "$.v", "anyOf"),
    ("oneOf", {"properties": {"v": {"oneOf": [{"type": "number"}, {"type": "integer"}]}}}, {"v": 1.5}, {"v": 1}, "$.v", "oneOf"),
    ("not", {"properties": {"v": {"not": {"type": "null"}}}}, {"v": 0}, {"v": None}, "$.v", "not"),
    ("if/then", {"if": {"properties": {"method": {"const": "card"}}}, "then": {"required": ["card"]}}, {"method": "cash"}, {"method": "card"}, "$.card", "required"),
    ("$ref", {"$defs": {"money": {"type": "number", "minimum": 0}}, "properties": {"total": {"$ref": "#/$defs/money"}}}, {"total": 1}, {"total": -1}, "$.total", "minimum"),
    ("unevaluatedProperties", {"allOf": [{"properties": {"a": {}}}], "unevaluatedProperties": False}, {"a": 1}, {"a": 1, "zz": 2}, "$.zz", "unevaluatedProperties"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("schema", "valid", "invalid", "path", "keyword"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_keyword_family_passes_valid_and_names_the_invalid_field(
    schema, valid, invalid, path, keyword
):
    assert _check(schema, valid) == []
    found = _check(schema, invalid)
    assert found, "the invalid instance passed"
    assert (found[0].path, found[0].keyword) == (path, keyword)


def test_every_violation_is_reported_in_path_order():
    schema = {
        "type": "object",
        "required": ["id", "amount"],
        "properties": {"amount": {"type": "number"}, "items": {"items": {"type": "string"}}},
    }
    found = _check(schema, {"amount": "ten", "items": ["a", 1, 2]})
    assert [(v.path, v.keyword) for v in found] == [
        ("$.amount", "type"),
        ("$.id", "required"),
        ("$.items[1]", "type"),
        ("$.items[2]", "type"),
    ]


def test_long_values_are_cut_in_messages():
    found = _check({"properties": {"s": {"maxLength": 1}}}, {"s": "x" * 1000})
    assert len(found[0].message) <= 160 and found[0].message.endswith("...")


def test_json_paths_quote_names_that_are_not_identifiers():
    assert json_path(["order", "line items", 0, "sku"]) == '$.order["line items"][0].sku'
