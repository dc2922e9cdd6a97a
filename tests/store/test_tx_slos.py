"""StoreTx contract: SLO versions and the outcome rows SLOs are counted from, with the same
assertions on SQLite and PostgreSQL."""

from __future__ import annotations

from podium.store.slos_base import Good, OutcomeFilter, OutcomeRow

BODY = {"name": "s", "workflow": "w", "objective": {"success": {"target": 0.9}}}


def test_slo_versions_are_kept_and_an_unchanged_body_is_no_new_version(db):
    assert db.get_slo("s") is None
    assert db.put_slo("s", BODY, 10) == 1
    assert db.put_slo("s", BODY, 11) is None
    changed = {**BODY, "window": "7d"}
    assert db.put_slo("s", changed, 12) == 2
    assert db.put_slo("other", BODY, 13) == 1
    latest = db.get_slo("s")
    assert (latest.version, latest.body, latest.created_at) == (2, changed, 12)
    assert db.get_slo("s", 1).body == BODY
    assert db.get_slo("s", 3) is None
    assert [(r.name, r.version) for r in db.list_slos()] == [("other", 1), ("s", 2)]
    assert [r.version for r in db.list_slo_versions("s")] == [1, 2]
    assert db.delete_slo("s") is True
    assert db.delete_slo("s") is False
    assert db.list_slo_versions("s") == []


def _rows():
    return [
        OutcomeRow(100, "w", "", None, "COMPLETED", 50),
        OutcomeRow(200, "w", "", None, "FAILED", 500),
        OutcomeRow(300, "w", "", None, "COMPLETED", 900),
        OutcomeRow(300, "w", "pay", "payments", "COMPLETED", 10),
        OutcomeRow(400, "w", "pay", "payments", "FAILED", None),
        OutcomeRow(400, "v", "charge", "payments", "COMPLETED", 30),
        OutcomeRow(500, "w", "", None, "COMPLETED", 20),  # after "now" below: not counted
    ]


def test_outcomes_are_counted_per_window_by_status_or_duration(db):
    db.add_outcomes(_rows())
    runs = OutcomeFilter("w", "", None)
    done = Good(statuses=("COMPLETED",))
    # Windows (since, 450]: all of the run's rows before 450; from 150; from 250.
    assert db.count_outcomes(runs, done, 450, [0, 150, 250]) == [(3, 2), (2, 1), (1, 1)]
    fast = Good(max_duration_ms=500)
    assert db.count_outcomes(runs, fast, 450, [0, 250]) == [(3, 2), (1, 0)]
    step = OutcomeFilter("w", "pay", None)
    assert db.count_outcomes(step, done, 450, [0]) == [(2, 1)]
    # A latency count leaves out rows with no duration.
    assert db.count_outcomes(step, fast, 450, [0]) == [(1, 1)]
    service = OutcomeFilter(None, "", "payments")
    assert db.count_outcomes(service, done, 450, [0, 350]) == [(3, 2), (2, 1)]
    in_w = OutcomeFilter("w", "", "payments")
    assert db.count_outcomes(in_w, done, 450, [0]) == [(2, 1)]
    assert db.count_outcomes(OutcomeFilter("none", "", None), done, 450, [0]) == [(0, 0)]
    # Durations in order: 50, 500, 900.
    assert [db.outcome_duration_at(runs, 450, 0, rank) for rank in range(4)] == [50, 500, 900, None]


def test_old_outcomes_are_removed_in_slices(db):
    db.add_outcomes(_rows())
    # Before 400, up to the second oldest row's time each: 100 and 200, then both at 300.
    assert db.remove_outcomes(400, 1) == 2
    assert db.remove_outcomes(400, 1) == 2
    assert db.remove_outcomes(400, 1) == 0
    [(left,)] = db.query("SELECT COUNT(*) FROM slo_outcomes")
    assert left == 3
