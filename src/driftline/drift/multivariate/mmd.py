"""Maximum mean discrepancy with a permutation test."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from driftline.drift.multivariate._base import MultivariateResult, matrices
from driftline.exceptions import ValidationError

__all__ = ["MMD"]


class MMD:
    """Kernel two-sample test (Gretton et al. 2012) on a subsample of each side.

    Rows are encoded like :class:`PCAReconstruction` (standardised, one-hot), ``max_rows``
    are drawn per side, and the unbiased squared MMD with a Gaussian kernel (bandwidth: the
    median pairwise distance) is the statistic. The p-value is the share of
    ``n_permutations`` random relabellings of the pooled rows whose statistic is at least
    as large (with the +1 correction, so it is never 0). The kernel matrix is computed once.

    Parameters
    ----------
    threshold:
        Significance level: drift when ``p_value <= threshold``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = {"a": rng.normal(size=400), "b": rng.normal(size=400)}
    >>> cur = {"a": rng.normal(size=400), "b": rng.normal(size=400)}
    >>> MMD(seed=1).compare(ref, cur).drift_detected
    False
    """

    name = "mmd"

    def __init__(
        self,
        *,
        threshold: float = 0.05,
        max_rows: int = 1000,
        n_permutations: int = 200,
        seed: int = 0,
    ) -> None:
        self.threshold = threshold
        self.max_rows = max_rows
        self.n_permutations = n_permutations
        self.seed = seed

    def compare(
        self, reference: Any, current: Any, *, columns: Sequence[str] | None = None
    ) -> MultivariateResult:
        """Subsample, build the kernel, permute (see class doc)."""
        data = matrices(reference, current, columns=columns, max_rows=self.max_rows, seed=self.seed)
        ref, cur = data.one_hot()
        m, n = len(ref), len(cur)
        if m < 2 or n < 2:
            raise ValidationError("MMD needs at least 2 rows on each side")
        pooled = np.vstack([ref, cur])
        sq = np.sum(pooled**2, axis=1)
        dist2 = np.maximum(sq[:, None] + sq[None, :] - 2 * pooled @ pooled.T, 0.0)
        off_diagonal = dist2[np.triu_indices(m + n, k=1)]
        bandwidth2 = float(np.median(off_diagonal)) or 1.0
        kernel = np.exp(-dist2 / bandwidth2)
        labels = np.concatenate([np.ones(m, dtype=bool), np.zeros(n, dtype=bool)])
        observed = _mmd2(kernel, labels)
        rng = np.random.default_rng(self.seed)
        exceed = sum(
            _mmd2(kernel, rng.permutation(labels)) >= observed for _ in range(self.n_permutations)
        )
        p = (exceed + 1) / (self.n_permutations + 1)
        return MultivariateResult(
            method=self.name,
            statistic=float(observed),
            p_value=float(p),
            threshold=self.threshold,
            drift_detected=p <= self.threshold,
            n_reference=m,
            n_current=n,
        )


def _mmd2(kernel: np.ndarray, is_ref: np.ndarray) -> float:
    """Unbiased squared MMD for one labelling of the pooled rows."""
    a, b = is_ref, ~is_ref
    m, n = int(a.sum()), int(b.sum())
    kxx = kernel[np.ix_(a, a)]
    kyy = kernel[np.ix_(b, b)]
    kxy = kernel[np.ix_(a, b)]
    xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    yy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(xx + yy - 2 * kxy.mean())
