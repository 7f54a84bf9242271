"""Uniqueness: no two rows share a value (or a combination of values) in the key columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from driftline.exceptions import ValidationError
from driftline.quality._base import BatchContext, Check, Outcome, RecordContext, Rule, row_outcome
from driftline.quality._frame import Column

__all__ = ["Uniqueness"]

_MAX_KEY = 2**62


def _combine(parts: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
    """One dense code per row for a combination of per-column codes (mixed radix)."""
    key, size = parts[0][0], parts[0][1] + 1
    for codes, k in parts[1:]:
        if size * (k + 1) >= _MAX_KEY:
            import pandas as pd  # re-densify so the mixed-radix key cannot overflow int64

            key, uniq = pd.factorize(key)
            key, size = key.astype(np.int64), len(uniq)
        key = key * (k + 1) + codes
        size *= k + 1
    return key


def _dense_int_duplicates(col: Column) -> np.ndarray | None:
    """Duplicate rows of an integer column by counting sort, when its values span a short range.

    Ids are often dense integers; counting them in an array is ~10x faster than hashing.
    """
    values = col.values
    if col.kind != "numeric" or values.dtype.kind not in "iu" or not len(values):
        return None
    if values.dtype != np.int64:
        # Shifting by the minimum must not overflow; the cast keeps equal values equal.
        values = values.astype(np.int64)
    present = ~col.missing
    some = values[present] if col.n_missing else values
    if not len(some):
        return np.zeros(len(values), dtype=bool)
    # An int64 column's bounds come from its stats, which the column metrics need anyway.
    stats = col.stats() if values is col.values else None
    low, high = (stats[0], stats[1]) if stats else (int(some.min()), int(some.max()))
    span = high - low + 1
    if span > 4 * len(values) + 1025:
        return None
    keys = some - low if low else some
    # A byte per possible value fits in cache far better than a count per value, and answers
    # the usual case (all distinct) alone; counts are needed only to mark duplicated rows.
    seen = np.zeros(span, dtype=bool)
    seen[keys] = True
    col.distinct = int(np.count_nonzero(seen))
    if col.distinct == len(some):
        return np.zeros(len(values), dtype=bool)
    counts = np.bincount(keys, minlength=span)
    shifted = values - low
    if col.n_missing:
        shifted[~present] = 0
    return (counts[shifted] > 1) & present


@dataclass(frozen=True)
class Uniqueness(Check):
    """No two rows share a value of ``columns`` (one name or several for a composite key).

    Rows with a missing key value are not judged (as in SQL, missing is never equal to missing).
    Every row of a duplicated key fails, so two rows sharing an id give ``failed_rows == 2``;
    the observed value is the share of judged rows that fail.

    Batch-only: deciding that a live record is a duplicate needs every key seen so far, which
    grows without bound; a bounded window would silently forget older keys and so report
    something other than what this check reports on a batch.

    >>> from driftline.quality import Suite, Uniqueness
    >>> frame = {"id": [1, 2, 3, 2, None], "day": ["mon", "mon", "tue", "mon", "tue"]}
    >>> result = Suite([Uniqueness("id"), Uniqueness(("id", "day"))]).run(frame)
    >>> [c.failed_rows for c in result.checks]
    [2, 2]
    """

    columns: str | tuple[str, ...]
    max_invalid: float = 0.0

    kind: ClassVar[str] = "unique"
    cost: ClassVar[int] = 3
    thread_safe: ClassVar[bool] = True
    shares: ClassVar[tuple[str, ...]] = ("max_invalid",)

    def __post_init__(self) -> None:
        cols = (self.columns,) if isinstance(self.columns, str) else tuple(self.columns)
        if not cols:
            raise ValidationError(f"{self.kind}: columns is empty")
        object.__setattr__(self, "columns", cols)
        super().__post_init__()

    @property
    def data_columns(self) -> tuple[str, ...]:
        return tuple(self.columns)

    def evaluate(self, ctx: BatchContext) -> Outcome:
        cols = [ctx.column(name) for name in self.data_columns]
        if len(cols) == 1 and (bad := _dense_int_duplicates(cols[0])) is not None:
            return row_outcome(bad, ctx.n_rows - cols[0].n_missing, self.max_invalid)
        any_missing = np.zeros(ctx.n_rows, dtype=bool)
        for col in cols:
            any_missing |= col.missing
        key = _combine([col.codes() for col in cols]) if len(cols) > 1 else cols[0].codes()[0]
        if len(cols) > 1:
            import pandas as pd

            key = pd.factorize(key)[0]
        counts = np.bincount(key) if len(key) else np.zeros(0, dtype=np.int64)
        bad = (counts[key] > 1) & ~any_missing
        return row_outcome(bad, ctx.n_rows - int(any_missing.sum()), self.max_invalid)

    def record_rule(self, ctx: RecordContext) -> Rule | None:
        return None  # batch-only, see the class docstring

    def expected(self) -> str:
        return f"unique ({', '.join(self.data_columns)}), duplicate share <= {self.max_invalid:g}"
