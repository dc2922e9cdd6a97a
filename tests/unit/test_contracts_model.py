"""Contract files and fields: what is accepted, and errors that name the field at fault."""

from __future__ import annotations

import json

import pytest

from podium.contracts.binding import Mode, SchemaRef, task_binding, workflow_binding
from podium.contracts.catalogue import Score, to_html, to_markdown
from podium.contracts.files import load_path, write_folder
from podium.contracts.model import parse_contract, parse_semver
from podium.contracts.schema_paths import lookup, types_of
from podium.dsl.expressions import reference_segments
from podium.dsl.models import TaskDef, WorkflowDef
from podium.errors import ValidationError

TASK = {
    "kind": "task",
    "name": "charge_payment",
    "version": "1.2.0",
    "service": "payments",
    "input": {"type": "object", "properties": {"amount": {"type": "number"}}},
}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"kind": "job"}, "kind", "kind must be one of task, workflow, event"),
        ({"name": "has space"}, "name", "name must be letters"),
        ({"version": "1.2"}, "version", "MAJOR.MINOR.PATCH"),
        ({"version": "01.2.0"}, "version", "MAJOR.MINOR.PATCH"),
        ({"service": 3}, "service", "service must be a string"),
        ({"input": []}, "input", "a schema must be a JSON object"),
        ({"input": {"minimum": "zero"}}, "input.minimum", "not a valid JSON Schema"),
        (
            {"input": {"$schema": "http://json-schema.org/draft-07/schema#"}},
            "input.$schema",
            "2020-12",
        ),
        ({"payload": {}}, "payload", "unknown field for a task contract"),
    ],
)
def test_a_bad_contract_names_the_field(change, field, words):
    with pytest.raises(ValidationError) as caught:
        parse_contract({**TASK, **change}, "tasks/charge.json")
    assert caught.value.field == f"tasks/charge.json.{field}"
    assert words in caught.value.message


def test_a_contract_round_trips_through_its_json():
    contract = parse_contract(TASK)
    assert contract.to_json() == TASK
    assert contract.label == "task contract 'charge_payment' v1.2.0"
    assert parse_semver("1.10.0") > parse_semver("1.9.3")


def test_a_folder_of_files_loads_recursively_and_refuses_duplicates(tmp_path):
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "charge.json").write_text(json.dumps(TASK))
    event = {"kind": "event", "name": "order.paid", "version": "1.0.0", "payload": {}}
    (tmp_path / "events.json").write_text(json.dumps([event]))
    (tmp_path / "README.md").write_text("not a contract")
    found = load_path(tmp_path)
    assert sorted(c.name for c in found) == ["charge_payment", "order.paid"]
    (tmp_path / "copy.json").write_text(json.dumps(TASK))
    with pytest.raises(ValidationError, match="also defined in"):
        load_path(tmp_path)
    (tmp_path / "copy.json").write_text("{nope")
    with pytest.raises(ValidationError) as caught:
        load_path(tmp_path)
    assert caught.value.field == "copy.json"


def test_write_folder_then_load_gives_the_same_contracts(tmp_path):
    contracts = [parse_contract(TASK)]
    written = write_folder(contracts, tmp_path)
    assert written == [tmp_path / "task" / "charge_payment.json"]
    assert load_path(tmp_path) == contracts


