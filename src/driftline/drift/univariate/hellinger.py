"""Hellinger distance."""

from __future__ import annotations

import numpy as np

from driftline.drift._samples import CategoricalPair, NumericPair, Pair
from driftline.drift.univariate._base import UnivariateResult, UnivariateTest
from driftline.drift.univariate._binned import proportions

__all__ = ["Hellinger"]


class Hellinger(UnivariateTest):
    """``sqrt(1 - sum(sqrt(p * q)))`` over bucket shares, between 0 and 1.

    Equal to ``||sqrt(p) - sqrt(q)||_2 / sqrt(2)``; needs no smoothing. Binned like PSI.

    Parameters
    ----------
    threshold:
        Drift when the distance exceeds it.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> result = Hellinger().compare(rng.normal(size=5000), rng.normal(size=5000))
    >>> result.drift_detected
    False
    """

    name = "hellinger"
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
        affinity = float(np.sum(np.sqrt(p * q)))
        value = float(np.sqrt(max(1.0 - affinity, 0.0)))
        return self._result(value, None, value, n)
