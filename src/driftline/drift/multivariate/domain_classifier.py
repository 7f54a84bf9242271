"""Domain classifier: can a model tell reference rows from current rows?"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from driftline.drift.multivariate._base import MultivariateResult, matrices
from driftline.exceptions import ValidationError

__all__ = ["DomainClassifier"]


class DomainClassifier:
    """Train a classifier to separate reference from current; its AUC measures the drift.

    A gradient-boosted tree model (scikit-learn's ``HistGradientBoostingClassifier``, which
    takes missing values and categories as they are) is fitted with ``n_splits``-fold
    cross-validation; the AUC of the out-of-fold predictions is the statistic, with the
    Hanley and McNeil (1982) standard error for its confidence interval. AUC 0.5 means the
    two sides cannot be told apart. Drift is flagged when the lower end of the
    ``confidence`` interval exceeds ``threshold``. Feature importances are the drop in AUC
    when one feature is shuffled in the held-out fold (permutation importance).

    Parameters
    ----------
    threshold:
        AUC the interval's lower end must exceed (0.55: a small but real separation).
    max_rows:
        Rows sampled per side (the cost grows with it).
    n_threads:
        OpenMP threads for the model (``None``: scikit-learn's default, every core).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = {"a": rng.normal(size=600), "b": rng.normal(size=600)}
    >>> cur = {"a": rng.normal(size=600), "b": rng.normal(1.0, 1.0, size=600)}
    >>> result = DomainClassifier(seed=0).compare(ref, cur)
    >>> result.drift_detected, max(result.feature_importances, key=result.feature_importances.get)
    (True, 'b')
    """

    name = "domain_classifier"

    def __init__(
        self,
        *,
        threshold: float = 0.55,
        confidence: float = 0.95,
        n_splits: int = 5,
        max_rows: int = 20_000,
        max_iter: int = 100,
        n_threads: int | None = 1,
        seed: int = 0,
    ) -> None:
        self.threshold = threshold
        self.confidence = confidence
        self.n_splits = n_splits
        self.max_rows = max_rows
        self.max_iter = max_iter
        self.n_threads = n_threads
        self.seed = seed

    def compare(
        self, reference: Any, current: Any, *, columns: Sequence[str] | None = None
    ) -> MultivariateResult:
        """Fit, cross-validate and explain (see class doc)."""
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold
        from threadpoolctl import threadpool_limits

        data = matrices(reference, current, columns=columns, max_rows=self.max_rows, seed=self.seed)
        x = np.vstack([data.reference, data.current])
        y = np.concatenate([np.zeros(len(data.reference)), np.ones(len(data.current))])
        if min(len(data.reference), len(data.current)) < self.n_splits:
            raise ValidationError(
                f"the domain classifier needs at least {self.n_splits} rows a side"
            )
        folds = StratifiedKFold(self.n_splits, shuffle=True, random_state=self.seed)
        scores = np.empty(len(y))
        importances = np.zeros(x.shape[1])
        # OpenMP threads spin while waiting; on a busy machine more threads than cores
        # made a fit 10x slower, so the thread count is an explicit parameter
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            for k, (train, test) in enumerate(folds.split(x, y)):
                model = self._model(data.categorical).fit(x[train], y[train])
                scores[test] = model.predict_proba(x[test])[:, 1]
                if k == 0:  # one held-out fold is enough to rank the features
                    importances = _permutation_drop(model, x[test], y[test], self.seed)
        auc = float(roc_auc_score(y, scores))
        low, high = _hanley_mcneil_ci(auc, len(data.reference), len(data.current), self.confidence)
        return MultivariateResult(
            method=self.name,
            statistic=auc,
            p_value=None,
            threshold=self.threshold,
            drift_detected=low > self.threshold,
            ci=(low, high),
            feature_importances=dict(zip(data.names, importances.tolist(), strict=True)),
            n_reference=len(data.reference),
            n_current=len(data.current),
        )

    def _model(self, categorical: np.ndarray) -> Any:
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            categorical_features=categorical if categorical.any() else None,
            random_state=self.seed,
        )


def _permutation_drop(model: Any, x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    base = roc_auc_score(y, model.predict_proba(x)[:, 1])
    drops = np.zeros(x.shape[1])
    for j in range(x.shape[1]):
        shuffled = x.copy()
        shuffled[:, j] = rng.permutation(shuffled[:, j])
        drops[j] = base - roc_auc_score(y, model.predict_proba(shuffled)[:, 1])
    return np.maximum(drops, 0.0)


def _hanley_mcneil_ci(auc: float, n_neg: int, n_pos: int, confidence: float) -> tuple[float, float]:
    """Normal interval from Hanley and McNeil's (1982) standard error of the AUC."""
    from scipy import stats

    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    variance = (
        auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)
    ) / (n_pos * n_neg)
    half = float(stats.norm.ppf(0.5 + confidence / 2)) * math.sqrt(max(variance, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)
