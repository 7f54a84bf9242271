"""Per-feature profiles: bounded-size, mergeable, JSON-ready summaries of one column.

A numeric profile keeps counts (rows, missing, infinite), moments (mean and the sum of squared
deviations, merged with Chan et al.'s pairwise update), min and max, counts per bin on edges
fixed from the reference, and a :class:`~driftline.drift.sketch.QuantileSketch` (the exact
sorted values up to ``max_exact``, a sketch with a stated error bound beyond).

A categorical profile keeps counts of its ``top_k`` most frequent labels and one ``other``
count for the rest, plus missing. Merging is exact for every count as long as no label had to
be folded into ``other`` (at most ``top_k`` distinct labels in the union).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from driftline.drift.sketch import QuantileSketch
from driftline.exceptions import ValidationError

__all__ = [
    "CategoricalProfile",
    "FeatureProfile",
    "NumericProfile",
    "UnsupportedProfile",
    "feature_profile_from_dict",
    "quantile_edges",
    "sorted_bin_counts",
    "sum_squared_deviations",
]


@dataclass(frozen=True, eq=False)
class NumericProfile:
    """Summary of one numeric column; ``missing`` counts null and NaN, ``infinite`` +-inf."""

    kind: ClassVar[str] = "numeric"
    count: int
    missing: int
    infinite: int
    mean: float
    m2: float
    minimum: float | None
    maximum: float | None
    edges: np.ndarray
    bin_counts: np.ndarray
    sketch: QuantileSketch

    @property
    def n_finite(self) -> int:
        """Number of finite values (the ones the distribution tests use)."""
        return self.count - self.missing - self.infinite

    @property
    def missing_share(self) -> float:
        """Share of rows with no finite value (null, NaN or +-inf)."""
        return (self.missing + self.infinite) / self.count if self.count else 0.0

    @property
    def std(self) -> float:
        """Population standard deviation of the finite values (0.0 when there are none)."""
        return float(np.sqrt(max(self.m2, 0.0) / self.n_finite)) if self.n_finite else 0.0

    @classmethod
    def from_values(
        cls,
        values: np.ndarray,
        *,
        n_bins: int = 10,
        edges: np.ndarray | None = None,
        k: int = 2048,
        max_exact: int = 10_000,
    ) -> NumericProfile:
        """Profile float values (NaN for missing); edges come from the data unless given."""
        return cls.from_column(values, n_bins=n_bins, edges=edges, k=k, max_exact=max_exact)[0]

    @classmethod
    def from_column(
        cls,
        values: np.ndarray,
        *,
        n_bins: int = 10,
        edges: np.ndarray | None = None,
        k: int = 2048,
        max_exact: int = 10_000,
    ) -> tuple[NumericProfile, np.ndarray]:
        """Like :meth:`from_values`, also returning the sorted finite values (sorted once)."""
        finite = np.isfinite(values)
        n_finite = int(np.count_nonzero(finite))
        ordered = np.sort(values) if n_finite == len(values) else np.sort(values[finite])
        n_nan = int(np.count_nonzero(np.isnan(values))) if n_finite < len(values) else 0
        if edges is None:
            edges = quantile_edges(ordered, n_bins)
        mean = float(ordered.mean()) if n_finite else 0.0
        m2 = sum_squared_deviations(ordered, mean)
        profile = cls(
            count=len(values),
            missing=n_nan,
            infinite=len(values) - n_finite - n_nan,
            mean=mean,
            m2=m2,
            minimum=float(ordered[0]) if n_finite else None,
            maximum=float(ordered[-1]) if n_finite else None,
            edges=np.asarray(edges, dtype=np.float64),
            bin_counts=sorted_bin_counts(ordered, edges),
            sketch=QuantileSketch.from_sorted(ordered, k=k, max_exact=max_exact),
        )
        return profile, ordered

    def merge(self, other: NumericProfile) -> NumericProfile:
        """Profile of both inputs: counts and bins exact, moments by Chan's update."""
        if not isinstance(other, NumericProfile):
            raise ValidationError(f"cannot merge a numeric profile with a {other.kind} one")
        if not np.array_equal(self.edges, other.edges):
            raise ValidationError(
                "profiles have different bin edges; build the second one with "
                "first.profile_like(data) so that both share the reference edges"
            )
        na, nb = self.n_finite, other.n_finite
        n = na + nb
        delta = other.mean - self.mean
        mean = self.mean + delta * nb / n if n else 0.0
        m2 = self.m2 + other.m2 + (delta * delta * na * nb / n if n else 0.0)
        return NumericProfile(
            count=self.count + other.count,
            missing=self.missing + other.missing,
            infinite=self.infinite + other.infinite,
            mean=mean,
            m2=m2,
            minimum=_extreme(min, self.minimum, other.minimum),
            maximum=_extreme(max, self.maximum, other.maximum),
            edges=self.edges,
            bin_counts=self.bin_counts + other.bin_counts,
            sketch=self.sketch.merge(other.sketch),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": "numeric",
            "count": self.count,
            "missing": self.missing,
            "infinite": self.infinite,
            "mean": self.mean,
            "m2": self.m2,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "edges": self.edges.tolist(),
            "bin_counts": self.bin_counts.tolist(),
            "sketch": self.sketch.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericProfile:
        """Inverse of :meth:`to_dict`."""
        return cls(
            count=int(data["count"]),
            missing=int(data["missing"]),
            infinite=int(data["infinite"]),
            mean=float(data["mean"]),
            m2=float(data["m2"]),
            minimum=_opt_float(data["minimum"]),
            maximum=_opt_float(data["maximum"]),
            edges=np.asarray(data["edges"], dtype=np.float64),
            bin_counts=np.asarray(data["bin_counts"], dtype=np.int64),
            sketch=QuantileSketch.from_dict(data["sketch"]),
        )


@dataclass(frozen=True, eq=False)
class CategoricalProfile:
    """Counts of the ``top_k`` most frequent labels, one ``other`` count, and missing."""

    kind: ClassVar[str] = "categorical"
    count: int
    missing: int
    categories: tuple[str, ...]
    counts: np.ndarray
    other: int
    top_k: int

    @property
    def n_present(self) -> int:
        """Number of non-missing values."""
        return self.count - self.missing

    @property
    def missing_share(self) -> float:
        """Share of rows with a missing value."""
        return self.missing / self.count if self.count else 0.0

    @property
    def complete(self) -> bool:
        """True when every distinct label is kept (nothing was folded into ``other``)."""
        return self.other == 0

    @classmethod
    def from_codes(
        cls, codes: np.ndarray, labels: tuple[str, ...], *, top_k: int = 1000
    ) -> CategoricalProfile:
        """Profile integer codes (``-1`` for missing) into ``labels``."""
        present = codes[codes >= 0]
        counts = np.bincount(present, minlength=len(labels)).astype(np.int64)
        return cls._build(len(codes), len(codes) - len(present), labels, counts, 0, top_k)

    @classmethod
    def _build(
        cls,
        count: int,
        missing: int,
        labels: tuple[str, ...] | list[str],
        counts: np.ndarray,
        other: int,
        top_k: int,
    ) -> CategoricalProfile:
        if top_k < 1:
            raise ValidationError(f"top_k must be at least 1, got {top_k}")
        keep = counts > 0
        names = np.asarray(labels, dtype=object)[keep]
        kept = counts[keep]
        # most frequent first; ties by label so that merge order never matters
        order = sorted(range(len(kept)), key=lambda i: (-int(kept[i]), str(names[i])))
        folded = int(sum(int(kept[i]) for i in order[top_k:]))
        order = order[:top_k]
        return cls(
            count=count,
            missing=missing,
            categories=tuple(str(names[i]) for i in order),
            counts=np.asarray([kept[i] for i in order], dtype=np.int64),
            other=other + folded,
            top_k=top_k,
        )

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        """Profile of both inputs; exact while the union has at most ``top_k`` labels."""
        if not isinstance(other, CategoricalProfile):
            raise ValidationError(f"cannot merge a categorical profile with a {other.kind} one")
        totals: dict[str, int] = {}
        for profile in (self, other):
            for label, c in zip(profile.categories, profile.counts.tolist(), strict=True):
                totals[label] = totals.get(label, 0) + c
        return CategoricalProfile._build(
            self.count + other.count,
            self.missing + other.missing,
            list(totals),
            np.asarray(list(totals.values()), dtype=np.int64),
            self.other + other.other,
            min(self.top_k, other.top_k),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": "categorical",
            "count": self.count,
            "missing": self.missing,
            "categories": list(self.categories),
            "counts": self.counts.tolist(),
            "other": self.other,
            "top_k": self.top_k,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalProfile:
        """Inverse of :meth:`to_dict`."""
        return cls(
            count=int(data["count"]),
            missing=int(data["missing"]),
            categories=tuple(str(c) for c in data["categories"]),
            counts=np.asarray(data["counts"], dtype=np.int64),
            other=int(data["other"]),
            top_k=int(data["top_k"]),
        )


@dataclass(frozen=True, eq=False)
class UnsupportedProfile:
    """A column of a type drift is not computed for (dates, durations, nested values)."""

    kind: ClassVar[str] = "unsupported"
    count: int
    dtype: str

    @property
    def missing_share(self) -> float:
        """Unknown for an unsupported type: reported as 0.0."""
        return 0.0

    def merge(self, other: UnsupportedProfile) -> UnsupportedProfile:
        """Row counts add."""
        if not isinstance(other, UnsupportedProfile):
            raise ValidationError(f"cannot merge an unsupported profile with a {other.kind} one")
        return UnsupportedProfile(self.count + other.count, self.dtype)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"kind": "unsupported", "count": self.count, "dtype": self.dtype}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnsupportedProfile:
        """Inverse of :meth:`to_dict`."""
        return cls(int(data["count"]), str(data["dtype"]))


FeatureProfile = NumericProfile | CategoricalProfile | UnsupportedProfile


def feature_profile_from_dict(data: Mapping[str, Any]) -> FeatureProfile:
    """Rebuild whichever feature profile ``data`` describes."""
    kinds: dict[str, Any] = {
        "numeric": NumericProfile,
        "categorical": CategoricalProfile,
        "unsupported": UnsupportedProfile,
    }
    kind = data.get("kind")
    if kind not in kinds:
        raise ValidationError(
            f"unknown feature profile kind {kind!r}; expected one of {list(kinds)}"
        )
    try:
        profile: FeatureProfile = kinds[kind].from_dict(data)
        return profile
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(f"malformed {kind} feature profile: {exc!r}") from exc


def quantile_edges(ordered: np.ndarray, n_bins: int) -> np.ndarray:
    """Interior edges at the reference's ``i / n_bins`` quantiles, duplicates removed."""
    if n_bins < 1:
        raise ValidationError(f"n_bins must be at least 1, got {n_bins}")
    if len(ordered) == 0:
        return np.empty(0)
    positions = (np.arange(1, n_bins) * len(ordered)) // n_bins
    return np.unique(ordered[positions])


def sorted_bin_counts(ordered: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin ``(-inf, e1), [e1, e2), ..., [e_last, inf)`` of sorted values."""
    cuts = np.searchsorted(ordered, edges, side="left")
    return np.diff(np.concatenate([[0], cuts, [len(ordered)]])).astype(np.int64)


def sum_squared_deviations(values: np.ndarray, mean: float, chunk: int = 1 << 16) -> float:
    """Two-pass sum of squares in chunks: no array-sized temporary (fresh pages are slow)."""
    total = 0.0
    for start in range(0, len(values), chunk):
        deviation = values[start : start + chunk] - mean
        total += float(np.einsum("i,i->", deviation, deviation))  # not BLAS: see _samples
    return total


def _extreme(pick: Any, a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return float(pick(values)) if values else None


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)
