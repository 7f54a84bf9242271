"""Pearson's chi-square test on bucket counts."""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import stats

from driftline.drift._samples import CategoricalPair, NumericPair, Pair
from driftline.drift.univariate._base import UnivariateResult, UnivariateTest
from driftline.drift.univariate._binned import bucket_counts
from driftline.exceptions import ValidationError

__all__ = ["ChiSquare"]


class ChiSquare(UnivariateTest):
    """Chi-square test that both sides share one distribution over the buckets.

    ``mode="homogeneity"`` (default) treats the reference as a sample too: the 2 x K table
    test, equal to ``scipy.stats.chi2_contingency(table, correction=False)``.
    ``mode="goodness_of_fit"`` treats the reference shares as the truth, as most drift tools
    do, equal to ``scipy.stats.chisquare(current, f_exp=reference_share * n_current)``; it
    over-alarms when the reference is small. Buckets whose expected count is under
    ``min_expected`` (Cochran's rule) are pooled into one first; set it to 0 to keep all.
    Values the reference never saw are not in the buckets (they are the ``unseen`` signal),
    so a new label never forces an alarm. Effect size: Cramer's V.

    Parameters
    ----------
    threshold:
        Significance level: drift when ``p_value <= threshold``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.choice(["a", "b", "c"], 1000, p=[0.5, 0.3, 0.2])
    >>> cur = rng.choice(["a", "b", "c", "new"], 1000, p=[0.3, 0.3, 0.3, 0.1])
    >>> result = ChiSquare().compare(ref, cur)
    >>> result.drift_detected, result.n_current
    (True, 897)
    """

    name = "chisquare"
    kinds = frozenset({"numeric", "categorical"})
    has_p_value = True

    def __init__(
        self,
        threshold: float = 0.05,
        *,
        mode: Literal["homogeneity", "goodness_of_fit"] = "homogeneity",
        min_expected: float = 5.0,
    ) -> None:
        self.threshold = threshold
        self.mode = mode
        self.min_expected = min_expected

    def _numeric(self, pair: NumericPair) -> UnivariateResult:
        return self._counts(pair)

    def _categorical(self, pair: CategoricalPair) -> UnivariateResult:
        return self._counts(pair)

    def _counts(self, pair: Pair) -> UnivariateResult:
        ref, cur = (c.astype(np.float64) for c in bucket_counts(pair))
        n = (int(ref.sum()), int(cur.sum()))
        keep = (ref + cur) > 0
        ref, cur = ref[keep], cur[keep]
        if self.mode == "homogeneity":
            statistic, dof, scale = self._homogeneity(ref, cur)
        elif self.mode == "goodness_of_fit":
            statistic, dof, scale = self._goodness_of_fit(ref, cur)
        else:
            raise ValidationError(
                f"chisquare mode must be 'homogeneity' or 'goodness_of_fit', got {self.mode!r}"
            )
        p = float(stats.chi2.sf(statistic, dof)) if dof > 0 else 1.0
        effect = float(np.sqrt(statistic / scale)) if scale > 0 else 0.0
        return self._result(statistic, p, effect, n)

    def _homogeneity(self, ref: np.ndarray, cur: np.ndarray) -> tuple[float, int, float]:
        table = np.vstack([ref, cur])
        expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
        table, expected = _pool(table, expected, self.min_expected)
        statistic = float(np.sum((table - expected) ** 2 / expected))
        return statistic, table.shape[1] - 1, float(table.sum())

    def _goodness_of_fit(self, ref: np.ndarray, cur: np.ndarray) -> tuple[float, int, float]:
        seen = ref > 0
        observed = cur[seen][None, :]
        expected = (ref[seen] / ref.sum() * cur[seen].sum())[None, :]
        observed, expected = _pool(observed, expected, self.min_expected)
        statistic = float(np.sum((observed - expected) ** 2 / expected))
        k = observed.shape[1]
        return statistic, k - 1, float(observed.sum() * max(k - 1, 1))


def _pool(table: np.ndarray, expected: np.ndarray, minimum: float) -> tuple[np.ndarray, np.ndarray]:
    """Pool buckets whose smallest expected count is under ``minimum`` (Cochran's rule).

    The small buckets become one; if that one is still small, it joins the bucket with the
    smallest expected count among the others.
    """
    small = expected.min(axis=0) < minimum
    if not small.any() or small.all():
        return table, expected
    table = np.column_stack([table[:, ~small], table[:, small].sum(axis=1)])
    expected = np.column_stack([expected[:, ~small], expected[:, small].sum(axis=1)])
    if expected[:, -1].min() < minimum:
        target = int(np.argmin(expected[:, :-1].min(axis=0)))
        table[:, target] += table[:, -1]
        expected[:, target] += expected[:, -1]
        table, expected = table[:, :-1], expected[:, :-1]
    return table, expected
