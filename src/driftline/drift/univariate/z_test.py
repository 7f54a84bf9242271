"""Two-proportion Z-test."""

from __future__ import annotations

import math

from scipy import stats

from driftline.drift._samples import CategoricalPair
from driftline.drift.univariate._base import UnivariateResult, UnivariateTest
from driftline.exceptions import ValidationError

__all__ = ["ProportionZTest", "two_proportion_z"]


class ProportionZTest(UnivariateTest):
    """Z-test that a binary feature has the same share of its first label on both sides.

    Uses the pooled-variance statistic ``z = (q - p) / sqrt(s (1 - s) (1/n + 1/m))`` (its
    square equals the 2 x 2 chi-square statistic). Effect size: Cohen's h. Needs exactly two
    reference labels; the statistic is signed (positive: the share grew).

    Parameters
    ----------
    threshold:
        Significance level: drift when ``p_value <= threshold``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref, cur = rng.choice(["y", "n"], 2000, p=[0.3, 0.7]), rng.choice(["y", "n"], 2000)
    >>> ProportionZTest().compare(ref, cur).drift_detected
    True
    """

    name = "ztest"
    kinds = frozenset({"categorical"})
    has_p_value = True

    def __init__(self, threshold: float = 0.05) -> None:
        self.threshold = threshold

    def _categorical(self, pair: CategoricalPair) -> UnivariateResult:
        if len(pair.labels) != 2:
            raise ValidationError(
                f"the z-test needs exactly 2 reference categories, found {len(pair.labels)}"
            )
        n_ref, n_cur = pair.n_reference, pair.n_current
        z, p = two_proportion_z(int(pair.ref_counts[0]), n_ref, int(pair.cur_counts[0]), n_cur)
        h = cohens_h(pair.ref_counts[0] / n_ref, pair.cur_counts[0] / n_cur)
        return self._result(z, p, h, (n_ref, n_cur))


def two_proportion_z(x_ref: int, n_ref: int, x_cur: int, n_cur: int) -> tuple[float, float]:
    """Signed z of ``x_cur / n_cur - x_ref / n_ref`` and its two-sided p-value."""
    if n_ref <= 0 or n_cur <= 0:
        raise ValidationError("a proportion test needs at least one value on each side")
    pooled = (x_ref + x_cur) / (n_ref + n_cur)
    variance = pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur)
    if variance <= 0:  # both shares are 0 or both are 1: no difference to test
        return 0.0, 1.0
    z = (x_cur / n_cur - x_ref / n_ref) / math.sqrt(variance)
    return z, float(2 * stats.norm.sf(abs(z)))


def cohens_h(p: float, q: float) -> float:
    """Cohen's h effect size between two proportions (absolute value)."""
    return abs(2 * math.asin(math.sqrt(q)) - 2 * math.asin(math.sqrt(p)))
