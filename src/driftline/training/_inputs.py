"""Check and encode what evaluation reads: targets, predictions, probabilities and slices.

One rule set for every caller (``evaluate`` and ``compare``):

- targets and predictions are 1-D with one value per row (a column vector is accepted);
  a missing value (None, NaN) is an error naming the argument and the first bad row;
- classification labels are numbers or strings, not both; they are encoded as integer codes
  into ``labels`` (sorted union of everything seen, or the caller's ``labels=``);
- probabilities are ``(n, n_labels)`` with columns in ``labels`` order, or one column holding
  the probability of the positive label of a binary target; rows must sum to 1;
- a slice column groups rows by value; a missing value is its own group ``"<missing>"`` and an
  unused pandas category is an empty group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from driftline.exceptions import ValidationError

__all__ = [
    "MISSING_SLICE",
    "Predictions",
    "SliceColumn",
    "Task",
    "Truth",
    "as_slices",
    "prepare_classification",
    "prepare_regression",
]

Task = Literal["classification", "regression"]
MISSING_SLICE = "<missing>"
# float32 probabilities of a many-class model drift from 1 by a few ulps per column.
_ROW_SUM_TOLERANCE = 1e-5
_NUMBER_KINDS = {"integer", "floating", "mixed-integer-float", "boolean", "decimal"}


@dataclass(frozen=True, eq=False)
class Truth:
    """The true targets in engine form."""

    task: Task
    n: int
    values: np.ndarray  # regression: float64; classification: int64 codes into labels
    onehot: np.ndarray  # classification: (n, K) float64; regression: (n, 0)
    labels: tuple[Any, ...] = ()
    pos: int = -1  # index of the positive label when there are exactly two labels


@dataclass(frozen=True, eq=False)
class Predictions:
    """One model's predictions in engine form, aligned with :class:`Truth`."""

    values: np.ndarray  # same encoding as Truth.values
    onehot: np.ndarray  # same encoding as Truth.onehot
    proba: np.ndarray | None = None  # (n, K) float64, columns in labels order


@dataclass(frozen=True, eq=False)
class SliceColumn:
    """Rows grouped by the value of one declared slice column."""

    name: str
    keys: tuple[str, ...]
    codes: np.ndarray  # (n,) int64 index into keys


def _vector(values: Any, name: str) -> np.ndarray:
    if values is None:
        raise ValidationError(f"{name} is required")
    arr = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValidationError(
            f"{name} must be one-dimensional (one value per row); got shape {arr.shape}"
        )
    return arr


def _check_length(arr: np.ndarray, name: str, n: int) -> None:
    if len(arr) != n:
        raise ValidationError(f"{name} has {len(arr)} rows but y_true has {n}; align them")


def _check_not_missing(arr: np.ndarray, name: str) -> None:
    missing = np.asarray(pd.isna(arr), dtype=bool)
    if missing.ndim == 2:  # a probability matrix: count rows, not cells
        missing = np.asarray(missing.any(axis=1))
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise ValidationError(
            f"{name} has {int(missing.sum())} missing or NaN values (first at row {first}); "
            "drop or fill those rows before evaluating"
        )


def _aligned(values: dict[str, Any]) -> dict[str, np.ndarray]:
    """Vectors for ``y_true`` (first) and the predictions, same length, nothing missing."""
    arrays = {name: _vector(v, name) for name, v in values.items()}
    first_name, first = next(iter(arrays.items()))
    if len(first) == 0:
        raise ValidationError(f"{first_name} is empty; evaluation needs at least one row")
    for name, arr in arrays.items():
        _check_length(arr, name, len(first))
        _check_not_missing(arr, name)
    return arrays


def prepare_regression(values: dict[str, Any]) -> tuple[Truth, list[Predictions]]:
    """Validate ``{"y_true": ..., "<pred name>": ..., ...}`` for a regression task."""
    arrays = _aligned(values)
    floats = {}
    for name, arr in arrays.items():
        try:
            as_float = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{name} must hold numbers for a regression task") from exc
        if not np.isfinite(as_float).all():
            raise ValidationError(f"{name} has infinite values; regression metrics need finite")
        floats[name] = as_float
    truth_values, *pred_values = floats.values()
    none = np.empty((len(truth_values), 0))
    truth = Truth("regression", len(truth_values), truth_values, none)
    return truth, [Predictions(v, none) for v in pred_values]


def _label_kind(arr: np.ndarray, name: str) -> str:
    inferred = pd.api.types.infer_dtype(arr, skipna=False)
    if inferred in _NUMBER_KINDS:
        return "numbers"
    if inferred == "string":
        return "strings"
    raise ValidationError(
        f"{name} must hold class labels that are all numbers or all strings; got {inferred}"
    )


def _resolve_labels(arrays: dict[str, np.ndarray], labels: Any) -> np.ndarray:
    kinds = {name: _label_kind(arr, name) for name, arr in arrays.items()}
    if labels is not None:
        given = _vector(labels, "labels")
        _check_not_missing(given, "labels")
        if len(given) == 0 or len(np.unique(given)) != len(given):
            raise ValidationError("labels must be non-empty and hold each label once")
        kinds["labels"] = _label_kind(given, "labels")
    if len(set(kinds.values())) > 1:
        detail = ", ".join(f"{name} holds {kind}" for name, kind in kinds.items())
        raise ValidationError(f"labels must be of one type across arguments: {detail}")
    if labels is not None:
        return given
    return np.unique(np.concatenate([np.unique(arr) for arr in arrays.values()]))