def test_bindings_read_orkes_fields_and_podium_mode():
    plain = TaskDef.model_validate({"name": "t"})
    assert task_binding(plain) is None
    enforced = TaskDef.model_validate(
        {"name": "t", "inputSchema": {"name": "a", "version": 2, "type": "JSON"}, "ownerApp": "s"}
    )
    binding = task_binding(enforced)
    assert binding is not None
    assert (binding.input, binding.output, binding.mode, binding.service) == (
        SchemaRef("a", "2"),
        None,
        Mode.ENFORCE,
        "s",
    )
    relaxed = TaskDef.model_validate(
        {"name": "t", "outputSchema": {"name": "a"}, "enforceSchema": False}
    )
    assert task_binding(relaxed).mode == Mode.WARN  # type: ignore[union-attr]
    off = TaskDef.model_validate(
        {"name": "t", "outputSchema": {"name": "a"}, "contractMode": "off"}
    )
    assert task_binding(off).mode == Mode.OFF  # type: ignore[union-attr]
    flow = WorkflowDef.model_validate(
        {
            "name": "w",
            "tasks": [{"name": "t", "taskReferenceName": "t"}],
            "inputSchema": {"name": "w"},
        }
    )
    assert workflow_binding(flow).input == SchemaRef("w")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"inputSchema": {"version": 1}}, "inputSchema.name"),
        ({"outputSchema": {"name": "a", "version": "v1"}}, "outputSchema.version"),
        ({"outputSchema": {"name": "a"}, "enforceSchema": "yes"}, "enforceSchema"),
        ({"outputSchema": {"name": "a"}, "contractMode": "strict"}, "contractMode"),
    ],
)
def test_malformed_binding_fields_are_named(fields, field):
    with pytest.raises(ValidationError) as caught:
        task_binding(TaskDef.model_validate({"name": "t", **fields}))
    assert caught.value.field == field


def test_a_schema_of_another_type_than_json_binds_nothing():
    task_def = TaskDef.model_validate({"name": "t", "inputSchema": {"name": "a", "type": "AVRO"}})
    assert task_binding(task_def) is None


def test_version_selectors_pick_the_highest_match():
    versions = ["1.0.0", "1.2.0", "1.10.1", "2.0.0"]
    assert SchemaRef("c").pick(versions) == "2.0.0"
    assert SchemaRef("c", "1").pick(versions) == "1.10.1"
    assert SchemaRef("c", "1.2").pick(versions) == "1.2.0"
    assert SchemaRef("c", "1.2.0").pick(versions) == "1.2.0"
    assert SchemaRef("c", "3").pick(versions) is None


SCHEMA = {
    "$defs": {"money": {"type": "number"}},
    "type": "object",
    "properties": {
        "total": {"$ref": "#/$defs/money"},
        "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
        "meta": {"type": "object"},
        "status": {"enum": ["OK", "KO"]},
    },
    "additionalProperties": False,
}  # fmt: skip


def test_static_lookups_follow_refs_items_and_closed_objects():
    assert types_of(lookup(SCHEMA, ["total"]).schema, SCHEMA) == {"number"}
    assert types_of(lookup(SCHEMA, list(reference_segments("lines[0].sku"))).schema, SCHEMA) == {
        "string"
    }
    assert types_of(lookup(SCHEMA, ["status"]).schema) == {"string"}
    open_field = lookup(SCHEMA, ["meta", "anything"])
    assert (open_field.schema, open_field.refused) == (None, None)
    closed = lookup(SCHEMA, ["totl"])
    assert closed.refused is not None and "declares no field 'totl'" in closed.refused
    scalar = lookup(SCHEMA, ["total", "cents"])
    assert scalar.refused is not None and "'total' is declared as number" in scalar.refused


def test_the_catalogue_groups_contracts_by_service():
    contracts = [
        parse_contract({**TASK, "description": "Charges a card."}),
        parse_contract({**TASK, "version": "1.3.0", "description": "Charges a card."}),
        parse_contract({"kind": "event", "name": "order.paid", "version": "1.0.0", "payload": {"type": "object"}}),
    ]  # fmt: skip
    task_defs = [{"name": "refund", "ownerApp": "payments", "description": "Refunds."}]
    score = Score.build(contracts, task_defs, [])
    assert [s.name for s in score.services] == ["payments", "(no service named)"]
    assert [t.name for t in score.services[0].tasks] == ["charge_payment", "refund"]
    text = to_markdown(score)
    assert "Contract `charge_payment` v1.3.0" in text
    assert "| `amount` | number |  |  |" in text
    assert "_No contract: inputs and outputs are not checked._" in text
    assert "### Event `order.paid`" in text
    page = to_html(score)
    assert page.startswith("<!doctype html>") and "<code>amount</code>" in page
