"""The two sides of one feature comparison, in the forms the univariate tests read.

A numeric side is a sorted sample: either the exact sorted finite values (unit weights) or the
weighted values of a quantile sketch, with the sketch's rank-error bound. Both sides are merged
once (a stable merge of two sorted runs) into pooled ECDFs that KS, Wasserstein, Cramer-von
Mises and Anderson-Darling all reuse. A categorical side is counts aligned on the reference's
labels; values the reference never saw are counted apart (``n_unseen``), not in the buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from driftline.drift._inputs import ColumnData, column_from_array
from driftline.drift.feature_profiles import (
    CategoricalProfile,
    NumericProfile,
    sorted_bin_counts,
    sum_squared_deviations,
)
from driftline.exceptions import ValidationError

__all__ = [
    "CategoricalPair",
    "NumericPair",
    "NumericSample",
    "Pair",
    "Pooled",
    "categorical_pair",
    "make_pair",
    "numeric_pair",
    "pair_from_arrays",
]


@dataclass(frozen=True, eq=False)
class NumericSample:
    """Sorted finite values; ``cum`` holds cumulative weights when they are not all 1."""

    values: np.ndarray
    cum: np.ndarray | None
    n: int
    rank_error: float
    moments: tuple[float, float] | None  # (mean, population std); None: computed on demand
    minimum: float
    maximum: float
    bin_counts: np.ndarray
    rows: int
    missing: int  # null or NaN
    infinite: int

    @cached_property
    def _mean_std(self) -> tuple[float, float]:
        if self.moments is not None:
            return self.moments
        if self.n == 0 or self.cum is not None:
            return (0.0, 0.0) if self.n == 0 else _weighted_moments(self)
        mean = float(self.values.mean())
        return mean, float(np.sqrt(sum_squared_deviations(self.values, mean) / self.n))

    @property
    def mean(self) -> float:
        """Mean of the finite values."""
        return self._mean_std[0]

    @property
    def std(self) -> float:
        """Population standard deviation of the finite values."""
        return self._mean_std[1]

    @property
    def exact(self) -> bool:
        """True when the sample is every value with weight 1."""
        return self.cum is None

    @property
    def error_bound(self) -> float:
        """Bound on the ECDF error of this side (0.0 when exact)."""
        return self.rank_error / self.n if self.n else 0.0

    def quantiles(self, levels: np.ndarray) -> np.ndarray:
        """Values at the given CDF levels (inverted CDF); empty when there are no values."""
        if self.n == 0 or len(self.values) == 0:
            return np.empty(0)
        if self.cum is None:
            idx = np.ceil(levels * self.n).astype(np.int64) - 1
        else:
            idx = np.searchsorted(self.cum, levels * self.n * (1 - 1e-12), side="left")
        return self.values[np.clip(idx, 0, len(self.values) - 1)]

    def weights(self) -> np.ndarray | None:
        """Per-value weights, or None for unit weights."""
        return None if self.cum is None else np.diff(self.cum, prepend=0.0)

    @classmethod
    def from_profile(
        cls, profile: NumericProfile, ordered: np.ndarray | None = None
    ) -> NumericSample:
        """The profile's sample; ``ordered`` (all sorted finite values) makes it exact."""
        sketch = profile.sketch
        if ordered is None and sketch.is_exact:
            ordered = sketch.levels[0] if sketch.levels else np.empty(0)
        if ordered is not None:
            values, cum, error = ordered, None, 0.0
        else:
            values, cum = sketch.weighted_items()
            error = sketch.rank_error
        return cls(
            values=values,
            cum=cum,
            n=profile.n_finite,
            rank_error=error,
            moments=(profile.mean, profile.std),
            minimum=profile.minimum if profile.minimum is not None else 0.0,
            maximum=profile.maximum if profile.maximum is not None else 0.0,
            bin_counts=profile.bin_counts,
            rows=profile.count,
            missing=profile.missing,
            infinite=profile.infinite,
        )

    @classmethod
    def from_values(cls, values: np.ndarray, edges: np.ndarray) -> NumericSample:
        """Exact sample of float values (NaN missing), counted on ``edges``; sorts once."""
        finite = np.isfinite(values)
        n = int(np.count_nonzero(finite))
        ordered = np.sort(values) if n == len(values) else np.sort(values[finite])
        n_nan = int(np.count_nonzero(np.isnan(values))) if n < len(values) else 0
        return cls(
            values=ordered,
            cum=None,
            n=n,
            rank_error=0.0,
            moments=None,  # the current side's moments are rarely needed: computed on demand
            minimum=float(ordered[0]) if n else 0.0,
            maximum=float(ordered[-1]) if n else 0.0,
            bin_counts=sorted_bin_counts(ordered, edges),
            rows=len(values),
            missing=n_nan,
            infinite=len(values) - n - n_nan,
        )


