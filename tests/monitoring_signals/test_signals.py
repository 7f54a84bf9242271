from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from driftline.exceptions import ValidationError
from driftline.monitoring.signals.estimation import ConfidenceBasedEstimator
from driftline.monitoring.signals.performance import (
    ModelPerformanceMonitor,
    windowed_performance,
)
from driftline.monitoring.signals.system import SystemMetrics, read_cgroup_limits


def _joined(n: int, seed: int = 0, labelled: float = 0.6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    time = pd.date_range("2026-01-01", periods=n, freq="1min", tz="UTC")
    truth = rng.choice(["UP", "DOWN"], n)
    prediction = np.where(rng.random(n) < 0.8, truth, np.where(truth == "UP", "DOWN", "UP"))
    has_label = rng.random(n) < labelled
    return pd.DataFrame(
        {
            "time": time,
            "prediction": prediction,
            "label": np.where(has_label, truth, None),
            "label_delay_s": np.where(has_label, rng.exponential(600, n), np.nan),
        }
    )


def test_accuracy_from_late_labels_matches_a_direct_computation() -> None:
    joined = _joined(600)
    windows = windowed_performance(joined, window="1h")
    assert len(windows) == 10 and sum(w.predictions for w in windows) == 600
    for w in windows:
        rows = joined[(joined["time"] >= w.start) & (joined["time"] <= w.end)]
        rows = rows[rows["label"].notna()]
        assert w.labelled == len(rows)
        expected = accuracy_score(rows["label"].astype(str), rows["prediction"].astype(str))
        assert w.metrics["accuracy"] == pytest.approx(expected, abs=1e-12)
        assert w.label_delay_p50_s == pytest.approx(np.median(rows["label_delay_s"]))
        assert 0.4 < w.coverage < 0.8


def test_row_windows_and_unlabelled_windows() -> None:
    joined = _joined(250, labelled=0.0)
    windows = windowed_performance(joined, window=100)
    assert [w.predictions for w in windows] == [100, 100, 50]
    assert all(w.labelled == 0 and w.metrics == {} for w in windows)
    with pytest.raises(ValidationError, match="at least 1 row"):
        windowed_performance(joined, window=0)
    with pytest.raises(ValidationError, match="'label'"):
        windowed_performance(joined.drop(columns=["label"]))


def test_degradation_and_trend_with_significance() -> None:
    monitor = ModelPerformanceMonitor(
        baseline={"accuracy": 0.9, "log_loss": 0.3}, metrics=("accuracy", "log_loss")
    )
    for i in range(10):
        monitor.update({"accuracy": 0.9 - 0.01 * i, "log_loss": 0.3 + 0.02 * i})
    degradation = monitor.degradation()
    assert degradation["accuracy"] == pytest.approx(0.09 / 0.9)
    assert degradation["log_loss"] == pytest.approx(0.18 / 0.3)  # lower is better: worse
    assert monitor.overall_degradation() == pytest.approx(np.mean([0.1, 0.6]))
    trend = monitor.trend("accuracy")
    assert trend.slope == pytest.approx(-0.01) and trend.pvalue < 1e-6


def test_confidence_based_estimate_tracks_real_accuracy_under_covariate_shift(
    datasets: Path,
) -> None:
    frame = pd.read_csv(datasets / "elec2.csv.gz")
    features = ["nswprice", "nswdemand", "period"]
    train, reference, shifted = frame.iloc[:8000], frame.iloc[8000:12000], frame.iloc[12000:16000]
    model = LogisticRegression(max_iter=500).fit(train[features], train["class"])
    ref_proba = model.predict_proba(reference[features])
    correct = model.predict(reference[features]) == reference["class"].to_numpy()
    estimator = ConfidenceBasedEstimator().fit(ref_proba, correct)
    estimate = estimator.estimate(model.predict_proba(shifted[features]))
    actual = accuracy_score(shifted["class"], model.predict(shifted[features]))
    assert estimate.is_estimate and estimate.to_dict()["is_estimate"] is True
    assert abs(estimate.accuracy - actual) < 0.08
    with pytest.raises(ValidationError, match="call fit"):
        ConfidenceBasedEstimator().estimate([0.9])


def test_cgroup_limits_replace_host_totals(tmp_path: Path) -> None:
    (tmp_path / "memory.max").write_text("1073741824\n")
    (tmp_path / "memory.current").write_text("268435456\n")
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    limits = read_cgroup_limits(tmp_path)
    assert (limits.memory_bytes, limits.cpu_cores) == (1 << 30, 1.5)
    values = SystemMetrics(cgroup_root=tmp_path, disk_path=tmp_path).collect()
    assert values["memory_total_bytes"] == float(1 << 30)
    assert values["memory_percent"] == pytest.approx(25.0)
    assert values["cpu_cores"] == 1.5
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert read_cgroup_limits(tmp_path).memory_bytes is None
    assert read_cgroup_limits(tmp_path).cpu_cores is None


def test_first_cpu_reading_is_not_the_zero_placeholder() -> None:
    metrics = SystemMetrics()
    sum(i * i for i in range(300_000))  # some CPU work between the priming and the reading
    values = metrics.collect()
    assert values["process_cpu_percent"] > 0.0
