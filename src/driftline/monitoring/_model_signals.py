"""One model version's signals for a monitoring cycle, computed from prediction-log frames.

Each function takes frames (predictions joined to feedback) and returns what it found as a
JSON-ready report and the samples to record; none of them does I/O.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from driftline.monitoring.business import BusinessMetric
from driftline.monitoring.history import Sample
from driftline.monitoring.live_quality import violation_rates
from driftline.monitoring.signals.drift_windows import DriftEvent
from driftline.monitoring.signals.estimation import ConfidenceBasedEstimator
from driftline.monitoring.signals.performance import ModelPerformanceMonitor, windowed_performance
from driftline.quality import Suite
from driftline.training import METRICS

if TYPE_CHECKING:
    from driftline.registry import ModelVersion

__all__ = [
    "Found",
    "business_signals",
    "clean_labels",
    "drift_signals",
    "estimate_signals",
    "infer_task",
    "latency_signals",
    "performance_signals",
    "quality_signals",
]

_REGRESSION = frozenset(name for name in ("rmse", "mae", "r2") if name in METRICS)


@dataclass
class Found:
    """What one signal found: a JSON-ready report and the samples to record."""

    at: datetime
    labels: dict[str, str]
    report: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    def add(self, name: str, value: float, **extra: str) -> None:
        """Queue one sample of ``name`` with this version's labels plus ``extra``."""
        self.samples.append(Sample(name, {**self.labels, **extra}, float(value), self.at))


def infer_task(version: ModelVersion, predictions: pd.DataFrame) -> str:
    """``classification`` or ``regression``: from the baseline metrics, else the signature's
    output type, else the logged predictions (floats that are not whole numbers: regression)."""
    keys = set(version.metrics)
    if keys & _REGRESSION:
        return "regression"
    if "accuracy" in keys:
        return "classification"
    if version.signature is not None and version.signature.outputs:
        return "regression" if version.signature.outputs[0].type == "double" else "classification"
    values = predictions["prediction"].dropna() if "prediction" in predictions else []
    floats = [v for v in values if isinstance(v, float)]
    return "regression" if any(not float(v).is_integer() for v in floats) else "classification"


def _kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, numbers.Real):
        return "number"
    return "str" if isinstance(value, str) else "other"


def clean_labels(joined: pd.DataFrame, task: str) -> tuple[pd.DataFrame, pd.Series]:
    """``joined`` with labels of the wrong type set aside (as unlabelled), and which they were.

    Regression labels must be finite numbers. Classification labels must be of the kind of the
    predictions (text, number or boolean); a whole float label for integer classes is taken as
    the integer, because JSON does not tell 1 from 1.0.
    """
    rejected = pd.Series(False, index=joined.index)
    if "feedback_time" not in joined or not len(joined):
        return joined, rejected
    predicted = joined["prediction"].dropna()
    want = _kind(predicted.iloc[0]) if len(predicted) else None
    labels = joined["label"].astype(object).copy()
    for index in joined.index[joined["feedback_time"].notna()]:
        label = labels.at[index]
        kind = _kind(label)
        if task == "regression":
            ok = kind == "number" and bool(np.isfinite(float(label)))
        else:
            ok = want is None or kind == want
            if ok and kind == "number" and float(label).is_integer():
                label = int(label)
        labels.at[index] = label if ok else None
        rejected.at[index] = not ok
    out = joined.copy()
    out["label"] = labels
    return out, rejected


def performance_signals(
    found: Found, window: pd.DataFrame, *, task: str, baseline: Mapping[str, Any]
) -> None:
    """Metrics from the labels that arrived, coverage, label delay and loss from baseline."""
    if not len(window):
        found.report["skipped"] = "no predictions in the window"
        return
    measured = windowed_performance(window, task=task, window=len(window))[0]
    found.report.update(measured.to_dict())
    for name, value in measured.metrics.items():
        if value is not None:
            found.add("driftline_model_performance", value, metric=name)
    accuracy = measured.metrics.get("accuracy")
    if accuracy is not None:
        found.add("driftline_model_accuracy", accuracy)
    found.add("driftline_label_coverage", measured.coverage)
    if measured.label_delay_p50_s is not None:
        found.add("driftline_label_delay_seconds", measured.label_delay_p50_s)
    if measured.label_delay_p90_s is not None:
        found.add("driftline_label_delay_p90_seconds", measured.label_delay_p90_s)
    known = {
        k: float(v)
        for k, v in baseline.items()
        if k in METRICS and isinstance(v, int | float) and not isinstance(v, bool)
    }
    monitor = ModelPerformanceMonitor(baseline=known, metrics=tuple(known))
    monitor.update(measured.metrics)
    degradation = {k: v for k, v in monitor.degradation().items() if v is not None}
    for name, value in degradation.items():
        found.add("driftline_model_performance_degradation", value, metric=name)
    found.report["degradation"] = degradation


