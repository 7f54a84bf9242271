"""Metrics of one model on a holdout, overall and per declared slice."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from driftline.exceptions import ValidationError
from driftline.training._inputs import (
    Predictions,
    SliceColumn,
    Task,
    Truth,
    as_slices,
    prepare_classification,
    prepare_regression,
)
from driftline.training._metrics import (
    METRICS,
    metric_names,
    metric_values,
    unavailable_reason,
)
from driftline.training._weights import slice_weights

__all__ = ["Evaluation", "evaluate"]

MetricDict = dict[str, float | None]


@dataclass(frozen=True)
class Evaluation:
    """Metrics overall and per slice value; ``None`` marks an undefined metric.

    ``per_slice[column][value]`` holds the same metrics as ``overall`` plus ``"n"``, the row
    count of that slice. ``undefined`` says why each ``None`` is ``None``: keyed by the metric
    name for the overall value and by ``"column=value/metric"`` for a slice. A metric that
    cannot be computed at all (no probabilities given, binary F1 on three labels) is ``None``
    overall and in every slice, with one reason under its own name.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> pred = np.where(rng.random(200) < 0.9, y, 1 - y)
    >>> ev = evaluate("classification", y, pred, slices={"half": np.repeat(["a", "b"], 100)})
    >>> round(ev.overall["accuracy"], 3), ev.per_slice["half"]["a"]["n"]
    (0.87, 100)
    >>> ev.overall["roc_auc"], ev.undefined["roc_auc"]
    (None, 'needs predicted probabilities')
    """

    task: Task
    n: int
    labels: tuple[Any, ...]
    overall: MetricDict
    per_slice: dict[str, dict[str, MetricDict]]
    undefined: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (a deep copy)."""
        return {
            "task": self.task,
            "n": self.n,
            "labels": list(self.labels),
            "overall": dict(self.overall),
            "per_slice": copy.deepcopy(self.per_slice),
            "undefined": dict(self.undefined),
        }


def _as_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _check_task(task: str) -> Task:
    if task == "classification":
        return "classification"
    if task == "regression":
        return "regression"
    raise ValidationError(f"task must be 'classification' or 'regression'; got {task!r}")


def evaluate(
    task: str,
    y_true: Any,
    y_pred: Any,
    proba: Any = None,
    *,
    slices: Any = None,
    labels: Any = None,
    pos_label: Any = None,
) -> Evaluation:
    """Every metric of ``task`` for one model, overall and per value of each slice column.

    Parameters
    ----------
    proba:
        Predicted probabilities, ``(n, n_labels)`` with columns in sorted-label order (as
        scikit-learn's ``predict_proba``), or one column for the positive label of a binary
        target. Without it the probability metrics are ``None``.
    slices:
        ``{column: values}`` or a DataFrame, one value per row.
    labels:
        All class labels, in the order of ``proba``'s columns; by default the sorted labels
        seen in ``y_true`` and ``y_pred``. Needed when the holdout lacks a class the model knows.
    pos_label:
        The positive label of a binary target (binary F1, ROC AUC, one-column ``proba``); by
        default the greater label, as scikit-learn's column 1.
    """
    kind = _check_task(task)
    values = {"y_true": y_true, "y_pred": y_pred}
    if kind == "regression":
        if proba is not None:
            raise ValidationError("proba is only for classification; drop it for regression")
        truth, (pred,) = prepare_regression(values)
    else:
        truth, (pred,) = prepare_classification(
            values, [("proba", proba)], labels=labels, pos_label=pos_label
        )
    columns = as_slices(slices, truth.n)
    names = metric_names(kind)
    undefined: dict[str, str] = {}
    overall, usable = _overall(names, truth, pred, undefined)
    per_slice = {
        col.name: _slice_metrics(col, truth, pred, names, usable, undefined) for col in columns
    }
    return Evaluation(kind, truth.n, truth.labels, overall, per_slice, undefined)


def _overall(
    names: tuple[str, ...], truth: Truth, pred: Predictions, undefined: dict[str, str]
) -> tuple[MetricDict, list[str]]:
    """Overall values, and the metrics that can be computed at all for these inputs."""
    overall: MetricDict = dict.fromkeys(names)
    usable = []
    ones = np.ones((1, truth.n))
    for name in names:
        reason = unavailable_reason(name, truth, pred)
        if reason is not None:
            undefined[name] = reason
            continue
        usable.append(name)
        overall[name] = _as_float(metric_values(name, ones, truth, pred)[0])
        if overall[name] is None:
            undefined[name] = METRICS[name].undefined_when
    return overall, usable


def _slice_metrics(
    column: SliceColumn,
    truth: Truth,
    pred: Predictions,
    names: tuple[str, ...],
    usable: list[str],
    undefined: dict[str, str],
) -> dict[str, MetricDict]:
    counts = np.bincount(column.codes, minlength=len(column.keys))
    table: dict[str, MetricDict] = {
        key: {"n": int(count), **dict.fromkeys(names)}
        for key, count in zip(column.keys, counts, strict=True)
    }
    for start, weights in slice_weights(column.codes, len(column.keys)):
        for name in usable:
            for offset, value in enumerate(metric_values(name, weights, truth, pred)):
                key = column.keys[start + offset]
                table[key][name] = _as_float(value)
                if table[key][name] is None:
                    empty = counts[start + offset] == 0
                    reason = "empty slice" if empty else METRICS[name].undefined_when
                    undefined[f"{column.name}={key}/{name}"] = reason
    return table
