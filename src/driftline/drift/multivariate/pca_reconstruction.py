"""PCA reconstruction error: does the current data leave the reference's main subspace?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from driftline.drift.multivariate._base import MultivariateResult, matrices
from driftline.exceptions import ValidationError

__all__ = ["PCAReconstruction"]


class PCAReconstruction:
    """Mean PCA reconstruction error of current rows relative to held-out reference rows.

    Features are standardised by the reference (categorical ones one-hot encoded), half the
    reference rows fit the principal components that keep ``variance`` of the variance, and
    the per-row squared reconstruction error is measured on the other reference half and on
    the current rows. The statistic is the ratio of their means (1.0: no change); the
    p-value is the one-sided Mann-Whitney test that current errors are larger. It catches
    changes in how features move together that no single feature shows. Importances: each
    feature's share of the increase in mean error.

    Parameters
    ----------
    threshold:
        Significance level: drift when ``p_value <= threshold``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=2000)
    >>> ref = {"a": a, "b": a + rng.normal(0, 0.1, 2000)}
    >>> c = rng.normal(size=2000)
    >>> cur = {"a": c, "b": -c + rng.normal(0, 0.1, 2000)}  # same marginals, new relation
    >>> result = PCAReconstruction().compare(ref, cur)
    >>> result.drift_detected, result.statistic > 10
    (True, True)
    """

    name = "pca_reconstruction"

    def __init__(
        self,
        *,
        threshold: float = 0.05,
        variance: float = 0.9,
        max_rows: int = 50_000,
        seed: int = 0,
    ) -> None:
        self.threshold = threshold
        self.variance = variance
        self.max_rows = max_rows
        self.seed = seed

    def compare(
        self, reference: Any, current: Any, *, columns: Sequence[str] | None = None
    ) -> MultivariateResult:
        """Fit on half the reference, compare errors (see class doc)."""
        if not 0 < self.variance <= 1:
            raise ValidationError(f"variance must lie in (0, 1], got {self.variance}")
        data = matrices(reference, current, columns=columns, max_rows=self.max_rows, seed=self.seed)
        ref, cur = data.one_hot()
        if len(ref) < 10 or len(cur) < 2:
            raise ValidationError("PCA reconstruction needs 10 reference and 2 current rows")
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(ref))
        fit_rows, held_rows = ref[order[: len(ref) // 2]], ref[order[len(ref) // 2 :]]
        mean = fit_rows.mean(axis=0)
        _, singular, components = np.linalg.svd(fit_rows - mean, full_matrices=False)
        explained = np.cumsum(singular**2) / max(float(np.sum(singular**2)), 1e-300)
        k = int(np.searchsorted(explained, self.variance - 1e-12) + 1)
        basis = components[:k]
        held_err = _errors(held_rows, mean, basis)
        cur_err = _errors(cur, mean, basis)
        ratio = float(cur_err.sum(axis=1).mean() / max(held_err.sum(axis=1).mean(), 1e-300))
        p = float(
            stats.mannwhitneyu(
                cur_err.sum(axis=1), held_err.sum(axis=1), alternative="greater"
            ).pvalue
        )
        return MultivariateResult(
            method=self.name,
            statistic=ratio,
            p_value=p,
            threshold=self.threshold,
            drift_detected=p <= self.threshold,
            feature_importances=_importances(data, held_err, cur_err),
            n_reference=len(data.reference),
            n_current=len(data.current),
        )


def _errors(rows: np.ndarray, mean: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Squared reconstruction error per row and encoded column."""
    centred = rows - mean
    return (centred - (centred @ basis.T) @ basis) ** 2


def _importances(data: Any, held_err: np.ndarray, cur_err: np.ndarray) -> dict[str, float]:
    increase = np.maximum(cur_err.mean(axis=0) - held_err.mean(axis=0), 0.0)
    per_feature = []
    col = 0
    for j in range(len(data.names)):
        width = 1
        if data.categorical[j]:
            labels = np.unique(data.reference[:, j][~np.isnan(data.reference[:, j])])
            width = min(len(labels), 20)
        per_feature.append(float(increase[col : col + width].sum()))
        col += width
    total = sum(per_feature) or 1.0
    return {name: v / total for name, v in zip(data.names, per_feature, strict=True)}
