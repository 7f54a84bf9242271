"""Kullback-Leibler divergence of the current distribution from the reference."""

from __future__ import annotations

import numpy as np

from driftline.drift._samples import CategoricalPair, NumericPair, Pair
from driftline.drift.univariate._base import UnivariateResult, UnivariateTest
from driftline.drift.univariate._binned import FLOOR, proportions

__all__ = ["KLDivergence"]


class KLDivergence(UnivariateTest):
    """``KL(reference || current) = sum(p * ln(p / q))`` over buckets, in nats.

    Shares are raised to at least 1e-4 so the value stays finite; equals
    ``scipy.stats.entropy(p, q)`` on those shares. Binned like PSI (see ``_binned``).

    Parameters
    ----------
    threshold:
        Drift when the divergence exceeds it.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> result = KLDivergence().compare(rng.normal(size=5000), rng.normal(1, 1, 5000))
    >>> result.drift_detected
    True
    """

    name = "kl"
    kinds = frozenset({"numeric", "categorical"})
    has_p_value = False

    def __init__(self, threshold: float = 0.1) -> None:
        self.threshold = threshold

    def _numeric(self, pair: NumericPair) -> UnivariateResult:
        return self._binned(pair, (pair.reference.n, pair.current.n))

    def _categorical(self, pair: CategoricalPair) -> UnivariateResult:
        return self._binned(pair, (pair.n_reference, pair.n_current))

    def _binned(self, pair: Pair, n: tuple[int, int]) -> UnivariateResult:
        p, q = proportions(pair, FLOOR)
        value = float(np.sum(p * np.log(p / q)))
        return self._result(max(value, 0.0), None, max(value, 0.0), n)
