"""Jensen-Shannon distance."""

from __future__ import annotations

import numpy as np

from driftline.drift._samples import CategoricalPair, NumericPair, Pair
from driftline.drift.univariate._base import UnivariateResult, UnivariateTest
from driftline.drift.univariate._binned import proportions

__all__ = ["JensenShannon"]


class JensenShannon(UnivariateTest):
    """Square root of the Jensen-Shannon divergence (base 2), between 0 and 1.

    Equals ``scipy.spatial.distance.jensenshannon(p, q, base=2)`` on the bucket shares (see
    ``_binned``); needs no smoothing, so empty buckets are fine.

    Parameters
    ----------
    threshold:
        Drift when the distance exceeds it.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref, cur = rng.choice(["a", "b", "c"], 3000), rng.choice(["a", "b"], 3000)
    >>> result = JensenShannon().compare(ref, cur)
    >>> result.drift_detected, round(result.statistic, 2)
    (True, 0.45)
    """

    name = "jensenshannon"
    kinds = frozenset({"numeric", "categorical"})
    has_p_value = False

    def __init__(self, threshold: float = 0.1) -> None:
        self.threshold = threshold

    def _numeric(self, pair: NumericPair) -> UnivariateResult:
        return self._binned(pair, (pair.reference.n, pair.current.n))

    def _categorical(self, pair: CategoricalPair) -> UnivariateResult:
        return self._binned(pair, (pair.n_reference, pair.n_current))

    def _binned(self, pair: Pair, n: tuple[int, int]) -> UnivariateResult:
        p, q = proportions(pair)
        m = (p + q) / 2
        divergence = (_kl_bits(p, m) + _kl_bits(q, m)) / 2
        value = float(np.sqrt(max(divergence, 0.0)))
        return self._result(value, None, value, n)


def _kl_bits(p: np.ndarray, m: np.ndarray) -> float:
    mask = p > 0  # 0 * log(0) is 0; m > 0 wherever p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / m[mask])))
