"""`DriftReport`: per-feature results and the dataset-level decision."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from driftline.drift.univariate import UnivariateResult

if TYPE_CHECKING:
    from driftline.drift._feature_task import PlotData
    from driftline.drift.profile import Profile

__all__ = ["DriftReport", "FeatureDrift"]


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one feature: the distribution test and the missing and unseen signals.

    ``drift_detected`` is true when any of the three signals fired
    (``distribution_drift``, ``missing_drift``, ``unseen_drift``). A feature the engine could
    not test has ``testable=False``, ``method``/``statistic``/``p_value`` set to None, and a
    ``reason``; its missing signal is still reported when it could be computed.
    """

    name: str
    kind: str
    method: str | None
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drift_detected: bool
    distribution_drift: bool
    effect_size: float | None
    approximate: bool
    error_bound: float | None
    n_reference: int
    n_current: int
    missing_share_ref: float | None
    missing_share_cur: float | None
    missing_p_value: float | None
    missing_threshold: float | None
    missing_drift: bool
    unseen_share: float | None
    unseen_is_upper_bound: bool
    unseen_drift: bool
    testable: bool
    reason: str | None
    extra: Mapping[str, UnivariateResult] = field(default_factory=dict)

    @property
    def signals(self) -> tuple[str, ...]:
        """Names of the signals that fired."""
        fired = (
            ("distribution", self.distribution_drift),
            ("missing", self.missing_drift),
            ("unseen", self.unseen_drift),
        )
        return tuple(name for name, on in fired if on)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CLI's per-feature keys, plus detail)."""
        skip = {"name", "extra"}
        out = {key: getattr(self, key) for key in self.__dataclass_fields__ if key not in skip}
        out["signals"] = list(self.signals)
        out["extra"] = {name: result.to_dict() for name, result in self.extra.items()}
        return out


@dataclass(frozen=True)
class DriftReport:
    """Result of :func:`~driftline.drift.compare`.

    ``drift_detected`` is the dataset-level decision under ``correction``; ``drift_share`` is
    the share of tested features with drift. ``reference_profile`` is the profile fitted on a
    raw reference (None when a stored profile was given), ready to be stored.
    """

    features: Mapping[str, FeatureDrift]
    drift_detected: bool
    drift_share: float
    correction: str
    alpha: float
    share_threshold: float
    n_reference: int
    n_current: int
    extra_columns: tuple[str, ...] = ()
    reference_profile: Profile | None = field(default=None, repr=False, compare=False)
    plot_data: Mapping[str, PlotData] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", MappingProxyType(dict(self.features)))

    @property
    def drifted_features(self) -> tuple[str, ...]:
        """Names of the features with drift, in column order."""
        return tuple(name for name, f in self.features.items() if f.drift_detected)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the CLI contract's keys, plus detail keys."""
        return {
            "drift_detected": self.drift_detected,
            "drift_share": self.drift_share,
            "correction": self.correction,
            "alpha": self.alpha,
            "share_threshold": self.share_threshold,
            "n_features": len(self.features),
            "n_drifted": len(self.drifted_features),
            "n_not_testable": sum(1 for f in self.features.values() if not f.testable),
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "extra_columns": list(self.extra_columns),
            "features": {name: f.to_dict() for name, f in self.features.items()},
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON (never contains NaN or Infinity)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def summary(self) -> str:
        """A short plain-text table of the result."""
        verdict = "DRIFT" if self.drift_detected else "no drift"
        lines = [
            f"Dataset: {verdict} ({len(self.drifted_features)} of {len(self.features)} features, "
            f"share {self.drift_share:.1%}; correction={self.correction}, alpha={self.alpha:g}; "
            f"{self.n_reference} reference rows vs {self.n_current} current rows)",
            f"{'feature':<24} {'method':<14} {'statistic':>10} {'p-value':>9} "
            f"{'threshold':>9}  {'missing ref->cur':<17} {'unseen':>7}  drift",
        ]
        for name, f in self.features.items():
            lines.append(_summary_line(name, f))
        if self.extra_columns:
            lines.append(f"not in the reference, not compared: {', '.join(self.extra_columns)}")
        return "\n".join(lines)

    def to_html(self, path: str | Path) -> Path:
        """Write one self-contained HTML file (inline SVG, no external assets); returns path."""
        from driftline.drift._html import render_report

        target = Path(path)
        target.write_text(render_report(self), encoding="utf-8")
        return target


def _summary_line(name: str, f: FeatureDrift) -> str:
    missing = f"{_pct(f.missing_share_ref)}->{_pct(f.missing_share_cur)}"
    if not f.testable:
        flag = ", ".join(f.signals) if f.drift_detected else "-"
        short = (f.reason or "")[:60]
        return f"{name[:24]:<24} {'not testable':<14} {short:<40} {missing:<17} {'':>7}  {flag}"
    flag = ", ".join(f.signals) if f.drift_detected else "no"
    return (
        f"{name[:24]:<24} {f.method or '':<14} {_num(f.statistic):>10} {_num(f.p_value):>9} "
        f"{_num(f.threshold):>9}  {missing:<17} {_pct(f.unseen_share):>7}  {flag}"
    )


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4f}"


def _pct(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1%}"
