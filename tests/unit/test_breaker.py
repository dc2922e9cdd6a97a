"""The circuit breaker's state machine, without a store."""

from __future__ import annotations

from podium.dsl.services import BreakerConfig
from podium.resilience.breaker import Admission, BreakerState, Circuit, admit, record

CONFIG = BreakerConfig(failureThreshold=3, openSeconds=10, halfOpenProbes=1)


def _fail(state: BreakerState, times: int, now: int = 0, config: BreakerConfig = CONFIG):
    transition = None
    for _ in range(times):
        state, transition = record(state, config, True, now, "HTTP 503")
    return state, transition


def test_consecutive_failures_open_it_and_a_success_resets_the_count():
    state, transition = _fail(BreakerState(), 2)
    assert state.circuit == Circuit.CLOSED and transition is None
    state, _ = record(state, CONFIG, False, 0)
    state, transition = _fail(state, 2)
    assert state.circuit == Circuit.CLOSED
    state, transition = _fail(state, 1, now=500)
    assert state.circuit == Circuit.OPEN and state.opened_at == 500
    assert transition is not None
    assert (transition.from_state, transition.to_state) == (Circuit.CLOSED, Circuit.OPEN)
    assert "3 consecutive failures: HTTP 503" == transition.reason


def test_open_denies_until_open_seconds_pass_then_lets_one_probe_through():
    state, _ = _fail(BreakerState(), 3, now=1_000)
    admission, state, transition = admit(state, CONFIG, 10_999)
    assert admission == Admission.DENY and transition is None
    assert state.reopens_at(CONFIG) == 11_000
    admission, state, transition = admit(state, CONFIG, 11_000)
    assert admission == Admission.PROBE and state.circuit == Circuit.HALF_OPEN
    assert transition is not None and transition.to_state == Circuit.HALF_OPEN
    admission, state, _ = admit(state, CONFIG, 11_001)
    assert admission == Admission.DENY  # the one probe is out


def test_a_probe_that_succeeds_closes_it_and_one_that_fails_opens_it_again():
    opened, _ = _fail(BreakerState(), 3)
    _, probing, _ = admit(opened, CONFIG, 20_000)
    closed, transition = record(probing, CONFIG, False, 20_100)
    assert closed == BreakerState()
    assert transition is not None and transition.to_state == Circuit.CLOSED
    reopened, transition = record(probing, CONFIG, True, 20_100, "timeout")
    assert reopened.circuit == Circuit.OPEN and reopened.opened_at == 20_100
    assert transition is not None and "a trial call failed: timeout" == transition.reason


def test_a_failure_ratio_in_the_window_opens_it():
    config = BreakerConfig(failureThreshold=100, failureRatio=0.5, windowSize=10, minimumCalls=6)
    state = BreakerState()
    for failed in (True, False, True, False, True):
        state, transition = record(state, config, failed, 0)
        assert transition is None  # fewer calls than minimumCalls
    state, transition = record(state, config, False, 0)
    assert state.circuit == Circuit.CLOSED  # 3 of 6 is 50% but the last call succeeded...
    state, transition = record(state, config, True, 0)
    assert state.circuit == Circuit.OPEN  # ...4 of 7 failed
    assert transition is not None and "4 of the last 7 calls failed (57%)" == transition.reason


def test_the_window_keeps_only_the_latest_calls():
    config = BreakerConfig(failureThreshold=100, windowSize=3)
    state = BreakerState()
    for failed in (True, True, False, False, False):
        state, _ = record(state, config, failed, 0)
    assert state.recent == (False, False, False)


def test_state_survives_a_round_trip_through_json():
    state, _ = _fail(BreakerState(), 3, now=7)
    assert BreakerState.from_dict(state.to_dict()) == state
    assert BreakerState.from_dict(None) == BreakerState()
