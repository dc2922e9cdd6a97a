"""The one back-off: exponential growth, the cap, reset, and the bounds of each jitter."""

from __future__ import annotations

import random
import statistics

import pytest

from podium.events.dispatcher import retry_delay_ms
from podium.resilience.backoff import Backoff, backoff_delay


def test_without_jitter_delays_double_up_to_the_cap() -> None:
    backoff = Backoff(0.1, 1.0, jitter="none")
    assert [round(backoff.next(), 6) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert backoff.attempt == 6


def test_reset_starts_over_from_the_first_delay() -> None:
    backoff = Backoff(0.1, 5.0, jitter="none")
    for _ in range(4):
        backoff.next()
    backoff.reset()
    assert backoff.attempt == 0
    assert backoff.next() == 0.1


def test_a_huge_attempt_stays_at_the_cap() -> None:
    assert backoff_delay(10_000, 0.1, 3.0, jitter="none") == 3.0


@pytest.mark.parametrize("attempt", range(8))
def test_full_jitter_lies_between_zero_and_the_exponential_delay(attempt: int) -> None:
    rng = random.Random(attempt)
    ceiling = min(2.0, 0.01 * 2**attempt)
    draws = [backoff_delay(attempt, 0.01, 2.0, jitter="full", rng=rng) for _ in range(2000)]
    assert all(0 <= d <= ceiling for d in draws)
    # Spread over the whole range, not bunched at one end.
    assert min(draws) < ceiling * 0.05 and max(draws) > ceiling * 0.95
    assert statistics.mean(draws) == pytest.approx(ceiling / 2, rel=0.1)


@pytest.mark.parametrize("attempt", range(8))
def test_equal_jitter_keeps_at_least_half_the_exponential_delay(attempt: int) -> None:
    rng = random.Random(100 + attempt)
    ceiling = min(2.0, 0.01 * 2**attempt)
    draws = [backoff_delay(attempt, 0.01, 2.0, jitter="equal", rng=rng) for _ in range(2000)]
    assert all(ceiling / 2 <= d <= ceiling for d in draws)
    assert min(draws) < ceiling * 0.55 and max(draws) > ceiling * 0.95
    assert statistics.mean(draws) == pytest.approx(ceiling * 0.75, rel=0.05)


def test_the_same_seed_gives_the_same_delays() -> None:
    first = Backoff(0.1, 10.0, rng=random.Random(7))
    again = Backoff(0.1, 10.0, rng=random.Random(7))
    assert [first.next() for _ in range(10)] == [again.next() for _ in range(10)]


def test_delays_are_spread_so_clients_that_failed_together_come_back_apart() -> None:
    rng = random.Random(3)
    clients = [Backoff(0.1, 10.0, rng=rng) for _ in range(50)]
    for client in clients:
        client.next()
    third = [client.next() for client in clients]
    assert len({round(d, 6) for d in third}) == 50


@pytest.mark.parametrize(
    ("attempt", "first", "cap"), [(-1, 0.1, 1.0), (0, -0.1, 1.0), (0, 2.0, 1.0)]
)
def test_bad_bounds_are_refused(attempt: int, first: float, cap: float) -> None:
    with pytest.raises(ValueError):
        backoff_delay(attempt, first, cap)
    if attempt == 0:
        with pytest.raises(ValueError):
            Backoff(first, cap)


def test_event_deliveries_back_off_with_jitter_up_to_five_minutes() -> None:
    rng = random.Random(1)
    assert 250 <= retry_delay_ms(1, 500, rng) <= 500
    assert 1000 <= retry_delay_ms(3, 500, rng) <= 2000
    assert 150_000 <= retry_delay_ms(40, 500, rng) <= 300_000
