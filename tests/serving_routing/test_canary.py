"""Canary routing and the rollout state machine, with a fixed clock."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.exceptions import ValidationError
from driftline.serving.routing import (
    Canary,
    CanaryRollout,
    CanarySLO,
    Outcome,
    RouteDecision,
    analyze,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SLO = CanarySLO(max_error_rate=0.05, max_p99_latency_s=0.2, max_disagreement=0.1, min_requests=50)
BAKE = timedelta(minutes=5)
KEYS = [f"user-{i}" for i in range(20_000)]


def make(steps: tuple[float, ...] = (0.1, 0.5, 1.0), slo: CanarySLO = SLO) -> CanaryRollout:
    return Canary(stable=1, canary=2, steps=steps, bake_time=BAKE, slo=slo).rollout(started_at=T0)


def feed(
    rollout: CanaryRollout,
    start: datetime,
    n: int,
    *,
    version: int = 2,
    errors: int = 0,
    latency_s: float = 0.01,
    disagreements: int | None = None,
    every_s: float = 1.0,
) -> None:
    """``n`` outcomes ``every_s`` apart; the first ``errors`` fail, ``disagreements`` differ."""
    for i in range(n):
        disagreed = None if disagreements is None else i < disagreements
        at = start + timedelta(seconds=i * every_s)
        rollout.record(version, i >= errors, latency_s, disagreed, at=at)


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0, exclude_max=True))
def test_keyless_canary_routes_exactly_the_draws_below_its_percent(
    percent: float, draw: float
) -> None:
    decision = Canary(stable=1, canary=2).route(percent, None, draw)
    expected = RouteDecision(2, "canary") if draw < percent else RouteDecision(1, "stable")
    assert decision == expected


@settings(max_examples=10, deadline=None)
@given(st.floats(0.01, 0.99), st.floats(0.01, 0.99))
def test_keyed_canary_never_exceeds_its_percent_and_is_monotone(p1: float, p2: float) -> None:
    low, high = sorted((p1, p2))
    canary = Canary(stable=1, canary=2)
    at_low = {k for k in KEYS if canary.route(low, k, 0.0).version == 2}
    at_high = {k for k in KEYS if canary.route(high, k, 0.0).version == 2}
    assert at_low <= at_high, "a key moved back to stable when the canary grew"
    sigma = math.sqrt(high * (1 - high) / len(KEYS))
    assert len(at_high) / len(KEYS) <= high + 5 * sigma


def test_rollout_routes_at_its_current_percent_and_never_more() -> None:
    rollout = make()
    grid = [i / 1_000 for i in range(1_000)]
    assert sum(rollout.decide(None, d).version == 2 for d in grid) == 100
    feed(rollout, T0, 60)
    assert rollout.evaluate(T0 + BAKE).state == "step_up"
    assert sum(rollout.decide(None, d).version == 2 for d in grid) == 500


def test_rollout_steps_up_after_each_bake_and_is_promoted_after_the_last() -> None:
    rollout = make()
    now = T0
    feed(rollout, now, 100)
    assert rollout.evaluate(now + BAKE - timedelta(seconds=1)).state == "baking"
    seen = []
    for _ in range(3):
        now += BAKE
        feed(rollout, now - timedelta(seconds=100), 100)
        state = rollout.evaluate(now)
        seen.append((state.state, state.percent))
    assert seen == [("step_up", 0.5), ("step_up", 1.0), ("promoted", 1.0)]
    assert [s.state for s in rollout.history] == ["baking", "step_up", "step_up", "promoted"]
    assert rollout.decide("anyone", 0.999) == RouteDecision(2, "canary")
    assert "met the SLO through the last step" in rollout.state.reason


def test_error_rate_above_the_slo_rolls_back_with_the_numbers() -> None:
    rollout = make()
    feed(rollout, T0, 100, errors=6)
    feed(rollout, T0, 400, version=1, errors=1, every_s=0.25)
    state = rollout.evaluate(T0 + timedelta(minutes=2))
    assert (state.state, state.percent) == ("rolled_back", 0.0)
    assert "error rate 0.0600 > 0.0500 (6 of 100 requests failed)" in state.reason
    assert "v1: 400 requests" in state.reason
    assert {rollout.decide(k, 0.0).version for k in KEYS[:200]} == {1}
    # Terminal: later healthy traffic changes nothing.
    feed(rollout, T0 + timedelta(minutes=3), 500)
    assert rollout.evaluate(T0 + timedelta(hours=1)) is state


def test_no_rollback_below_min_requests_even_if_every_request_failed() -> None:
    rollout = make()
    # The window is (now - 300s, now]: start one second in so that all 49 are inside it.
    feed(rollout, T0 + timedelta(seconds=1), 49, errors=49)
    state = rollout.evaluate(T0 + BAKE)
    assert state.state == "baking"
    assert "only 49 canary requests" in state.reason
    rollout.record(2, False, 0.01, at=T0 + timedelta(seconds=50))
    assert rollout.evaluate(T0 + BAKE).state == "rolled_back"


def test_p99_latency_and_disagreement_breaches_roll_back() -> None:
    slow = make()
    feed(slow, T0, 98)
    feed(slow, T0 + timedelta(seconds=98), 2, latency_s=0.5)
    assert slow.evaluate(T0 + timedelta(minutes=2)).state == "rolled_back"
    assert "p99 latency 0.5000s > 0.2000s" in slow.state.reason
    differs = make()
    feed(differs, T0, 100, disagreements=11)
    assert differs.evaluate(T0 + timedelta(minutes=2)).state == "rolled_back"
    assert "disagreement 0.1100 > 0.1000 (11 of 100" in differs.state.reason


def test_errors_that_left_the_window_no_longer_count() -> None:
    rollout = make(slo=CanarySLO(max_error_rate=0.05, max_p99_latency_s=1.0, min_requests=50))
    feed(rollout, T0, 60, errors=30)  # would break the SLO if judged now
    later = T0 + BAKE + timedelta(seconds=60)
    feed(rollout, later - timedelta(seconds=100), 100)
    state = rollout.evaluate(later)
    assert state.state == "step_up", state.reason
    assert state.analysis is not None and state.analysis.errors == 0


@settings(max_examples=40, deadline=None)
@given(st.integers(50, 400), st.data())
def test_rollback_exactly_when_the_error_rate_exceeds_the_slo(n: int, data: st.DataObject) -> None:
    errors = data.draw(st.integers(0, n))
    rollout = make()
    feed(rollout, T0, n, errors=errors, every_s=0.5)
    state = rollout.evaluate(T0 + timedelta(seconds=n * 0.5))
    assert (state.state == "rolled_back") == (errors / n > SLO.max_error_rate)


def test_same_inputs_give_the_same_history_and_the_clock_is_used_when_times_are_omitted() -> None:
    now = [T0]
    histories = []
    for clock in (lambda: now[0], None):
        rollout = Canary(1, 2, bake_time=BAKE, slo=SLO).rollout(
            started_at=None if clock else T0, clock=clock
        )
        for i in range(700):
            now[0] = T0 + timedelta(seconds=i + 1)
            at = None if clock else now[0]
            rollout.record(2, i % 40 != 0, 0.01 + (i % 7) / 100, i % 30 == 0, at)
            if i % 50 == 49:
                now[0] = T0 + timedelta(seconds=i + 2)
                rollout.evaluate(None if clock else now[0])
        histories.append([(s.state, s.percent, s.at, s.reason) for s in rollout.history])
    assert histories[0] == histories[1]
    assert [h[0] for h in histories[0]] == ["baking", "step_up", "step_up"]


def test_manual_rollback_and_ignored_versions() -> None:
    rollout = make()
    feed(rollout, T0, 100, version=9, errors=100)  # a shadow version: not the canary's business
    assert rollout.evaluate(T0 + timedelta(minutes=1)).state == "baking"
    state = rollout.rollback("on-call saw bad predictions", at=T0 + timedelta(minutes=2))
    assert state.state == "rolled_back" and "on-call" in state.reason
    assert rollout.decide(None, 0.0).version == 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=300))
def test_p99_is_the_nearest_rank_percentile(latencies: list[float]) -> None:
    outcomes = [Outcome(T0, True, x) for x in latencies]
    expected = float(np.percentile(latencies, 99, method="inverted_cdf"))
    assert analyze(2, outcomes).p99_latency_s == expected


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"steps": (0.5, 0.1)}, "strictly increasing"),
        ({"steps": ()}, "Canary.steps"),
        ({"steps": (0.0, 1.0)}, r"Canary.steps\[0\]"),
        ({"bake_time": timedelta(0)}, "Canary.bake_time"),
        ({"window": 30}, "Canary.window"),
        ({"canary": 1}, "Canary.canary"),
    ],
    ids=["decreasing", "empty", "zero-step", "zero-bake", "window-not-timedelta", "same-version"],
)
def test_canary_validation_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Canary(**{"stable": 1, "canary": 2, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_error_rate": 1.5}, "max_error_rate"),
        ({"max_p99_latency_s": 0}, "max_p99_latency_s"),
        ({"min_requests": 0}, "min_requests"),
        ({"max_disagreement": -0.1}, "max_disagreement"),
    ],
    ids=["error-rate", "latency", "min-requests", "disagreement"],
)
def test_slo_validation_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        CanarySLO(**kwargs)


def test_naive_times_are_refused() -> None:
    rollout = make()
    with pytest.raises(ValidationError, match="timezone-aware"):
        rollout.record(2, True, 0.01, at=datetime(2024, 5, 1, 12))
    with pytest.raises(ValidationError, match="now"):
        rollout.evaluate(datetime(2024, 5, 1, 12))
