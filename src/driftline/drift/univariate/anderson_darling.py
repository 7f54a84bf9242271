"""Two-sample Anderson-Darling test (Scholz and Stephens 1987, midrank version)."""

from __future__ import annotations

import math

import numpy as np

from driftline.drift._samples import NumericPair, Pooled
from driftline.drift.univariate._base import UnivariateResult, UnivariateTest
from driftline.exceptions import ValidationError

__all__ = ["AndersonDarling"]

# Scholz and Stephens (1987), Table 2: critical values b0 + b1 / sqrt(m) + b2 / m of the
# standardised statistic at these significance levels (m = number of samples - 1 = 1 here).
_SIGNIFICANCE = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
_B0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
_B1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
_B2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
_CRITICAL = _B0 + _B1 + _B2
# log(significance) as a quadratic in the critical value, least squares (Scholz & Stephens).
_LOG_P_FIT = np.polynomial.polynomial.polyfit(_CRITICAL, np.log(_SIGNIFICANCE), 2)


class AndersonDarling(UnivariateTest):
    """Anderson-Darling k-sample test for two samples, tail-weighted ECDF gap.

    Matches ``scipy.stats.anderson_ksamp([reference, current], variant="midrank")``: the
    standardised statistic, and the p-value interpolated from Scholz and Stephens' table, so
    it is clipped to [0.001, 0.25] (a feature can only be flagged when the corrected
    threshold is at least 0.001). Needs the exact values on both sides, at least 4 values in
    all and 2 distinct ones. Effect size: the KS statistic (largest ECDF gap).

    Parameters
    ----------
    threshold:
        Significance level: drift when ``p_value <= threshold``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> result = AndersonDarling().compare(rng.normal(size=300), rng.normal(0, 2, 300))
    >>> result.drift_detected, result.p_value
    (True, 0.001)
    """

    name = "andersondarling"
    kinds = frozenset({"numeric"})
    has_p_value = True

    def __init__(self, threshold: float = 0.05) -> None:
        self.threshold = threshold

    def _numeric(self, pair: NumericPair) -> UnivariateResult:
        ref, cur = pair.reference, pair.current
        if not pair.exact:
            raise ValidationError(
                "andersondarling needs the exact values of both sides; this reference is a "
                "quantile sketch (profile it with max_exact >= its row count, or pass raw data)"
            )
        pooled = pair.pooled
        if len(pooled.z) < 4 or len(pooled.ends) < 2:
            raise ValidationError("andersondarling needs 4 values in all and 2 distinct ones")
        a2 = _standardised(_a2akn(pooled, ref.n, cur.n), ref.n, cur.n)
        if a2 < _CRITICAL.min():
            p = float(_SIGNIFICANCE.max())
        elif a2 > _CRITICAL.max():
            p = float(_SIGNIFICANCE.min())
        else:
            p = math.exp(float(np.polynomial.polynomial.polyval(a2, _LOG_P_FIT)))
        d = pair.ecdf_distances[0]
        return self._result(a2, p, d, (ref.n, cur.n))


def _a2akn(pooled: Pooled, n_ref: int, n_cur: int) -> float:
    """Scholz and Stephens' midrank statistic A2akN (their equation 7)."""
    total = len(pooled.z)
    ends = pooled.ends
    sizes = np.diff(ends, prepend=-1).astype(np.float64)  # l_j
    below = (ends + 1) - sizes  # values strictly below each distinct value
    b = below + sizes / 2
    denom = b * (total - b) - total * sizes / 4
    out = 0.0
    for mine, n in ((pooled.is_ref, n_ref), (~pooled.is_ref, n_cur)):
        upto = np.cumsum(mine, dtype=np.int64)[ends].astype(np.float64)  # M_ij
        within = np.diff(upto, prepend=0.0)  # f_ij
        m_a = upto - within / 2
        out += float(np.sum(sizes / total * (total * m_a - b * n) ** 2 / denom)) / n
    return out * (total - 1) / total


def _standardised(a2akn: float, n_ref: int, n_cur: int) -> float:
    """``(A2akN - (k - 1)) / sigma`` with Scholz and Stephens' variance for k = 2 samples."""
    big_n, k = n_ref + n_cur, 2
    harmonic = 1 / n_ref + 1 / n_cur  # H
    partial = np.cumsum(1.0 / np.arange(1, big_n))  # S_j = sum_{t <= j} 1/t, j = 1..N-1
    h = float(partial[-1])
    i = np.arange(1, big_n - 1)
    g = float(np.sum((h - partial[i - 1]) / (big_n - i)))
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * harmonic
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * harmonic - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * harmonic + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    n = float(big_n)
    variance = (a * n**3 + b * n**2 + c * n + d) / ((n - 1) * (n - 2) * (n - 3))
    return (a2akn - (k - 1)) / math.sqrt(variance)
