"""What the metric history says now: current values, window averages, trends, alert counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from driftline.monitoring._durations import format_duration
from driftline.monitoring._series import hours_between

if TYPE_CHECKING:
    from driftline.monitoring.history import Sample

__all__ = [
    "MetricsSummary",
    "SeriesSummary",
    "Trend",
    "fit_trend",
    "in_window",
    "summarize_series",
]


@dataclass(frozen=True)
class Trend:
    """A least-squares line through a series: slope per hour and its two-sided p-value."""

    slope_per_hour: float
    intercept: float
    r_value: float
    p_value: float
    stderr: float
    samples: int

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether the slope differs from zero at level ``alpha``."""
        return self.p_value < alpha


@dataclass(frozen=True)
class SeriesSummary:
    """One series: its latest value, mean value over each window, and trend."""

    name: str
    labels: dict[str, str]
    current: float | None
    current_time: datetime | None
    averages: dict[str, float | None]
    trend: Trend | None
    samples: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["current_time"] = self.current_time.isoformat() if self.current_time else None
        return out


@dataclass(frozen=True)
class MetricsSummary:
    """Every summarised series at ``at``, plus how many alerts are in each state."""

    at: datetime
    series: tuple[SeriesSummary, ...]
    alerts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "at": self.at.isoformat(),
            "series": [s.to_dict() for s in self.series],
            "alerts": dict(self.alerts),
        }


def fit_trend(samples: Sequence[Sample], origin: datetime) -> Trend | None:
    """The least-squares trend of ``samples`` (hours since ``origin``), or None if too few.

    Three points with at least two distinct times are needed for a p-value. A constant
    series has slope 0 and, with no evidence of a trend, p-value 1.
    """
    xs = [hours_between(origin, s.time) for s in samples]
    ys = [s.value for s in samples]
    if len(samples) < 3 or len(set(xs)) < 2:
        return None
    if len(set(ys)) == 1:
        return Trend(0.0, ys[0], 0.0, 1.0, 0.0, len(samples))
    # Imported here: scipy.stats takes ~1 s to import, and every `driftline` command
    # imports this module (through the workspace) while few of them fit a trend.
    from scipy import stats

    fit = stats.linregress(xs, ys)
    return Trend(
        slope_per_hour=float(fit.slope),
        intercept=float(fit.intercept),
        r_value=float(fit.rvalue),
        p_value=float(fit.pvalue),
        stderr=float(fit.stderr),
        samples=len(samples),
    )


def in_window(sample: Sample, since: datetime) -> bool:
    """Whether ``sample`` counts in a window starting (exclusively) at ``since``.

    An hourly rollup is stamped with its hour's start and counts when that hour starts
    inside the window (its first instant included).
    """
    return sample.time >= since if sample.resolution != "raw" else sample.time > since


def _window_mean(samples: Sequence[Sample], since: datetime) -> float | None:
    # Rollups stand for sample_count raw samples each, so weight by it.
    inside = [s for s in samples if in_window(s, since)]
    total = sum(s.count for s in inside)
    if not total:
        return None
    return sum(s.value * s.count for s in inside) / total


def summarize_series(
    name: str,
    labels: Mapping[str, str],
    samples: Sequence[Sample],
    *,
    at: datetime,
    windows: Sequence[timedelta],
    trend_window: timedelta,
) -> SeriesSummary:
    """Summarise one series from its samples up to ``at``, sorted by time."""
    latest = samples[-1] if samples else None
    averages = {format_duration(w): _window_mean(samples, at - w) for w in windows}
    recent = [s for s in samples if in_window(s, at - trend_window)]
    return SeriesSummary(
        name=name,
        labels=dict(labels),
        current=latest.value if latest else None,
        current_time=latest.time if latest else None,
        averages=averages,
        trend=fit_trend(recent, at - trend_window),
        samples=sum(s.count for s in samples),
    )
