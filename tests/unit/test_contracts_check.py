"""The breaking-change check: a table of changes, each classified, and the CLI's exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from podium.cli import app
from podium.contracts.check import Outcome, compare
from podium.contracts.model import parse_contract

OBJ = "object"


def obj(props, required=(), **more):
    return {"type": OBJ, "properties": props, "required": list(required), **more}


S = {"type": "string"}
N = {"type": "number"}
I = {"type": "integer"}  # noqa: E741

# (id, kind, part, old schema, new schema, breaking?)
PAIRS = [
    # --- outputs: consumers rely on what is promised
    ("output: required field removed", "task", "output", obj({"id": S, "total": N}, ["id", "total"]), obj({"id": S}, ["id"]), True),
    ("output: required field renamed", "task", "output", obj({"total": N}, ["total"]), obj({"amount": N}, ["amount"]), True),
    ("output: required field made optional", "task", "output", obj({"id": S}, ["id"]), obj({"id": S}), True),
    ("output: type widened", "task", "output", obj({"id": S}, ["id"]), obj({"id": {"type": ["string", "null"]}}, ["id"]), True),
    ("output: type changed", "task", "output", obj({"n": S}), obj({"n": N}), True),
    ("output: enum value added", "task", "output", obj({"s": {"enum": ["OK", "KO"]}}), obj({"s": {"enum": ["OK", "KO", "MAYBE"]}}), True),
    ("output: bound loosened", "task", "output", obj({"n": {"type": "number", "maximum": 10}}), obj({"n": {"type": "number", "maximum": 100}}), True),
    ("output: schema removed", "task", "output", obj({"id": S}), None, True),
    ("output: new optional field", "task", "output", obj({"id": S}), obj({"id": S, "note": S}), False),
    ("output: new required field", "task", "output", obj({"id": S}, ["id"]), obj({"id": S, "at": I}, ["id", "at"]), False),
    ("output: enum value removed", "task", "output", obj({"s": {"enum": ["OK", "KO"]}}), obj({"s": {"enum": ["OK"]}}), False),
    ("output: number narrowed to integer", "task", "output", obj({"n": N}), obj({"n": I}), False),
    ("output: description edited", "task", "output", obj({"id": S}), obj({"id": {**S, "description": "the id"}}), False),
    ("output: optional field dropped", "task", "output", obj({"id": S, "note": S}, ["id"]), obj({"id": S}, ["id"]), False),
    ("output: nested required field removed", "task", "output", obj({"r": obj({"id": S, "at": I}, ["id", "at"])}), obj({"r": obj({"id": S}, ["id"])}), True),
    ("output: array item type widened", "task", "output", obj({"xs": {"type": "array", "items": I}}), obj({"xs": {"type": "array", "items": N}}), True),
    # --- inputs: callers send what was accepted
    ("input: new required field", "task", "input", obj({"a": S}, ["a"]), obj({"a": S, "b": S}, ["a", "b"]), True),
    ("input: field became required", "task", "input", obj({"a": S, "b": S}, ["a"]), obj({"a": S, "b": S}, ["a", "b"]), True),
    ("input: type narrowed", "task", "input", obj({"n": N}), obj({"n": I}), True),
    ("input: enum narrowed", "task", "input", obj({"c": {"enum": ["EUR", "USD"]}}), obj({"c": {"enum": ["EUR"]}}), True),
    ("input: minLength tightened", "task", "input", obj({"s": {"type": "string", "minLength": 1}}), obj({"s": {"type": "string", "minLength": 3}}), True),
    ("input: pattern added", "task", "input", obj({"s": S}), obj({"s": {"type": "string", "pattern": "^[0-9]+$"}}), True),
    ("input: extra fields now refused", "task", "input", obj({"a": S}), obj({"a": S}, additionalProperties=False), True),
    ("input: new optional field", "task", "input", obj({"a": S}, ["a"]), obj({"a": S, "b": S}, ["a"]), False),
    ("input: required field made optional", "task", "input", obj({"a": S, "b": S}, ["a", "b"]), obj({"a": S, "b": S}, ["a"]), False),
    ("input: type widened", "task", "input", obj({"n": I}), obj({"n": N}), False),
    ("input: enum widened", "task", "input", obj({"c": {"enum": ["EUR"]}}), obj({"c": {"enum": ["EUR", "USD"]}}), False),
    ("input: maximum loosened", "task", "input", obj({"q": {"type": "integer", "maximum": 10}}), obj({"q": {"type": "integer", "maximum": 99}}), False),
    ("input: unanalysed anyOf change", "task", "input", obj({"v": {"anyOf": [S, I]}}), obj({"v": {"anyOf": [S]}}), True),
    # --- workflows and events
    ("workflow input: new required field", "workflow", "input", obj({"order": S}, ["order"]), obj({"order": S, "tenant": S}, ["order", "tenant"]), True),
    ("workflow output: new optional field", "workflow", "output", obj({"ok": {"type": "boolean"}}), obj({"ok": {"type": "boolean"}, "why": S}), False),
    ("event payload: required field removed", "event", "payload", obj({"order_id": S, "at": I}, ["order_id", "at"]), obj({"order_id": S}, ["order_id"]), True),
    ("event payload: new optional field", "event", "payload", obj({"order_id": S}, ["order_id"]), obj({"order_id": S, "carrier": S}, ["order_id"]), False),
]  # fmt: skip


def contract(kind, part, schema, version, name="c"):
    body = {"kind": kind, "name": name, "version": version}
    if schema is not None:
        body[part] = schema
    elif part != "payload":
        body["input" if part == "output" else "output"] = {"type": "object"}
    return parse_contract(body)


@pytest.mark.parametrize(
    ("kind", "part", "old", "new", "breaking"),
    [pair[1:] for pair in PAIRS],
    ids=[pair[0] for pair in PAIRS],
)
def test_each_change_is_classified_and_gated_by_the_major_version(
    tmp_path, kind, part, old, new, breaking
):
    before = [contract(kind, part, old, "1.4.0")]
    minor = compare(before, [contract(kind, part, new, "1.5.0")])
    [diff] = minor.diffs
    assert diff.breaking is breaking, [c.change for c in diff.changes]
    assert diff.changes, "a change was not noticed"
    if breaking:
        assert diff.outcome == Outcome.BREAKING and minor.exit_code == 1
        assert any(c.change.breaking for c in diff.changes)
    else:
        assert diff.outcome == Outcome.COMPATIBLE and minor.exit_code == 0
    major = compare(before, [contract(kind, part, new, "2.0.0")])
    expected = Outcome.BREAKING_ALLOWED if breaking else Outcome.COMPATIBLE
    assert (major.diffs[0].outcome, major.exit_code) == (expected, 0)
    # The same verdicts from the command line, as a CI job sees them.
    old_file, new_file, bumped = tmp_path / "old.json", tmp_path / "new.json", tmp_path / "v2.json"
    old_file.write_text(json.dumps(before[0].to_json()))
    new_file.write_text(json.dumps(contract(kind, part, new, "1.5.0").to_json()))
    bumped.write_text(json.dumps(contract(kind, part, new, "2.0.0").to_json()))
    runner = CliRunner()
    minor_cli = runner.invoke(app, ["contracts", "check", str(old_file), str(new_file)])
    assert minor_cli.exit_code == (1 if breaking else 0), minor_cli.output
    major_cli = runner.invoke(app, ["contracts", "check", str(old_file), str(bumped)])
    assert major_cli.exit_code == 0, major_cli.output


def test_there_are_at_least_25_pairs_of_each_verdict_mixed():
    assert len(PAIRS) >= 25
    assert {pair[-1] for pair in PAIRS} == {True, False}


def test_the_required_field_removal_names_the_field_and_a_likely_rename():
    old = contract("task", "output", obj({"total": N}, ["total"]), "1.0.0")
    new = contract("task", "output", obj({"amount": N}, ["amount"]), "1.1.0")
    [diff] = compare([old], [new]).diffs
    removal = next(c.change for c in diff.changes if c.change.breaking)
    assert removal.path == "$.total"
    assert "'total' removed (renamed to 'amount'?)" in removal.message


def test_removed_and_added_contracts():
    shipped = contract("event", "payload", obj({"id": S}), "1.0.0", name="order.shipped")
    created = contract("event", "payload", obj({"id": S}), "1.0.0", name="order.created")
    report = compare([shipped], [created])
    outcomes = {diff.name: diff.outcome for diff in report.diffs}
    assert outcomes == {"order.shipped": Outcome.REMOVED, "order.created": Outcome.ADDED}
    assert report.exit_code == 1
    assert "event type 'order.shipped' removed" in report.diffs[1].changes[0].change.message


def test_content_changed_under_the_same_version_or_a_lower_one_fails():
    old = contract("task", "input", obj({"a": S}), "1.2.0")
    same = compare([old], [contract("task", "input", obj({"a": S, "b": S}), "1.2.0")])
    assert (same.diffs[0].outcome, same.exit_code) == (Outcome.NOT_VERSIONED, 1)
    down = compare([old], [contract("task", "input", obj({"a": S}), "1.1.9")])
    assert (down.diffs[0].outcome, down.exit_code) == (Outcome.VERSION_DOWN, 1)
    unchanged = compare([old], [old])
    assert (unchanged.diffs[0].outcome, unchanged.exit_code, unchanged.changed()) == (
        Outcome.UNCHANGED,
        0,
        [],
    )


def test_only_the_highest_version_on_each_side_is_compared():
    v1 = contract("task", "input", obj({"a": S}), "1.0.0")
    v2 = contract("task", "input", obj({"a": S}, ["a"]), "2.0.0")
    v21 = contract("task", "input", obj({"a": S, "b": S}, ["a"]), "2.1.0")
    [diff] = compare([v1, v2], [v1, v2, v21]).diffs
    assert (str(diff.old.version), str(diff.new.version), diff.outcome) == (
        "2.0.0",
        "2.1.0",
        Outcome.COMPATIBLE,
    )


# ---- the command line ---------------------------------------------------------------------


def _folder(tmp_path, name, contracts):
    folder = tmp_path / name
    folder.mkdir()
    for i, body in enumerate(contracts):
        (folder / f"{i}.json").write_text(json.dumps(body))
    return folder


CHARGE_V1 = {
    "kind": "task",
    "name": "charge_payment",
    "version": "1.0.0",
    "service": "payments",
    "input": obj({"amount": N}, ["amount"]),
    "output": obj({"receipt_id": S, "total": N}, ["receipt_id", "total"]),
}


@pytest.mark.parametrize(
    ("version", "output", "code", "verdict"),
    [
        ("1.1.0", obj({"receipt_id": S}, ["receipt_id"]), 1, "BREAKING"),
        ("2.0.0", obj({"receipt_id": S}, ["receipt_id"]), 0, "breaking, allowed"),
        ("1.1.0", obj({"receipt_id": S, "total": N, "fee": N}, ["receipt_id", "total"]), 0, "compatible"),
        ("1.0.0", obj({"receipt_id": S, "total": N, "fee": N}, ["receipt_id", "total"]), 1, "CHANGED WITHOUT A NEW VERSION"),
    ],
)  # fmt: skip
def test_check_exit_codes(tmp_path, version, output, code, verdict):
    old = _folder(tmp_path, "old", [CHARGE_V1])
    new = _folder(tmp_path, "new", [{**CHARGE_V1, "version": version, "output": output}])
    result = CliRunner().invoke(app, ["contracts", "check", str(old), str(new)])
    assert result.exit_code == code, result.output
    assert f"task charge_payment 1.0.0 -> {version}: {verdict}" in result.output
    assert ("FAIL: not safe to merge" in result.output) is (code == 1)


def test_check_report_lists_each_change_and_what_to_do(tmp_path):
    old = _folder(tmp_path, "old", [CHARGE_V1])
    output = obj({"receipt_id": S}, ["receipt_id"])
    new = _folder(tmp_path, "new", [{**CHARGE_V1, "version": "1.1.0", "output": output}])
    result = CliRunner().invoke(app, ["contracts", "check", str(old), str(new)])
    assert "BREAKING   output $.total: required output field 'total' removed" in result.output
    assert "publish it as 2.0.0" in result.output


def test_check_json_and_unreadable_sources(tmp_path):
    old = _folder(tmp_path, "old", [CHARGE_V1])
    new = _folder(tmp_path, "new", [])
    result = CliRunner().invoke(app, ["contracts", "check", str(old), str(new), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["fails"] is True
    assert report["contracts"][0]["outcome"] == "removed"
    missing = CliRunner().invoke(app, ["contracts", "check", str(old), str(tmp_path / "nope")])
    assert missing.exit_code == 2
    bad = _folder(tmp_path, "bad", [{**CHARGE_V1, "version": "1.0"}])
    broken = CliRunner().invoke(app, ["contracts", "check", str(old), str(bad)])
    assert broken.exit_code == 2
    assert "0.json.version: version must be a version MAJOR.MINOR.PATCH" in broken.output


def test_diff_reports_changes_but_exits_zero(tmp_path):
    old = _folder(tmp_path, "old", [CHARGE_V1])
    new_input = obj({"amount": N, "currency": S}, ["amount", "currency"])
    new = _folder(tmp_path, "new", [{**CHARGE_V1, "version": "1.1.0", "input": new_input}])
    result = CliRunner().invoke(app, ["contracts", "diff", str(old), str(new)])
    assert result.exit_code == 0, result.output
    assert "BREAKING   input $.currency: new required input field 'currency'" in result.output
