"""An outage is declared once, refuses meanwhile, and ends when the probe reaches a primary."""

from __future__ import annotations

import threading

from podium.store.postgres_outage import Outage


def test_an_outage_is_declared_once_and_ends_when_the_probe_succeeds():
    attempts: list[int] = []
    back = threading.Event()

    def reconnect() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise OSError("connection refused")
        back.set()

    outage = Outage(reconnect, interval_s=0.01)
    assert not outage.down and outage.describe() == "the database is reachable"
    outage.began(OSError("server closed the connection"))
    outage.began(OSError("a second unit's failure joins the first"))
    assert outage.down or back.is_set()
    assert back.wait(5), "the probe never succeeded"
    outage.stop()
    assert not outage.down
    assert len(attempts) == 3  # one probe, not one per failure


def test_while_down_it_says_for_how_long_and_why():
    release = threading.Event()

    def reconnect() -> None:
        if not release.is_set():
            raise OSError("still down")

    outage = Outage(reconnect, interval_s=0.01)
    outage.began(OSError("consuming input failed"))
    try:
        assert outage.down
        assert "no primary reachable for" in outage.describe()
        assert "OSError: consuming input failed" in outage.describe()
    finally:
        outage.stop()