def _encode(arr: np.ndarray, name: str, index: dict[Any, int]) -> np.ndarray:
    uniques, inverse = np.unique(arr, return_inverse=True)
    unknown = [u.item() if hasattr(u, "item") else u for u in uniques if u not in index]
    if unknown:
        raise ValidationError(f"{name} holds labels not in labels=: {unknown[:5]}")
    return np.array([index[u] for u in uniques], dtype=np.int64)[inverse]


def _positive_index(label_list: list[Any], pos_label: Any) -> int:
    if pos_label is None:
        return len(label_list) - 1 if len(label_list) == 2 else -1
    if pos_label not in label_list:
        raise ValidationError(f"pos_label {pos_label!r} is not one of the labels {label_list}")
    return label_list.index(pos_label) if len(label_list) == 2 else -1


def _as_proba(proba: Any, name: str, n: int, truth: Truth) -> np.ndarray:
    try:
        arr = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must hold probabilities (floats in [0, 1])") from exc
    n_labels = len(truth.labels)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 1:
        if n_labels != 2:
            raise ValidationError(
                f"{name} is one column (the positive label's probability), which needs a binary "
                f"target, but there are {n_labels} labels {list(truth.labels)}; pass labels="
            )
        cols = np.empty((len(arr), 2))
        cols[:, truth.pos], cols[:, 1 - truth.pos] = arr, 1.0 - arr
        arr = cols
    elif arr.ndim != 2 or arr.shape[1] != n_labels:
        raise ValidationError(
            f"{name} has shape {arr.shape} but there are {n_labels} labels "
            f"{list(truth.labels)}; columns must follow the sorted labels (or pass labels=)"
        )
    _check_length(arr, name, n)
    _check_probabilities(arr, name)
    return arr


def _check_probabilities(arr: np.ndarray, name: str) -> None:
    _check_not_missing(arr, name)
    if (arr < 0).any() or (arr > 1).any():
        raise ValidationError(f"{name} has values outside [0, 1]; pass probabilities")
    sums = arr.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > _ROW_SUM_TOLERANCE)
    if len(bad):
        raise ValidationError(
            f"{name} row {int(bad[0])} sums to {sums[bad[0]]:.6g}; each row must be a "
            "probability distribution over the labels"
        )


def prepare_classification(
    values: dict[str, Any],
    probas: Sequence[tuple[str, Any]],
    *,
    labels: Any = None,
    pos_label: Any = None,
) -> tuple[Truth, list[Predictions]]:
    """Validate and encode ``y_true`` and predictions; ``probas`` pairs each with its proba."""
    arrays = _aligned(values)
    label_values = _resolve_labels(arrays, labels)
    label_list = label_values.tolist()
    index = {label: i for i, label in enumerate(label_values)}
    eye = np.eye(len(label_list))
    codes = {name: _encode(arr, name, index) for name, arr in arrays.items()}
    truth_codes, *pred_codes = codes.values()
    truth = Truth(
        "classification",
        len(truth_codes),
        truth_codes,
        eye[truth_codes],
        tuple(label_list),
        _positive_index(label_list, pos_label),
    )
    preds = []
    for pred, (proba_name, proba) in zip(pred_codes, probas, strict=True):
        matrix = None if proba is None else _as_proba(proba, proba_name, truth.n, truth)
        preds.append(Predictions(pred, eye[pred], matrix))
    return truth, preds


def _slice_column(name: str, values: Any, n: int) -> SliceColumn:
    label = f"slices[{name!r}]"
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        cat = pd.Categorical(values)
        keys = [str(c) for c in cat.categories]
        codes = np.asarray(cat.codes, dtype=np.int64)
    else:
        arr = _vector(values, label)
        try:
            codes, uniques = pd.factorize(arr, sort=True)
        except TypeError:  # values of mixed types do not sort
            codes, uniques = pd.factorize(arr)
        keys = [str(u) for u in uniques]
    _check_length(codes, label, n)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(keys), codes)
        keys.append(MISSING_SLICE)
    if len(set(keys)) != len(keys):
        raise ValidationError(f"{label} has distinct values that print the same; cast to str")
    return SliceColumn(name, tuple(keys), np.asarray(codes, dtype=np.int64))


def as_slices(slices: Any, n: int) -> tuple[SliceColumn, ...]:
    """Slice columns from a mapping ``{column: values}`` or a DataFrame, one value per row."""
    if slices is None:
        return ()
    if hasattr(slices, "columns") and not isinstance(slices, Mapping):
        names = [str(c) for c in slices.columns]
        if len(set(names)) != len(names):
            raise ValidationError("slices has duplicate column names")
        items = [(str(c), slices[c]) for c in slices.columns]
    elif isinstance(slices, Mapping):
        items = [(str(k), v) for k, v in slices.items()]
    else:
        raise ValidationError(
            f"slices must be a mapping of column name to values, or a DataFrame; "
            f"got {type(slices).__name__}"
        )
    return tuple(_slice_column(name, values, n) for name, values in items)