def _weighted_moments(sample: NumericSample) -> tuple[float, float]:
    weights = sample.weights()
    mean = float(np.average(sample.values, weights=weights))
    variance = float(np.average((sample.values - mean) ** 2, weights=weights))
    return mean, float(np.sqrt(variance))


class Pooled:
    """Both samples merged: pooled sorted values, which side each came from, and the ECDFs.

    With unit weights on both sides the cumulative counts are derived on demand from
    ``is_ref``; with a sketch on either side they are cumulative weights given up front.
    """

    def __init__(
        self,
        z: np.ndarray,
        is_ref: np.ndarray,
        n_ref: int,
        n_cur: int,
        weighted: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.z = z
        self.is_ref = is_ref
        self.n_ref = n_ref
        self.n_cur = n_cur
        self._weighted = weighted

    @cached_property
    def cum_ref(self) -> np.ndarray:
        """Reference count (or weight) at or before each pooled position."""
        if self._weighted is not None:
            return self._weighted[0]
        return np.cumsum(self.is_ref, dtype=np.int64)

    @cached_property
    def cum_cur(self) -> np.ndarray:
        """Current count (or weight) at or before each pooled position."""
        if self._weighted is not None:
            return self._weighted[1]
        return np.arange(1, len(self.z) + 1, dtype=np.int64) - self.cum_ref

    @cached_property
    def ends(self) -> np.ndarray:
        """Index of the last position of each group of tied values."""
        last = np.flatnonzero(self.widths > 0)
        return np.append(last, len(self.z) - 1)

    @cached_property
    def widths(self) -> np.ndarray:
        """Gaps between consecutive pooled values (0 inside a group of ties)."""
        return np.diff(self.z)

    @cached_property
    def scaled_gap(self) -> np.ndarray:
        """``|F_ref - F_cur| * n_ref * n_cur`` at each position.

        With unit weights each reference value adds ``n_cur`` and each current value takes
        ``n_ref``, so the gap is one cumulative sum of two values, done in place in a single
        buffer; every partial sum is an integer below 2**53, hence exact.
        """
        if self._weighted is None:
            gap = np.multiply(self.is_ref, float(self.n_ref + self.n_cur), dtype=np.float64)
            gap -= float(self.n_ref)
            np.cumsum(gap, out=gap)
        else:
            gap = self.cum_ref * float(self.n_cur)
            gap -= self.cum_cur * float(self.n_ref)
        return np.abs(gap, out=gap)

    @cached_property
    def f_ref(self) -> np.ndarray:
        """Reference ECDF at each pooled position (right-continuous at the ends of ties)."""
        return self.cum_ref / self.n_ref

    @cached_property
    def f_cur(self) -> np.ndarray:
        """Current ECDF at each pooled position."""
        return self.cum_cur / self.n_cur


class NumericPair:
    """A numeric reference and current sample on the reference's bin edges."""

    kind = "numeric"

    def __init__(self, reference: NumericSample, current: NumericSample, edges: np.ndarray):
        self.reference = reference
        self.current = current
        self.edges = edges

    @property
    def exact(self) -> bool:
        """True when both sides are exact samples."""
        return self.reference.exact and self.current.exact

    @property
    def error_bound(self) -> float:
        """Bound on the error of ``F_ref - F_cur`` at any point."""
        return self.reference.error_bound + self.current.error_bound

    @cached_property
    def ecdf_distances(self) -> tuple[float, float]:
        """``(sup |F_ref - F_cur|, integral |F_ref - F_cur| dx)``, the KS and Wasserstein core.

        When exactly one side is a sketch (a few thousand weighted values) and the other the
        exact sorted sample, both come from the sketch's steps alone (see
        :func:`_sparse_dense_distances`): no merge of the large side, which only needs its
        prefix sums. Otherwise from the pooled merge.
        """
        ref, cur = self.reference, self.current
        if ref.cum is not None and cur.cum is None:
            return _sparse_dense_distances(ref.values, ref.cum / ref.n, cur.values)
        if cur.cum is not None and ref.cum is None:
            return _sparse_dense_distances(cur.values, cur.cum / cur.n, ref.values)
        pooled = self.pooled
        scale = float(pooled.n_ref) * float(pooled.n_cur)
        gap = pooled.scaled_gap
        if len(gap) < 2:
            return float(gap[-1]) / scale, 0.0
        # only the last of a group of ties counts: there the width to the next value is > 0
        inner = float(np.max(gap[:-1], where=pooled.widths > 0, initial=0.0))
        sup = max(inner, float(gap[-1])) / scale
        # einsum, not np.dot: BLAS threads would spin on the core the other worker needs
        area = float(np.einsum("i,i->", gap[:-1], pooled.widths)) / scale
        return sup, area

    @cached_property
    def pooled(self) -> Pooled:
        """Merge both sorted samples once (timsort merges two sorted runs in linear time)."""
        ref, cur = self.reference, self.current
        both = np.concatenate([ref.values, cur.values])
        order = np.argsort(both, kind="stable")
        z = both[order]
        del both
        m = len(ref.values)
        is_ref = order < m
        if ref.cum is None and cur.cum is None:
            return Pooled(z, is_ref, ref.n, cur.n)
        cum_ref = _weighted_cumsum(is_ref, order, ref.weights(), 0)
        cum_cur = _weighted_cumsum(~is_ref, order, cur.weights(), m)
        return Pooled(z, is_ref, ref.n, cur.n, weighted=(cum_ref, cum_cur))


def _sparse_dense_distances(
    steps: np.ndarray, levels: np.ndarray, dense: np.ndarray
) -> tuple[float, float]:
    """KS and Wasserstein between a weighted step CDF and an exact sorted sample.

    ``steps`` are the sorted values of the small side and ``levels`` its CDF at each of them.
    On ``[s_i, s_{i+1})`` the small side's CDF is the constant ``c_i`` and the dense side's
    CDF ``F`` only grows, so the largest gap there is at one of the two ends, and
    ``integral |c_i - F|`` splits where ``F`` crosses ``c_i``. ``integral F`` over any range
    comes from the dense side's prefix sums: ``G(x) = (k x - sum of the k values <= x) / n``.
    """
    last = np.append(np.flatnonzero(steps[1:] != steps[:-1]), len(steps) - 1)
    s, c = steps[last], levels[last]  # one step per distinct value, at its full level
    n = len(dense)
    prefix = np.concatenate([[0.0], np.cumsum(dense)])

    def integral_to(x: np.ndarray) -> np.ndarray:  # G(x)
        k = np.searchsorted(dense, x, side="right")
        return (k * x - prefix[k]) / n

    upto = np.searchsorted(dense, s, side="right") / n  # F(s_i)
    below_next = np.searchsorted(dense, s[1:], side="left") / n  # F just before s_{i+1}
    first_gap = np.searchsorted(dense, s[0], side="left") / n  # F just before s_0 (c = 0)
    sup = max(
        first_gap,
        float(np.max(np.abs(c - upto))),
        float(np.max(np.abs(c[:-1] - below_next), initial=0.0)),
    )
    a = s
    b = np.append(s[1:], max(s[-1], dense[-1]))
    crossing_index = np.clip(np.ceil(c * n * (1 - 1e-12)).astype(np.int64) - 1, 0, n - 1)
    crossing = np.clip(dense[crossing_index], a, b)
    g_a, g_x, g_b = integral_to(a), integral_to(crossing), integral_to(b)
    area = float(np.sum(c * (crossing - a) - (g_x - g_a) + (g_b - g_x) - c * (b - crossing)))
    area += float(integral_to(s[:1])[0])  # before the first step the small side's CDF is 0
    return float(sup), area


def _weighted_cumsum(
    mine: np.ndarray, order: np.ndarray, weights: np.ndarray | None, offset: int
) -> np.ndarray:
    w = np.zeros(len(order))
    w[mine] = 1.0 if weights is None else weights[order[mine] - offset]
    return np.cumsum(w)


@dataclass(frozen=True, eq=False)
class CategoricalPair:
    """Counts on the reference's buckets (labels, plus ``other`` when the reference has it)."""

    labels: tuple[str, ...]
    ref_counts: np.ndarray
    cur_counts: np.ndarray
    n_unseen: int
    unseen_is_upper_bound: bool
    ref_rows: int
    ref_missing: int
    cur_rows: int
    cur_missing: int

    kind = "categorical"

    @property
    def n_reference(self) -> int:
        """Reference values in the buckets."""
        return int(self.ref_counts.sum())

    @property
    def n_current(self) -> int:
        """Current values in the buckets (unseen values are not in them)."""
        return int(self.cur_counts.sum())


Pair = NumericPair | CategoricalPair


def numeric_pair(
    reference: NumericProfile,
    current: NumericProfile | ColumnData,
    *,
    ref_sorted: np.ndarray | None = None,
) -> NumericPair:
    """Pair a reference profile (plus its sorted values, if at hand) with a current side."""
    ref = NumericSample.from_profile(reference, ref_sorted)
    if isinstance(current, NumericProfile):
        if not np.array_equal(current.edges, reference.edges):
            raise ValidationError(
                "the current profile has other bin edges than the reference; build it with "
                "reference_profile.profile_like(current_data)"
            )
        return NumericPair(ref, NumericSample.from_profile(current), reference.edges)
    values = current.values if current.values is not None else np.full(current.n_rows, np.nan)
    return NumericPair(ref, NumericSample.from_values(values, reference.edges), reference.edges)


def categorical_pair(
    reference: CategoricalProfile, current: CategoricalProfile | ColumnData
) -> CategoricalPair:
    """Align current counts on the reference labels; unseen values go apart."""
    index = {label: i for i, label in enumerate(reference.categories)}
    k = len(reference.categories)
    spill = 0  # values of unknown label: unseen, or in the reference's "other"
    if isinstance(current, CategoricalProfile):
        labels, counts = current.categories, current.counts
        spill, rows, missing = current.other, current.count, current.missing
    else:
        codes = current.codes if current.codes is not None else np.full(current.n_rows, -1)
        labels = current.labels
        present = codes[codes >= 0]
        counts = np.bincount(present, minlength=len(labels))
        rows, missing = len(codes), len(codes) - len(present)
    mapping = np.array([index.get(label, k) for label in labels], dtype=np.int64)
    aligned = np.bincount(mapping, weights=counts, minlength=k + 1).astype(np.int64)
    outside = int(aligned[k]) + int(spill)
    ref_counts, cur_counts, names = reference.counts, aligned[:k], reference.categories
    if not reference.complete:  # labels outside the top-k may be known: pool them as "other"
        ref_counts = np.append(ref_counts, reference.other)
        cur_counts = np.append(cur_counts, outside)
        names = (*names, "<other>")
    return CategoricalPair(
        labels=names,
        ref_counts=np.asarray(ref_counts, dtype=np.int64),
        cur_counts=np.asarray(cur_counts, dtype=np.int64),
        n_unseen=outside,
        unseen_is_upper_bound=not reference.complete or spill > 0,
        ref_rows=reference.count,
        ref_missing=reference.missing,
        cur_rows=rows,
        cur_missing=missing,
    )


def make_pair(
    reference: NumericProfile | CategoricalProfile,
    current: NumericProfile | CategoricalProfile | ColumnData,
    *,
    ref_sorted: np.ndarray | None = None,
) -> Pair:
    """Pair a reference with a current side of the same kind, or say why they differ."""
    cur_kind = current.kind
    if isinstance(current, ColumnData) and cur_kind == "empty":
        cur_kind = reference.kind
    if cur_kind != reference.kind:
        raise ValidationError(
            f"the reference is {reference.kind} but the current values are {cur_kind}"
            + (f" ({current.dtype})" if isinstance(current, ColumnData) else "")
        )
    if isinstance(reference, NumericProfile):
        return numeric_pair(reference, current, ref_sorted=ref_sorted)  # type: ignore[arg-type]
    return categorical_pair(reference, current)  # type: ignore[arg-type]


def pair_from_arrays(reference: Any, current: Any) -> Pair:
    """A pair from two 1-D array-likes, or single-feature profiles, for direct test use."""
    ref_sorted = None
    if isinstance(reference, NumericProfile | CategoricalProfile):
        ref_profile: NumericProfile | CategoricalProfile = reference
    else:
        column = column_from_array(reference, "reference")
        if column.kind == "numeric" and column.values is not None:
            ref_profile, ref_sorted = NumericProfile.from_column(column.values, max_exact=0, k=2)
        elif column.kind == "categorical" and column.codes is not None:
            ref_profile = CategoricalProfile.from_codes(
                column.codes, column.labels, top_k=max(1, len(column.labels))
            )
        else:
            raise ValidationError(f"reference has no values drift can test ({column.dtype})")
    if not isinstance(current, NumericProfile | CategoricalProfile):
        current = column_from_array(current, "current")
    return make_pair(ref_profile, current, ref_sorted=ref_sorted)
