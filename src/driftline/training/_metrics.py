"""The metric table (name, task, direction) and one weighted kernel per metric.

Every kernel reads a weight matrix ``W`` of shape ``(m, n)`` and returns ``m`` metric values,
one per row of ``W``. One code path serves three uses:

- the whole holdout is ``W = ones((1, n))``;
- the slices of a column are 0/1 row masks, one row of ``W`` per slice value;
- bootstrap resamples are row multiplicities (how often each row was drawn).

A value is NaN where the metric is undefined for that row of ``W`` (an empty slice, one class
only for ROC AUC, a constant target for R2); callers turn NaN into ``None`` with a reason.
With ``W = ones`` each kernel equals the scikit-learn function of the same name (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from driftline.exceptions import ValidationError
from driftline.training._inputs import Predictions, Task, Truth

__all__ = [
    "METRICS",
    "MetricSpec",
    "metric_names",
    "metric_values",
    "row_losses",
    "unavailable_reason",
]

Kernel = Callable[[np.ndarray, Truth, Predictions], np.ndarray]
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its task, its direction, whether it reads probabilities."""

    name: str
    task: Task
    higher_is_better: bool
    needs_proba: bool
    undefined_when: str  # why a computed value can be undefined (an empty slice aside)


METRICS: Mapping[str, MetricSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            MetricSpec("accuracy", "classification", True, False, "never on a non-empty set"),
            MetricSpec(
                "balanced_accuracy", "classification", True, False, "never on a non-empty set"
            ),
            MetricSpec(
                "f1",
                "classification",
                True,
                False,
                "no row has the positive label in y_true "
                "or in the predictions (F1 divides by their count)",
            ),
            MetricSpec("f1_macro", "classification", True, False, "never on a non-empty set"),
            MetricSpec(
                "roc_auc",
                "classification",
                True,
                True,
                "y_true holds one class only (ROC AUC needs positive and negative rows)",
            ),
            MetricSpec("log_loss", "classification", False, True, "never on a non-empty set"),
            MetricSpec("brier", "classification", False, True, "never on a non-empty set"),
            MetricSpec("rmse", "regression", False, False, "never on a non-empty set"),
            MetricSpec("mae", "regression", False, False, "never on a non-empty set"),
            MetricSpec(
                "r2", "regression", True, False, "y_true is constant (R2 divides by its variance)"
            ),
        )
    }
)


def metric_names(task: Task) -> tuple[str, ...]:
    """The metrics of ``task``, in table order."""
    return tuple(name for name, spec in METRICS.items() if spec.task == task)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    """Mean of the finite entries of each row; NaN for a row with none (without a warning)."""
    finite = np.isfinite(values)
    return _ratio(np.where(finite, values, 0.0).sum(axis=1), finite.sum(axis=1).astype(float))


def _weighted_mean(w: np.ndarray, per_row: np.ndarray) -> np.ndarray:
    return _ratio(w @ per_row, w.sum(axis=1))


def _accuracy(w: np.ndarray, truth: Truth, pred: Predictions) -> np.ndarray:
    return _weighted_mean(w, (truth.values == pred.values).astype(np.float64))


