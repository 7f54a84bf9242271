"""Performance from delayed labels: join feedback to predictions, then measure per window.

Labels arrive late (a fraud label days after the payment). Each window is measured on the
predictions whose labels have arrived, and reports how many did (coverage) and how late
they were (delay), so a window with 3% of its labels is read for what it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from driftline.exceptions import ValidationError
from driftline.training import METRICS, evaluate

__all__ = ["ModelPerformanceMonitor", "PerformanceWindow", "windowed_performance"]


@dataclass(frozen=True)
class PerformanceWindow:
    """Metrics of one window of predictions, on the rows whose labels arrived."""

    start: pd.Timestamp
    end: pd.Timestamp
    predictions: int
    labelled: int
    metrics: dict[str, float | None]
    label_delay_p50_s: float | None
    label_delay_p90_s: float | None

    @property
    def coverage(self) -> float:
        """Share of the window's predictions that have a label."""
        return self.labelled / self.predictions if self.predictions else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "predictions": self.predictions,
            "labelled": self.labelled,
            "coverage": self.coverage,
            "metrics": self.metrics,
            "label_delay_p50_s": self.label_delay_p50_s,
            "label_delay_p90_s": self.label_delay_p90_s,
        }


def windowed_performance(
    joined: pd.DataFrame,
    *,
    task: str = "classification",
    window: str | int = "1h",
) -> list[PerformanceWindow]:
    """Metrics per time window (``"1h"``) or per ``window`` consecutive predictions.

    ``joined`` is :func:`driftline.predlog.join_feedback` output: one row per
    prediction with ``time``, ``prediction``, ``label`` (NaN/None when not yet labelled) and
    ``label_delay_s``.
    """
    for column in ("time", "prediction", "label"):
        if column not in joined.columns:
            raise ValidationError(f"joined predictions lack the column {column!r}")
    ordered = joined.sort_values("time", kind="stable").reset_index(drop=True)
    if isinstance(window, int):
        if window < 1:
            raise ValidationError(f"window must be at least 1 row, got {window}")
        groups = [ordered.iloc[i : i + window] for i in range(0, len(ordered), window)]
    else:
        keys = ordered["time"].dt.floor(pd.Timedelta(window))
        groups = [group for _, group in ordered.groupby(keys, sort=True)]
    return [_measure(group, task) for group in groups if len(group)]


def _measure(group: pd.DataFrame, task: str) -> PerformanceWindow:
    labelled = group[group["label"].notna()]
    metrics: dict[str, float | None] = {}
    if len(labelled):
        y_true = labelled["label"].to_numpy()
        y_pred = labelled["prediction"].to_numpy()
        if task == "classification":
            y_true, y_pred = y_true.astype(str), y_pred.astype(str)
        else:
            y_true, y_pred = y_true.astype(float), y_pred.astype(float)
        metrics = dict(evaluate(task, y_true, y_pred).overall)
    delays = labelled["label_delay_s"].dropna().to_numpy() if "label_delay_s" in labelled else []
    return PerformanceWindow(
        start=group["time"].iloc[0],
        end=group["time"].iloc[-1],
        predictions=len(group),
        labelled=len(labelled),
        metrics=metrics,
        label_delay_p50_s=float(np.percentile(delays, 50)) if len(delays) else None,
        label_delay_p90_s=float(np.percentile(delays, 90)) if len(delays) else None,
    )


@dataclass
class ModelPerformanceMonitor:
    """The seed's monitor: baseline from the registry's metrics, degradation per metric and
    overall, and a trend (least-squares slope over windows, with its p-value).

    >>> monitor = ModelPerformanceMonitor(baseline={"accuracy": 0.9})
    >>> for value in (0.9, 0.85, 0.8, 0.75):
    ...     monitor.update({"accuracy": value})
    >>> round(monitor.degradation()["accuracy"], 3)
    0.167
    >>> bool(monitor.trend("accuracy").slope < 0)
    True
    """

    baseline: Mapping[str, float]
    metrics: Sequence[str] = ("accuracy",)
    history: list[dict[str, float | None]] = field(default_factory=list)

    def update(self, window_metrics: Mapping[str, float | None]) -> None:
        """Add one window's metrics."""
        self.history.append({m: window_metrics.get(m) for m in self.metrics})

    def degradation(self) -> dict[str, float | None]:
        """Relative loss per metric in the latest window (positive = worse than baseline)."""
        if not self.history:
            return dict.fromkeys(self.metrics)
        latest = self.history[-1]
        out: dict[str, float | None] = {}
        for name in self.metrics:
            base, now = self.baseline.get(name), latest.get(name)
            if base is None or now is None or base == 0:
                out[name] = None
                continue
            sign = 1.0 if METRICS[name].higher_is_better else -1.0
            out[name] = sign * (base - now) / abs(base)
        return out

    def overall_degradation(self) -> float | None:
        """Mean of the per-metric degradations that are known."""
        known = [v for v in self.degradation().values() if v is not None]
        return float(np.mean(known)) if known else None

    def trend(self, metric: str) -> Any:
        """``scipy.stats.linregress`` of the metric over window index (slope, p-value, ...)."""
        values = [h[metric] for h in self.history if h.get(metric) is not None]
        if len(values) < 3:
            raise ValidationError(f"a trend of {metric!r} needs at least 3 windows with values")
        return stats.linregress(np.arange(len(values)), np.asarray(values, dtype=float))
