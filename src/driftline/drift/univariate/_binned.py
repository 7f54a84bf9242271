"""Bucket proportions shared by the binned tests (PSI, Jensen-Shannon, KL, Hellinger).

Numeric features use the bins whose edges were fixed from the reference's quantiles (the outer
bins are open, so nothing falls outside). Categorical features use the reference's labels
(plus ``other`` when the reference folded rare labels); values the reference never saw are not
in any bucket: they are the feature's own ``unseen`` signal, never an instant alarm here.
"""

from __future__ import annotations

import numpy as np

from driftline.drift._samples import CategoricalPair, NumericPair, Pair
from driftline.drift.univariate._base import UnivariateResult, UnivariateTest

__all__ = ["FLOOR", "BinnedDistance", "bucket_counts", "proportions"]

# Proportions below this are raised to it where a logarithm needs a positive value (PSI, KL);
# the usual choice in drift tooling, so values compare with other tools.
FLOOR = 1e-4


def bucket_counts(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current counts on the same buckets."""
    if isinstance(pair, NumericPair):
        return pair.reference.bin_counts, pair.current.bin_counts
    if isinstance(pair, CategoricalPair):
        return pair.ref_counts, pair.cur_counts
    raise TypeError(type(pair).__name__)


def proportions(pair: Pair, floor: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current shares per bucket, raised to ``floor`` where smaller."""
    ref, cur = bucket_counts(pair)
    p = ref / ref.sum()
    q = cur / cur.sum()
    if floor:
        p, q = np.maximum(p, floor), np.maximum(q, floor)
    return p, q


class BinnedDistance(UnivariateTest):
    """A distance between bucket shares, for numeric and categorical features alike.

    Subclasses set ``name`` and ``floor`` and compute :meth:`_distance` of the reference and
    current shares; the statistic is also the effect size, and there is no p-value.
    """

    kinds = frozenset({"numeric", "categorical"})
    has_p_value = False
    floor = 0.0

    def __init__(self, threshold: float = 0.1) -> None:
        self.threshold = threshold

    def _distance(self, p: np.ndarray, q: np.ndarray) -> float:
        raise NotImplementedError

    def _numeric(self, pair: NumericPair) -> UnivariateResult:
        return self._binned(pair, (pair.reference.n, pair.current.n))

    def _categorical(self, pair: CategoricalPair) -> UnivariateResult:
        return self._binned(pair, (pair.n_reference, pair.n_current))

    def _binned(self, pair: Pair, n: tuple[int, int]) -> UnivariateResult:
        value = self._distance(*proportions(pair, self.floor))
        return self._result(value, None, value, n)
