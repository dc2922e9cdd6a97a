"""Schedule ticks missed while nothing ticked, and dropped by the catch-up policy, tell the
channels of the schedule's workflow (on both stores, on the schedules tests' moved clock)."""

from __future__ import annotations

from tests.behaviour.test_schedules import MINUTE, QUICK, T0, env, save, tick_at

__all__ = ["env"]

WATCHED = {
    **QUICK,
    "name": "watched",
    # No pump runs here (the app has no lifespan): the rows are read back, not sent.
    "notifications": [{"kind": "webhook", "url": "http://127.0.0.1:9/hook"}],
}


async def test_missed_ticks_tell_the_workflows_channels_once(env):
    answer = await env.api.post("/api/metadata/workflow", json=WATCHED)
    assert answer.status_code == 200, answer.text
    await save(env, "w", "watched", cronExpression="0 */5 * * * ?", catchupPolicy="NONE")
    await save(env, "quiet", "quick", cronExpression="0 */5 * * * ?", catchupPolicy="NONE")
    await tick_at(env, T0 + 25 * MINUTE + 90_000)
    rows = (await env.api.get("/api/notifications/deliveries")).json()
    assert [(r["event"], r["state"]) for r in rows] == [("schedule.tick_missed", "PENDING")]
    message = rows[0]["message"]
    assert message["schedule"]["name"] == "w" and message["schedule"]["missed"] == 5
    assert "schedule w: 5 tick(s) of watched missed" in message["summary"]
    await tick_at(env, T0 + 30 * MINUTE)  # on time again: nothing more to say
    assert len((await env.api.get("/api/notifications/deliveries")).json()) == 1
