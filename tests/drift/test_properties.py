"""Hypothesis and many-seed properties: no drift between samples of one distribution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.drift import compare, univariate

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(finite, min_size=5, max_size=300))
def test_identical_samples_give_zero_distance_and_no_drift(values: list[float]) -> None:
    x = np.asarray(values)
    ks = univariate.KolmogorovSmirnov().compare(x, x.copy())
    assert ks.statistic == 0.0 and ks.p_value == 1.0 and not ks.drift_detected
    for test in (
        univariate.Wasserstein(),
        univariate.PopulationStabilityIndex(),
        univariate.JensenShannon(),
    ):
        result = test.compare(x, x[::-1])
        assert result.statistic == pytest.approx(0.0, abs=1e-12) and not result.drift_detected


@settings(max_examples=40, deadline=None)
@given(labels=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=5, max_size=300))
def test_identical_categorical_samples_do_not_drift(labels: list[str]) -> None:
    report = compare({"c": labels}, {"c": list(reversed(labels))}, method="chisquare")
    feature = report.features["c"]
    assert not feature.drift_detected
    assert feature.unseen_share == 0.0 and feature.missing_share_cur == 0.0


def _false_alarm_rate(test: univariate.UnivariateTest, n: int, seeds: int) -> float:
    alarms = 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        alarms += test.compare(rng.normal(size=n), rng.normal(size=n)).drift_detected
    return alarms / seeds


@pytest.mark.parametrize(
    "test", [univariate.KolmogorovSmirnov(), univariate.CramerVonMises()], ids=lambda t: t.name
)
def test_p_value_tests_alarm_at_the_nominal_rate(test: univariate.UnivariateTest) -> None:
    seeds = 600
    rate = _false_alarm_rate(test, 200, seeds)
    # 0.05 nominal; KS is discrete and slightly conservative. 4 binomial SE is about 0.036.
    assert 0.015 <= rate <= 0.05 + 4 * np.sqrt(0.05 * 0.95 / seeds)


def test_chi_square_alarms_at_the_nominal_rate() -> None:
    seeds, alarms = 500, 0
    labels = np.array(["a", "b", "c", "d"])
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        ref, cur = rng.choice(labels, 300), rng.choice(labels, 300)
        alarms += univariate.ChiSquare().compare(ref, cur).drift_detected
    rate = alarms / seeds
    assert 0.02 <= rate <= 0.05 + 4 * np.sqrt(0.05 * 0.95 / seeds)


def test_bonferroni_keeps_the_dataset_false_alarm_rate_under_alpha() -> None:
    seeds, alarms = 200, 0
    for seed in range(seeds):
        rng = np.random.default_rng(10_000 + seed)
        ref = {f"f{i}": rng.normal(size=150) for i in range(8)}
        cur = {f"f{i}": rng.normal(size=150) for i in range(8)}
        alarms += compare(ref, cur, method="ks").drift_detected
    # uncorrected, 8 features would alarm in about 1 - 0.95**8 = 34% of the seeds
    assert alarms / seeds <= 0.05 + 4 * np.sqrt(0.05 * 0.95 / seeds)
