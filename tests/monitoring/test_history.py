"""Metric history on SQLite and PostgreSQL: record, query, latest, compact, summarise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from scipy import stats

from driftline.exceptions import ValidationError
from driftline.monitoring import MetricStore, Sample

T0 = datetime(2026, 5, 1, tzinfo=UTC)
DRIFT = "driftline_feature_drift_score"


@pytest.fixture
def metrics(workspace: Any) -> MetricStore:
    return MetricStore(
        workspace.store,
        raw_retention=timedelta(days=2),
        rollup_retention=timedelta(days=30),
        clock=lambda: T0,
    )


def test_record_query_and_matchers(metrics: MetricStore) -> None:
    for i, feature in enumerate(["age", "income", "age"]):
        metrics.record(
            DRIFT, 0.1 * (i + 1), labels={"model": "m", "feature": feature},
            time=T0 - timedelta(minutes=10 - i),
        )  # fmt: skip
    got = metrics.query(DRIFT, matchers={"feature": "age"})
    assert [s.value for s in got] == pytest.approx([0.1, 0.3])
    assert all(s.labels == {"model": "m", "feature": "age"} for s in got)
    # start is exclusive, end inclusive
    window = metrics.query(DRIFT, start=T0 - timedelta(minutes=10), end=T0 - timedelta(minutes=9))
    assert [s.value for s in window] == pytest.approx([0.2])
    assert metrics.names() == [DRIFT]


def test_latest_takes_the_newest_fresh_sample_per_series(metrics: MetricStore) -> None:
    metrics.record(DRIFT, 0.5, labels={"feature": "a"}, time=T0 - timedelta(minutes=3))
    metrics.record(DRIFT, 0.7, labels={"feature": "a"}, time=T0 - timedelta(minutes=1))
    metrics.record(DRIFT, 0.9, labels={"feature": "b"}, time=T0 - timedelta(minutes=30))  # stale
    metrics.record(DRIFT, 0.4, labels={"feature": "c"}, time=T0 + timedelta(minutes=1))  # future
    latest = metrics.latest(DRIFT, at=T0, lookback=timedelta(minutes=5))
    assert [(s.labels["feature"], s.value) for s in latest] == [("a", 0.7)]
    assert [s.value for s in metrics.latest(DRIFT, at=T0, lookback=timedelta(hours=1))] == [
        0.7,
        0.9,
    ]


@pytest.mark.parametrize(
    ("name", "value", "labels", "match"),
    [
        ("bad name!", 1.0, None, "metric name 'bad name!'"),
        (DRIFT, float("nan"), None, "must be finite"),
        (DRIFT, float("inf"), None, "must be finite"),
        (DRIFT, "0.3", None, "must be a number, got str"),
        (DRIFT, True, None, "must be a number, got bool"),
        (DRIFT, 1.0, {"version": 3}, "label 'version' must be a string, got int 3"),
        (DRIFT, 1.0, {"2x": "a"}, "label name '2x' is not valid"),
        (DRIFT, 1.0, {"__name__": "a"}, "label name '__name__'"),
    ],
    ids=["name", "nan", "inf", "str", "bool", "label-type", "label-name", "reserved"],
)
def test_bad_samples_are_refused_naming_what(
    sqlite_workspace: Any, name: str, value: Any, labels: Any, match: str
) -> None:
    metrics = MetricStore(sqlite_workspace.store)
    with pytest.raises(ValidationError, match=match):
        metrics.record(name, value, labels=labels)
    assert metrics.names() == []


def test_record_many_is_all_or_nothing(metrics: MetricStore) -> None:
    good = Sample(DRIFT, {"feature": "a"}, 0.1, T0)
    bad = Sample(DRIFT, {"feature": 1}, 0.2, T0)  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="label 'feature'"):
        metrics.record_many([good, bad])
    assert metrics.query(DRIFT) == []
    assert metrics.record_many([good, good]) == 2
    assert len(metrics.query(DRIFT)) == 2


def _fill(
    metrics: MetricStore, days: int, seed: int = 0
) -> dict[str, list[tuple[datetime, float]]]:
    rng = np.random.default_rng(seed)
    written: dict[str, list[tuple[datetime, float]]] = {"a": [], "b": []}
    samples = []
    for feature in written:
        for step in range(days * 24 * 6):  # every 10 minutes
            moment = T0 - timedelta(days=days) + timedelta(minutes=10 * step, seconds=7)
            value = float(rng.normal(0.2 if feature == "a" else 0.5, 0.05))
            written[feature].append((moment, value))
            samples.append(Sample(DRIFT, {"feature": feature}, value, moment))
    metrics.record_many(samples)
    return written


def test_compaction_rolls_old_raw_samples_into_exact_hourly_stats(metrics: MetricStore) -> None:
    written = _fill(metrics, days=4)
    result = metrics.compact(now=T0)
    cutoff = T0 - timedelta(days=2)
    old = {f: [(t, v) for t, v in pts if t < cutoff] for f, pts in written.items()}
    assert result.raw_rolled_up == sum(len(p) for p in old.values())
    assert result.buckets_written == sum(len(p) for p in old.values()) // 6
    for feature, points in old.items():
        rollups = [
            s for s in metrics.query(DRIFT, matchers={"feature": feature}) if s.resolution == "1h"
        ]
        assert len(rollups) == 48
        for rollup in rollups:
            hour = [v for t, v in points if rollup.time <= t < rollup.time + timedelta(hours=1)]
            assert rollup.count == len(hour) == 6
            assert rollup.value == pytest.approx(np.mean(hour))
            assert (rollup.min, rollup.max) == (pytest.approx(min(hour)), pytest.approx(max(hour)))
    raw = [s for s in metrics.query(DRIFT) if s.resolution == "raw"]
    assert raw and min(s.time for s in raw) >= cutoff
    again = metrics.compact(now=T0)  # nothing left to fold
    assert (again.raw_rolled_up, again.buckets_written) == (0, 0)


def test_a_late_sample_merges_into_its_hours_rollup(metrics: MetricStore) -> None:
    hour = T0 - timedelta(days=3)
    for minute, value in ((0, 1.0), (20, 3.0)):
        metrics.record(DRIFT, value, labels={"feature": "a"}, time=hour + timedelta(minutes=minute))
    metrics.compact(now=T0)
    metrics.record(DRIFT, 8.0, labels={"feature": "a"}, time=hour + timedelta(minutes=40))
    metrics.compact(now=T0)
    (rollup,) = metrics.query(DRIFT)
    assert (rollup.count, rollup.value, rollup.min, rollup.max) == (3, 4.0, 1.0, 8.0)


def test_rollups_past_their_retention_are_dropped(metrics: MetricStore) -> None:
    metrics.record(DRIFT, 1.0, time=T0 - timedelta(days=40))
    metrics.record(DRIFT, 2.0, time=T0 - timedelta(days=10))
    first = metrics.compact(now=T0)
    assert first.rollups_deleted == 1  # folded, then past 30 days
    assert [s.value for s in metrics.query(DRIFT)] == [2.0]


def test_summary_current_averages_and_trend_match_numpy_and_scipy(metrics: MetricStore) -> None:
    written = _fill(metrics, days=3)
    metrics.compact(now=T0)  # averages must still hold over rollups (count-weighted)
    summary = metrics.summary(at=T0, windows=[timedelta(hours=1), timedelta(days=3)])
    by_feature = {s.labels["feature"]: s for s in summary.series}
    for feature, points in written.items():
        got = by_feature[feature]
        assert got.current == pytest.approx(points[-1][1])
        last_hour = [v for t, v in points if t > T0 - timedelta(hours=1)]
        assert got.averages["1h"] == pytest.approx(np.mean(last_hour))
        assert got.averages["3d"] == pytest.approx(np.mean([v for _, v in points]))
        day = [(t, v) for t, v in points if t > T0 - timedelta(days=1)]  # still raw
        x = [(t - (T0 - timedelta(days=1))) / timedelta(hours=1) for t, _ in day]
        expected = stats.linregress(x, [v for _, v in day])
        assert got.trend is not None
        assert got.trend.slope_per_hour == pytest.approx(expected.slope)
        assert got.trend.p_value == pytest.approx(expected.pvalue)
        assert got.trend.samples == len(day)


def test_trend_of_a_rising_series_is_significant(metrics: MetricStore) -> None:
    for i in range(24):
        metrics.record(DRIFT, 0.1 + 0.01 * i + 0.001 * (-1) ** i, time=T0 - timedelta(hours=23 - i))
    trend = metrics.summary(at=T0).series[0].trend
    assert trend is not None and trend.significant(0.01)
    assert trend.slope_per_hour == pytest.approx(0.01, rel=0.05)


def test_trend_edge_cases(metrics: MetricStore) -> None:
    for i in range(2):
        metrics.record("driftline_label_coverage", 0.5, time=T0 - timedelta(minutes=i))
    for i in range(5):
        metrics.record("driftline_model_accuracy", 0.9, time=T0 - timedelta(minutes=i))
    summary = {s.name: s for s in metrics.summary(at=T0).series}
    assert summary["driftline_label_coverage"].trend is None  # too few points
    flat = summary["driftline_model_accuracy"].trend
    assert flat is not None and (flat.slope_per_hour, flat.p_value) == (0.0, 1.0)
    assert summary["driftline_model_accuracy"].averages["1h"] == 0.9
    assert summary["driftline_model_accuracy"].averages["7d"] == 0.9


def test_summary_counts_alerts_per_state(workspace: Any, metrics: MetricStore) -> None:
    from driftline.monitoring import AlertManager, presets

    manager = AlertManager.from_workspace(
        workspace, rules=[presets.feature_drift(threshold=0.2)], clock=lambda: T0
    )
    for feature, value in (("a", 0.5), ("b", 0.6), ("c", 0.1)):
        manager.metrics.record(DRIFT, value, labels={"feature": feature}, time=T0)
    manager.evaluate(T0)
    assert metrics.summary(at=T0).alerts == {"firing": 2}
    assert metrics.summary(at=T0).to_dict()["alerts"] == {"firing": 2}
