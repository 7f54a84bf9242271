"""Shared pieces of the multivariate detectors: the result type and the feature matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from driftline.drift._inputs import ColumnData, as_table
from driftline.exceptions import ValidationError

__all__ = ["Matrices", "MultivariateResult", "matrices"]


@dataclass(frozen=True)
class MultivariateResult:
    """Outcome of one multivariate drift detector on a whole dataset.

    ``statistic`` is the detector's own measure (AUC, error ratio, MMD squared); drift is
    ``p_value <= threshold`` when there is a p-value, else ``statistic > threshold``.
    ``ci`` is a confidence interval of the statistic where the detector gives one;
    ``feature_importances`` say which features drive the difference where it can tell.
    """

    method: str
    statistic: float
    p_value: float | None
    threshold: float
    drift_detected: bool
    ci: tuple[float, float] | None = None
    feature_importances: Mapping[str, float] = field(default_factory=dict)
    n_reference: int = 0
    n_current: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "method": self.method,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "threshold": self.threshold,
            "drift_detected": self.drift_detected,
            "ci": list(self.ci) if self.ci is not None else None,
            "feature_importances": dict(self.feature_importances),
            "n_reference": self.n_reference,
            "n_current": self.n_current,
        }


@dataclass(frozen=True, eq=False)
class Matrices:
    """Reference and current rows as float matrices with one column per feature.

    Numeric features keep NaN for missing; categorical ones become codes of the reference's
    labels (a label the reference never saw gets one extra code, missing stays NaN).
    """

    reference: np.ndarray
    current: np.ndarray
    names: tuple[str, ...]
    categorical: np.ndarray  # bool per column

    def one_hot(self, max_labels: int = 20) -> tuple[np.ndarray, np.ndarray]:
        """Numeric columns standardised by the reference, categorical ones one-hot encoded."""
        blocks_ref, blocks_cur = [], []
        for j in range(len(self.names)):
            r, c = self.reference[:, j], self.current[:, j]
            if self.categorical[j]:
                codes = np.unique(r[~np.isnan(r)])[:max_labels]
                blocks_ref.append((r[:, None] == codes).astype(float))
                blocks_cur.append((c[:, None] == codes).astype(float))
                continue
            fill = float(np.nanmedian(r)) if np.any(~np.isnan(r)) else 0.0
            scale = float(np.nanstd(r)) or 1.0
            blocks_ref.append(((np.where(np.isnan(r), fill, r) - fill) / scale)[:, None])
            blocks_cur.append(((np.where(np.isnan(c), fill, c) - fill) / scale)[:, None])
        return np.hstack(blocks_ref), np.hstack(blocks_cur)


def matrices(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[str] | None = None,
    max_rows: int | None = None,
    seed: int = 0,
) -> Matrices:
    """Turn two tables into aligned feature matrices (at most ``max_rows`` rows per side)."""
    ref_table = as_table(reference, role="reference")
    cur_table = as_table(current, role="current")
    names = list(columns) if columns is not None else list(ref_table.names)
    absent = [n for n in names if n not in ref_table.names or n not in cur_table.names]
    if absent:
        raise ValidationError(f"columns {absent} are not in both reference and current")
    rng = np.random.default_rng(seed)
    ref_rows = _rows(ref_table.n_rows, max_rows, rng)
    cur_rows = _rows(cur_table.n_rows, max_rows, rng)
    ref_cols, cur_cols, kept, categorical = [], [], [], []
    for name in names:
        ref_col, cur_col = ref_table.load(name), cur_table.load(name)
        pair = _encode(ref_col, cur_col)
        if pair is None:
            continue
        ref_cols.append(pair[0][ref_rows])
        cur_cols.append(pair[1][cur_rows])
        kept.append(name)
        categorical.append(ref_col.kind == "categorical")
    if not kept:
        raise ValidationError("no numeric or categorical column to compare")
    return Matrices(
        reference=np.column_stack(ref_cols),
        current=np.column_stack(cur_cols),
        names=tuple(kept),
        categorical=np.asarray(categorical),
    )


def _rows(n: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, max_rows, replace=False))


def _encode(ref: ColumnData, cur: ColumnData) -> tuple[np.ndarray, np.ndarray] | None:
    """Both sides as floats (infinities count as missing), or None for other kinds."""
    if ref.values is not None and cur.kind in {"numeric", "empty"}:
        cur_values = cur.values if cur.values is not None else np.full(cur.n_rows, np.nan)
        ref_values = np.where(np.isfinite(ref.values), ref.values, np.nan)
        return ref_values, np.where(np.isfinite(cur_values), cur_values, np.nan)
    if ref.codes is not None and cur.kind in {"categorical", "empty"}:
        index = {label: float(i) for i, label in enumerate(ref.labels)}
        unseen = float(len(ref.labels))
        ref_codes = ref.codes.astype(float)
        ref_codes[ref_codes < 0] = np.nan
        if cur.codes is None:
            return ref_codes, np.full(cur.n_rows, np.nan)
        lookup = np.array([index.get(label, unseen) for label in cur.labels] + [np.nan])
        return ref_codes, lookup[cur.codes]
    return None
