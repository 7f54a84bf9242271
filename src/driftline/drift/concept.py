"""The seed's `ConceptDriftDetector`, kept as a thin layer over :func:`compare`.

The seed computed its KS test on normalised histograms (not on the data), imported a KL
function that does not exist, and called a mean difference "Wasserstein". Here every score
is the engine's: KS on the values (exact, or within the profile sketch's stated bound), KL on
reference-quantile bins, Wasserstein normed by the reference std, chi-square on bins or
categories; the decision is the engine's Bonferroni-corrected one at ``threshold``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from driftline.drift.compare import compare
from driftline.drift.profile import Profile
from driftline.drift.report import DriftReport
from driftline.exceptions import ValidationError

__all__ = ["ConceptDriftDetector", "ConceptDriftResult"]

_SCORES = ("ks", "kl", "wasserstein", "chi_square")
_METHOD_OF = {"ks": "ks", "kl": "kl", "wasserstein": "wasserstein", "chi_square": "chisquare"}


@dataclass(frozen=True)
class ConceptDriftResult:
    """One call of :meth:`ConceptDriftDetector.detect_drift`.

    ``individual_scores`` hold, over the features, the largest KS statistic, KL divergence,
    normed Wasserstein distance and chi-square statistic (0.0 when no feature has one).
    ``drift_score`` is ``1 - p``, ``p`` the smallest Bonferroni-adjusted p-value of the
    deciding tests (KS for numeric features, chi-square for categorical ones).
    """

    drift_detected: bool
    drift_score: float
    individual_scores: Mapping[str, float]
    timestamp: datetime
    n_current: int
    report: DriftReport = field(repr=False, compare=False)


class ConceptDriftDetector:
    """Compare windows of new data against a fitted reference (the seed's API).

    Parameters
    ----------
    window_size:
        ``detect_drift`` compares the last ``window_size`` rows it is given.
    threshold:
        Family-wise significance level of the decision (Bonferroni over features).
    n_bins:
        Bins of the reference profile (for KL and chi-square on numeric features).
    max_history:
        Results kept in ``drift_history`` (oldest dropped first).
    clock:
        Returns the current time for the result's timestamp (default: UTC now).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> detector = ConceptDriftDetector(window_size=500).fit(rng.normal(size=5000))
    >>> detector.detect_drift(rng.normal(size=500)).drift_detected
    False
    >>> result = detector.detect_drift(rng.normal(1.0, 1.0, size=800))
    >>> result.drift_detected, sorted(result.individual_scores), len(detector.drift_history)
    (True, ['chi_square', 'kl', 'ks', 'wasserstein'], 2)
    """

    def __init__(
        self,
        window_size: int = 1000,
        threshold: float = 0.05,
        *,
        n_bins: int = 10,
        max_history: int = 1000,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.window_size = window_size
        self.threshold = threshold
        self.n_bins = n_bins
        self.max_history = max_history
        self.clock = clock

    def fit(self, reference: Any) -> ConceptDriftDetector:
        """Profile the reference data (1-D values, a table, or a fitted :class:`Profile`)."""
        if self.window_size < 1:
            raise ValidationError(f"window_size must be at least 1, got {self.window_size}")
        if isinstance(reference, Profile):
            self.profile_ = reference
        else:
            self.profile_ = Profile(n_bins=self.n_bins).fit(_as_table(reference))
        self._history: deque[ConceptDriftResult] = deque(maxlen=self.max_history)
        return self

    def detect_drift(self, current: Any) -> ConceptDriftResult:
        """Test the last ``window_size`` rows of ``current`` against the reference."""
        if not hasattr(self, "profile_"):
            raise ValidationError("this ConceptDriftDetector is not fitted yet; call fit() first")
        window = _last_rows(_as_table(current), self.window_size)
        methods = {
            name: "ks" if feature.kind == "numeric" else "chisquare"
            for name, feature in self.profile_.features_.items()
        }
        report = compare(
            self.profile_,
            window,
            method=methods,
            alpha=self.threshold,
            extra_methods=tuple(_METHOD_OF.values()),
        )
        result = ConceptDriftResult(
            drift_detected=report.drift_detected,
            drift_score=_drift_score(report),
            individual_scores=_scores(report),
            timestamp=(self.clock or _utc_now)(),
            n_current=report.n_current,
            report=report,
        )
        self._history.append(result)
        return result

    @property
    def drift_history(self) -> list[ConceptDriftResult]:
        """Past results, oldest first."""
        if not hasattr(self, "_history"):
            raise ValidationError("this ConceptDriftDetector is not fitted yet; call fit() first")
        return list(self._history)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _as_table(data: Any) -> Any:
    array = data if isinstance(data, np.ndarray) else None
    if array is None and isinstance(data, list | tuple):
        array = np.asarray(data)
    if array is not None and array.ndim == 1:
        return {"value": array}
    return data


def _last_rows(data: Any, n: int) -> Any:
    if isinstance(data, Mapping):
        return {k: np.asarray(v)[-n:] for k, v in data.items()}
    if isinstance(data, np.ndarray):
        return data[-n:]
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return data.iloc[-n:]
    if module == "polars":
        return data.slice(max(0, data.height - n))
    if module == "pyarrow":
        return data.slice(max(0, data.num_rows - n))
    return data


def _scores(report: DriftReport) -> dict[str, float]:
    out = dict.fromkeys(_SCORES, 0.0)
    for feature in report.features.values():
        for score, method in _METHOD_OF.items():
            result = feature.extra.get(method)
            value = result.statistic if result is not None else None
            if feature.method == method:
                value = feature.statistic
            if value is not None:
                out[score] = max(out[score], abs(float(value)))
    return out


def _drift_score(report: DriftReport) -> float:
    adjusted = []
    m = sum(1 for f in report.features.values() if f.p_value is not None)
    m += sum(1 for f in report.features.values() if f.missing_p_value is not None)
    for feature in report.features.values():
        if feature.p_value is not None:
            adjusted.append(min(1.0, feature.p_value * m))
    return 1.0 - min(adjusted) if adjusted else 0.0
