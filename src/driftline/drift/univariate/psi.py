"""Population Stability Index."""

from __future__ import annotations

import numpy as np

from driftline.drift._samples import CategoricalPair, NumericPair, Pair
from driftline.drift.univariate._base import UnivariateResult, UnivariateTest
from driftline.drift.univariate._binned import FLOOR, proportions

__all__ = ["PopulationStabilityIndex"]


class PopulationStabilityIndex(UnivariateTest):
    """``sum((q - p) * ln(q / p))`` over buckets; the symmetrised KL divergence.

    ``p`` and ``q`` are the reference and current shares per bucket (see ``_binned``), each
    raised to at least 1e-4 so an empty bucket gives a large but finite value. Exact for the
    binned distributions (bins fixed from the reference); an approximation of the continuous
    divergence by construction. The usual reading: < 0.1 stable, 0.1-0.25 moderate, > 0.25
    major shift.

    Parameters
    ----------
    threshold:
        Drift when PSI exceeds it.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> result = PopulationStabilityIndex().compare(rng.normal(size=5000), rng.normal(size=5000))
    >>> result.drift_detected, result.statistic < 0.01
    (False, True)
    """

    name = "psi"
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
        value = float(np.sum((q - p) * np.log(q / p)))
        return self._result(value, None, value, n)