def _class_counts(
    w: np.ndarray, truth: Truth, pred: Predictions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, true counts and predicted counts per class, each ``(m, K)``."""
    return w @ (truth.onehot * pred.onehot), w @ truth.onehot, w @ pred.onehot


def _balanced_accuracy(w: np.ndarray, truth: Truth, pred: Predictions) -> np.ndarray:
    # Classes absent from y_true in a slice or resample are left out, as scikit-learn does.
    tp, true_count, _ = _class_counts(w, truth, pred)
    return _nanmean_rows(_ratio(tp, true_count))


def _f1_per_class(w: np.ndarray, truth: Truth, pred: Predictions) -> np.ndarray:
    tp, true_count, pred_count = _class_counts(w, truth, pred)
    return _ratio(2.0 * tp, true_count + pred_count)


def _f1(w: np.ndarray, truth: Truth, pred: Predictions) -> np.ndarray:
    return _f1_per_class(w, truth, pred)[:, truth.pos]


def _f1_macro(w: np.ndarray, truth: Truth, pred: Predictions) -> np.ndarray:
    # A class neither true nor predicted has no F1; scikit-learn leaves it out of the labels.
    return _nanmean_rows(_f1_per_class(w, truth, pred))


def _weighted_auc(w: np.ndarray, score: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC per row of ``w`` (ties count one half), from one sort of ``score``.

    Each positive row wins over the (weighted) negatives scored below it and half of those tied
    with it; both counts are read from one cumulative sum over the negatives in score order.
    """
    by_row = w.T  # (n, m): gathering rows copies contiguous memory when w is a transposed view
    order = np.argsort(score, kind="stable")
    ranked, is_pos = score[order], positive[order]
    new_group = np.r_[True, ranked[1:] != ranked[:-1]]
    starts = np.flatnonzero(new_group)
    ends = np.r_[starts[1:], len(ranked)]
    group = (np.cumsum(new_group) - 1)[is_pos]
    negatives_before = np.r_[0, np.cumsum(~is_pos)]
    neg_cum = np.zeros((int((~is_pos).sum()) + 1, by_row.shape[1]))
    np.cumsum(by_row[order[~is_pos]], axis=0, out=neg_cum[1:])
    below = neg_cum[negatives_before[starts[group]]]
    up_to = neg_cum[negatives_before[ends[group]]]
    pos_weights = by_row[order[is_pos]]
    wins = 0.5 * np.einsum("ij,ij->j", pos_weights, below + up_to)
    return _ratio(wins, pos_weights.sum(axis=0) * neg_cum[-1])


def _roc_auc(w: np.ndarray, truth: Truth, pred: Predictions) -> np.ndarray:
    proba = _proba(pred)
    if len(truth.labels) == 2:
        return _weighted_auc(w, proba[:, truth.pos], truth.values == truth.pos)
    # One-vs-rest macro average over the classes that have both positives and negatives.
    per_class = [_weighted_auc(w, proba[:, k], truth.values == k) for k in range(len(truth.labels))]
    return _nanmean_rows(np.column_stack(per_class))


def _proba(pred: Predictions) -> np.ndarray:
    if pred.proba is None:  # unavailable_reason() rules this out before any kernel runs
        raise ValidationError("this metric needs predicted probabilities")
    return pred.proba


def _log_loss_rows(truth: Truth, pred: Predictions) -> np.ndarray:
    p_true = _proba(pred)[np.arange(truth.n), truth.values]
    return -np.log(np.clip(p_true, _EPS, 1.0 - _EPS))


def _brier_rows(truth: Truth, pred: Predictions) -> np.ndarray:
    squared = ((truth.onehot - _proba(pred)) ** 2).sum(axis=1)
    # scikit-learn's convention: halved (range [0, 1]) for two labels, not for more.
    return 0.5 * squared if len(truth.labels) == 2 else squared


def row_losses(metric: str, truth: Truth, pred: Predictions) -> np.ndarray:
    """Per-row loss whose mean the metric is (or is a monotone function of)."""
    if metric == "log_loss":
        return _log_loss_rows(truth, pred)
    if metric == "brier":
        return _brier_rows(truth, pred)
    if metric == "mae":
        return np.abs(truth.values - pred.values)
    if metric in ("rmse", "r2"):
        return (truth.values - pred.values) ** 2
    return (truth.values != pred.values).astype(np.float64)


def _mean_loss(metric: str) -> Kernel:
    def kernel(w: np.ndarray, truth: Truth, pred: Predictions) -> np.ndarray:
        return _weighted_mean(w, row_losses(metric, truth, pred))

    return kernel


def _rmse(w: np.ndarray, truth: Truth, pred: Predictions) -> np.ndarray:
    return np.sqrt(_weighted_mean(w, row_losses("rmse", truth, pred)))


def _r2(w: np.ndarray, truth: Truth, pred: Predictions) -> np.ndarray:
    # Centre on the overall mean first so the variance of a slice loses little to cancellation.
    centred = truth.values - truth.values.mean()
    total = w.sum(axis=1)
    first, second = w @ centred, w @ centred**2
    spread = second - _ratio(first**2, total)
    spread = np.where(spread > 1e-12 * second, spread, 0.0)
    return 1.0 - _ratio(w @ row_losses("r2", truth, pred), spread)


_KERNELS: dict[str, Kernel] = {
    "accuracy": _accuracy,
    "balanced_accuracy": _balanced_accuracy,
    "f1": _f1,
    "f1_macro": _f1_macro,
    "roc_auc": _roc_auc,
    "log_loss": _mean_loss("log_loss"),
    "brier": _mean_loss("brier"),
    "rmse": _rmse,
    "mae": _mean_loss("mae"),
    "r2": _r2,
}


def unavailable_reason(metric: str, truth: Truth, pred: Predictions) -> str | None:
    """Why ``metric`` cannot be computed at all for these inputs, or None when it can."""
    spec = METRICS[metric]
    if spec.needs_proba and pred.proba is None:
        return "needs predicted probabilities"
    if metric == "f1" and len(truth.labels) != 2:
        return (
            f"binary F1 needs exactly two labels, found {len(truth.labels)} "
            f"{list(truth.labels)[:10]}; use f1_macro (or pass labels=)"
        )
    return None


def metric_values(metric: str, weights: np.ndarray, truth: Truth, pred: Predictions) -> np.ndarray:
    """``metric`` for each row of ``weights`` (shape ``(m, n)``); NaN where undefined."""
    return _KERNELS[metric](weights, truth, pred)
