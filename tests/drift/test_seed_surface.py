"""ConceptDriftDetector (the seed's API) and threshold calibration."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from driftline.drift import ConceptDriftDetector, calibrate, compare
from driftline.exceptions import ValidationError


def test_detector_scores_are_the_engine_statistics() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=4_000)
    window = rng.normal(0.5, 1.0, size=700)
    fixed = datetime(2026, 1, 1, tzinfo=UTC)
    detector = ConceptDriftDetector(window_size=500, clock=lambda: fixed).fit(reference)
    result = detector.detect_drift(window)
    last = window[-500:]
    # the seed's bugs, fixed: KS on the values, Wasserstein as the real distance (normed)
    assert result.individual_scores["ks"] == pytest.approx(
        stats.ks_2samp(reference, last).statistic
    )
    expected_w = stats.wasserstein_distance(reference, last) / np.std(reference)
    assert result.individual_scores["wasserstein"] == pytest.approx(expected_w)
    assert result.individual_scores["kl"] > 0 and result.individual_scores["chi_square"] > 0
    assert result.drift_detected and result.drift_score > 0.99
    assert result.timestamp == fixed and result.n_current == 500
    assert detector.drift_history == [result]


def test_detector_on_frames_with_categories() -> None:
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"x": rng.normal(size=3_000), "c": rng.choice(["a", "b"], 3_000)})
    same = pd.DataFrame({"x": rng.normal(size=1_000), "c": rng.choice(["a", "b"], 1_000)})
    detector = ConceptDriftDetector(window_size=1_000, threshold=0.01).fit(ref)
    result = detector.detect_drift(same)
    assert not result.drift_detected
    assert set(result.individual_scores) == {"ks", "kl", "wasserstein", "chi_square"}
    assert 0.0 <= result.drift_score <= 1.0


def test_detector_needs_fit() -> None:
    with pytest.raises(ValidationError, match=r"call fit\(\) first"):
        ConceptDriftDetector().detect_drift([1.0, 2.0])


def test_calibrated_thresholds_hold_on_the_rounds_and_enter_compare() -> None:
    rng = np.random.default_rng(2)
    ref = {
        "a": rng.normal(size=2_000),
        "b": rng.exponential(size=2_000),
        "c": rng.choice(["x", "y", "z"], 2_000),
    }
    cal = calibrate(ref, window_size=400, n_rounds=200, seed=3, method={"b": "wasserstein"})
    assert set(cal.thresholds) == {"a", "b", "c"}
    assert cal.thresholds["b"][0] == "wasserstein" and cal.thresholds["a"][0] == "ks"
    assert abs(cal.estimated_false_alarm - 0.05) <= 0.02
    shifted = {
        "a": rng.normal(0.5, 1.0, 400),
        "b": rng.exponential(size=400),
        "c": rng.choice(["x", "y", "z"], 400),
    }
    report = compare(ref, shifted, calibration=cal)
    assert report.correction == "calibrated"
    assert report.features["a"].threshold == pytest.approx(cal.thresholds["a"][1])
    assert report.features["a"].distribution_drift


def test_calibration_rejects_bad_settings() -> None:
    ref = {"a": np.arange(100.0)}
    with pytest.raises(ValidationError, match="window_size"):
        calibrate(ref, window_size=99)
    with pytest.raises(ValidationError, match="target_false_alarm"):
        calibrate(ref, target_false_alarm=0.0)
