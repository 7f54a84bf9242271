"""Performance without labels: confidence-based estimation (in the spirit of NannyML's CBPE).

A classifier's probabilities, once calibrated on labelled reference data, say how often it is
right: if the calibrated probability of the predicted class is 0.8 on average, about 80% of the
predictions are correct. The estimate holds as long as the relation between features and label
does not change (covariate shift only); it cannot see concept drift, so every result is marked
as an estimate and should be replaced by measured performance when labels arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression

from driftline.exceptions import ValidationError

__all__ = ["ConfidenceBasedEstimator", "PerformanceEstimate"]


@dataclass(frozen=True)
class PerformanceEstimate:
    """Estimated metrics for a window without labels."""

    accuracy: float
    n: int
    is_estimate: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, always with ``"is_estimate": true``."""
        return {"accuracy": self.accuracy, "n": self.n, "is_estimate": True}


class ConfidenceBasedEstimator:
    """Calibrate top-class confidence on labelled reference data, then estimate accuracy.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.5, 1.0, 4000)                   # confidence of the top class
    >>> correct = rng.uniform(size=4000) < p              # right as often as it claims
    >>> est = ConfidenceBasedEstimator().fit(p, correct)
    >>> round(est.estimate(rng.uniform(0.5, 1.0, 4000)).accuracy, 2)
    0.75
    """

    def fit(self, confidence: Any, correct: Any) -> ConfidenceBasedEstimator:
        """Learn the map from confidence to the chance of being right."""
        conf = _as_confidence(confidence)
        hits = np.asarray(correct, dtype=float)
        if len(conf) != len(hits) or len(conf) < 20:
            raise ValidationError(
                "fit needs at least 20 reference rows with confidence and "
                "correctness of the same length"
            )
        self.calibrator_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        self.calibrator_.fit(conf, hits)
        return self

    def estimate(self, confidence: Any) -> PerformanceEstimate:
        """Estimated accuracy of predictions with these confidences."""
        if not hasattr(self, "calibrator_"):
            raise ValidationError("this estimator is not fitted yet; call fit() first")
        conf = _as_confidence(confidence)
        if not len(conf):
            raise ValidationError("estimate needs at least one prediction")
        return PerformanceEstimate(float(np.mean(self.calibrator_.predict(conf))), len(conf))


def _as_confidence(values: Any) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim == 2:  # class probabilities: the top class's
        array = array.max(axis=1)
    if array.ndim != 1 or not np.all(np.isfinite(array)):
        raise ValidationError("confidence must be finite probabilities, one per prediction")
    return array
