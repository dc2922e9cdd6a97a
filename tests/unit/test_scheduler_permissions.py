"""Who may change schedules: pausing one (by PUT, or by GET as Orkes' clients send it) is an
operator's, pausing them all and saving or deleting one the admin's, reading a reader's."""

from __future__ import annotations

import pytest

from podium.auth.rules import Permission, required_permission


@pytest.mark.parametrize(
    ("method", "path", "needed"),
    [
        ("GET", "/api/scheduler/schedules", Permission.READ),
        ("GET", "/api/scheduler/schedules/nightly", Permission.READ),
        ("GET", "/api/scheduler/schedules/nightly/next", Permission.READ),
        ("GET", "/api/scheduler/search/executions", Permission.READ),
        ("GET", "/api/scheduler/nextFewSchedules", Permission.READ),
        ("GET", "/api/scheduler/schedules/nightly/pause", Permission.OPERATE),
        ("GET", "/api/scheduler/schedules/nightly/resume", Permission.OPERATE),
        ("PUT", "/api/scheduler/schedules/nightly/pause", Permission.OPERATE),
        ("PUT", "/api/scheduler/schedules/nightly/resume", Permission.OPERATE),
        ("POST", "/api/scheduler/schedules/nightly/backfill", Permission.OPERATE),
        ("GET", "/api/scheduler/admin/pause", Permission.ADMIN),
        ("PUT", "/api/scheduler/admin/resume", Permission.ADMIN),
        ("POST", "/api/scheduler/schedules", Permission.ADMIN),
        ("DELETE", "/api/scheduler/schedules/nightly", Permission.ADMIN),
    ],
)
def test_each_scheduler_route_needs_its_permission(method, path, needed):
    assert required_permission(method, path) == needed
