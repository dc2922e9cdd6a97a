"""StoreTx contract: task and workflow definitions, the generation, run definitions and
contracts, with the same assertions on SQLite and PostgreSQL."""

from __future__ import annotations


def test_task_defs_are_put_replaced_listed_and_deleted(db):
    assert db.get_task_def("b") is None
    db.put_task_def("b", {"name": "b", "retryCount": 1}, 10)
    db.put_task_def("a", {"name": "a"}, 11)
    db.put_task_def("b", {"name": "b", "retryCount": 2}, 12)
    assert db.get_task_def("b") == {"name": "b", "retryCount": 2}
    assert db.list_task_defs() == [{"name": "a"}, {"name": "b", "retryCount": 2}]
    assert db.delete_task_def("a") is True
    assert db.delete_task_def("a") is False
    assert db.list_task_defs() == [{"name": "b", "retryCount": 2}]


def test_workflow_defs_are_versioned(db):
    db.put_workflow_def("wf", 1, {"v": 1}, 10)
    db.put_workflow_def("wf", 3, {"v": 3}, 11)
    db.put_workflow_def("wf", 2, {"v": 2}, 12)
    db.put_workflow_def("other", 1, {"o": 1}, 13)
    assert db.get_workflow_def("wf", None) == {"v": 3}  # the latest version
    assert db.get_workflow_def("wf", 2) == {"v": 2}
    assert db.get_workflow_def("wf", 4) is None
    assert db.get_workflow_def("nope", None) is None
    db.put_workflow_def("wf", 2, {"v": "2b"}, 14)
    assert db.list_workflow_defs() == [{"o": 1}, {"v": 1}, {"v": "2b"}, {"v": 3}]
    assert db.delete_workflow_def("wf", 3) is True
    assert db.delete_workflow_def("wf", 3) is False
    assert db.get_workflow_def("wf", None) == {"v": "2b"}


def test_every_definition_and_service_change_moves_the_generation_on(db):
    seen = [db.definitions_generation()]

    def changed() -> None:
        seen.append(db.definitions_generation())
        assert seen[-1] > seen[-2]

    db.put_task_def("t", {}, 1)
    changed()
    db.put_workflow_def("w", 1, {}, 1)
    changed()
    db.delete_workflow_def("w", 1)
    changed()
    db.delete_task_def("t")
    changed()
    db.put_service("s", {}, 1)
    changed()
    db.delete_service("s")
    changed()
    db.get_task_def("t")
    assert db.definitions_generation() == seen[-1]  # reads leave it be


def test_a_unit_sees_its_own_definition_change_in_the_generation(db):
    def unit(tx):
        before = tx.definitions_generation()
        tx.put_task_def("t", {}, 1)
        return before, tx.definitions_generation()

    before, after = db.unit(unit)
    assert after == before + 1


def test_a_run_definition_keeps_its_first_body(db):
    assert db.get_run_definition("k") is None
    db.put_run_definition("k", {"tasks": [1]})
    db.put_run_definition("k", {"tasks": [2]})
    assert db.get_run_definition("k") == {"tasks": [1]}


def test_contracts_are_immutable_and_ordered_by_semver(db):
    assert db.put_contract("event", "order", (1, 9, 0), {"v": "1.9.0"}, 1) is True
    assert db.put_contract("event", "order", (1, 10, 0), {"v": "1.10.0"}, 2) is True
    assert db.put_contract("event", "order", (1, 2, 3), {"v": "1.2.3"}, 3) is True
    assert db.put_contract("event", "order", (1, 9, 0), {"v": "again"}, 4) is False
    assert db.get_contract("event", "order", "1.9.0") == {"v": "1.9.0"}
    assert db.get_contract("event", "order", None) == {"v": "1.10.0"}  # numerically latest
    assert db.get_contract("event", "order", "2.0.0") is None
    assert db.get_contract("task", "order", None) is None
    assert db.list_contract_versions("event", "order") == ["1.2.3", "1.9.0", "1.10.0"]


def test_contracts_are_listed_by_kind_and_latest(db):
    db.put_contract("event", "b", (1, 0, 0), {"id": "e-b-1"}, 1)
    db.put_contract("event", "b", (2, 0, 0), {"id": "e-b-2"}, 1)
    db.put_contract("event", "a", (0, 1, 0), {"id": "e-a-0.1"}, 1)
    db.put_contract("task", "a", (1, 0, 0), {"id": "t-a-1"}, 1)
    every = ["e-a-0.1", "e-b-1", "e-b-2", "t-a-1"]
    assert [c["id"] for c in db.list_contracts(None, latest_only=False)] == every
    assert [c["id"] for c in db.list_contracts(None, latest_only=True)] == [
        "e-a-0.1",
        "e-b-2",
        "t-a-1",
    ]
    assert [c["id"] for c in db.list_contracts("event", latest_only=False)] == every[:3]
    assert [c["id"] for c in db.list_contracts("event", latest_only=True)] == ["e-a-0.1", "e-b-2"]
    assert db.list_contracts("workflow", latest_only=True) == []
