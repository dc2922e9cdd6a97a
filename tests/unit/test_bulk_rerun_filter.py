"""Reading a bulk rerun's filter: times back from now, statuses, and refusals naming the field."""

from __future__ import annotations

import pytest

from podium.errors import ValidationError
from podium.server.bulk_rerun import RerunFilter, read_filter

NOW = 1_796_408_471_000


def test_times_are_epoch_ms_durations_back_from_now_or_iso_times() -> None:
    flt = read_filter({"since": "2h", "until": "2026-12-04T18:00:00Z"}, NOW)
    assert flt.ended_after == NOW - 2 * 3_600_000
    assert flt.ended_before == 1_796_407_200_000
    assert read_filter({"since": 5, "until": "30 minutes"}, NOW).ended_after == 5
    assert read_filter({"until": "30 minutes"}, NOW).ended_before == NOW - 1_800_000
    assert read_filter({"since": "1796408471000"}, NOW).ended_after == NOW


def test_statuses_default_to_failed_and_read_lists_or_commas() -> None:
    assert read_filter(None, NOW) == RerunFilter()
    assert read_filter({"status": "failed, TIMED_OUT"}, NOW).statuses == ("FAILED", "TIMED_OUT")
    assert read_filter({"status": ["TERMINATED", "TERMINATED"]}, NOW).statuses == ("TERMINATED",)


def test_the_answered_filter_reads_back_as_itself() -> None:
    flt = read_filter({"service": "payment", "since": "2h", "reasonContains": "503"}, NOW)
    assert read_filter(flt.to_json(), NOW + 60_000) == flt


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], "filter"),
        ({"servce": "payment"}, "filter.servce"),
        ({"status": "COMPLETED"}, "filter.status"),
        ({"status": []}, "filter.status"),
        ({"since": True}, "filter.since"),
        ({"until": "soonish"}, "filter.until"),
        ({"workflow": ["a"]}, "filter.workflow"),
    ],
)
def test_bad_filters_name_the_field(raw: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        read_filter(raw, NOW)
    assert caught.value.field == field