def _confidence(probabilities: pd.Series) -> np.ndarray:
    return np.array([float(np.max(p)) for p in probabilities], dtype=float)


def estimate_signals(
    found: Found, history: pd.DataFrame, window: pd.DataFrame, *, min_rows: int
) -> None:
    """Accuracy estimated from calibrated confidence for the window's unlabelled predictions.

    The calibration uses this version's labelled predictions in ``history``.
    """
    if "probabilities" not in window or not len(window):
        found.report["skipped"] = "no predictions in the window"
        return
    usable = window["probabilities"].map(lambda p: p is not None and len(p) > 0)
    target = window[usable & window["label"].isna()]
    known = history[history["probabilities"].map(lambda p: p is not None and len(p) > 0)]
    known = known[known["label"].notna()]
    if not len(target):
        found.report["skipped"] = "no unlabelled prediction with probabilities in the window"
        return
    if len(known) < min_rows:
        found.report["skipped"] = (
            f"{len(known)} labelled predictions with probabilities; {min_rows} needed to calibrate"
        )
        return
    correct = known["label"].astype(str).to_numpy() == known["prediction"].astype(str).to_numpy()
    estimator = ConfidenceBasedEstimator().fit(_confidence(known["probabilities"]), correct)
    estimate = estimator.estimate(_confidence(target["probabilities"]))
    found.report.update({**estimate.to_dict(), "calibration_rows": len(known)})
    found.add("driftline_model_accuracy_estimated", estimate.accuracy)


def drift_signals(found: Found, event: DriftEvent | None, *, new_events: int) -> None:
    """The latest drift event of the version as samples, linked to it by ``drift_event``."""
    found.report["new_events"] = new_events
    if event is None:
        found.report["skipped"] = "no complete window compared yet"
        return
    ref = {"drift_event": event.id}
    found.add("driftline_dataset_drift_share", event.drift_share, **ref)
    found.add("driftline_dataset_drift", 1.0 if event.drift_detected else 0.0, **ref)
    scores = {}
    for feature, result in sorted(event.features.items()):
        statistic = result.get("statistic")
        if isinstance(statistic, int | float) and np.isfinite(statistic):
            found.add("driftline_feature_drift_score", float(statistic), feature=feature, **ref)
            scores[feature] = float(statistic)
    found.report.update(
        {
            "event": event.id,
            "window_start": event.window_start,
            "window_end": event.window_end,
            "rows": event.rows,
            "drift_detected": event.drift_detected,
            "drift_share": event.drift_share,
            "scores": scores,
        }
    )


def quality_signals(found: Found, suite: Suite | None, features: pd.DataFrame) -> None:
    """The share of the window's records that break each check of the suite."""
    if suite is None:
        return
    if not len(features):
        found.report["skipped"] = "no predictions in the window"
        return
    rates = violation_rates(suite, features)
    for check, rate in rates.items():
        found.add("driftline_quality_violation_rate", rate, check=check)
    found.report.update({"rows": len(features), "violation_rates": rates})


def latency_signals(found: Found, rows: pd.DataFrame, *, model: str) -> None:
    """p95 and p99 of the logged latency per route (labels: model and route)."""
    if "latency_ms" not in rows or not len(rows):
        return
    for route, group in rows.groupby(rows["route"].fillna(""), sort=True):
        seconds = group["latency_ms"].dropna().to_numpy(dtype=float) / 1000.0
        if not len(seconds):
            continue
        p95, p99 = (float(np.percentile(seconds, q)) for q in (95, 99))
        labels = {"model": model, "route": str(route)}
        for name, value in (("p95", p95), ("p99", p99)):
            metric = f"driftline_request_latency_{name}_seconds"
            found.samples.append(Sample(metric, labels, value, found.at))
        found.report[str(route)] = {"rows": len(seconds), "p95_s": p95, "p99_s": p99}


def business_signals(
    found: Found, metrics: Sequence[BusinessMetric], window: pd.DataFrame, errors: list[str]
) -> None:
    """Each user-defined metric over the window; a failing function is reported, not raised."""
    for metric in metrics:
        try:
            value = metric.compute(window)
        except Exception as exc:  # user code: its failure must not stop the other signals
            errors.append(f"business metric {metric.name!r}: {type(exc).__name__}: {exc}")
            continue
        found.report[metric.name] = value
        if value is not None:
            found.add(metric.name, value)
