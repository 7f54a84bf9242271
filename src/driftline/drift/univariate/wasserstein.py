"""Wasserstein (earth mover's) distance, normed by the reference's standard deviation."""

from __future__ import annotations

import numpy as np

from driftline.drift._samples import NumericPair
from driftline.drift.univariate._base import UnivariateResult, UnivariateTest

__all__ = ["Wasserstein"]


class Wasserstein(UnivariateTest):
    """Area between the two empirical CDFs, in units of the reference's standard deviation.

    The raw distance equals ``scipy.stats.wasserstein_distance``; the statistic divides it by
    the reference's population standard deviation (the pooled one when the reference is
    constant, and the statistic is 0.0 when both sides are the same constant). With a sketched
    side the statistic is within ``error_bound = sum(side error * side range) / std`` of the
    exact one, because a sketch's CDF differs from the true one only inside the side's range.

    Parameters
    ----------
    threshold:
        Drift when the normed distance exceeds it (0.1: a tenth of a standard deviation).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> result = Wasserstein().compare(rng.normal(size=2000), rng.normal(0.5, 1, 2000))
    >>> result.drift_detected, round(result.statistic, 2)
    (True, 0.53)
    """

    name = "wasserstein"
    kinds = frozenset({"numeric"})
    has_p_value = False

    def __init__(self, threshold: float = 0.1) -> None:
        self.threshold = threshold

    def _numeric(self, pair: NumericPair) -> UnivariateResult:
        ref, cur = pair.reference, pair.current
        distance = pair.ecdf_distances[1]
        scale = _scale(pair)
        statistic = distance / scale if scale > 0 else 0.0
        bound = None
        if not pair.exact and scale > 0:
            spread = ref.error_bound * (ref.maximum - ref.minimum)
            spread += cur.error_bound * (cur.maximum - cur.minimum)
            bound = spread / scale
        return self._result(statistic, None, statistic, (ref.n, cur.n), error_bound=bound)


def _scale(pair: NumericPair) -> float:
    ref, cur = pair.reference, pair.current
    if ref.std > 0:
        return ref.std
    n = ref.n + cur.n
    mean = (ref.n * ref.mean + cur.n * cur.mean) / n
    pooled_var = (
        ref.n * (ref.std**2 + (ref.mean - mean) ** 2)
        + cur.n * (cur.std**2 + (cur.mean - mean) ** 2)
    ) / n
    return float(np.sqrt(pooled_var))
