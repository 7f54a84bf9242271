"""A mergeable quantile sketch: exact up to ``max_exact`` values, bounded-error beyond.

Written here (no sketch library), because drift tests need a *deterministic* error bound they
can report next to a statistic, not a bound that holds with some probability.

How it works: ``levels[h]`` is a sorted array whose values each stand for ``2**h`` original
values. While the sketch holds at most ``max_exact`` values everything sits in level 0 with
weight 1 and the sketch is the exact sorted sample. Beyond that, a sorted run is summarised by
cutting it into consecutive blocks of ``w = 2**j`` values and keeping the middle value of each
block with weight ``w`` (a tail shorter than ``w`` is cut into power-of-two blocks). For any
``x`` only the one block that straddles ``x`` is miscounted, by at most ``w / 2`` values, so
the rank of ``x`` moves by at most ``w / 2``. The sketch adds these per-step bounds into
``rank_error``; merging adds the two bounds. Therefore, for every ``x``::

    |estimated rank(x) - true rank(x)| <= rank_error       (always, not "with high probability")

and ``error_bound = rank_error / n`` bounds the error of the empirical CDF. One summary of a
sorted column of ``n`` values uses ``w`` near ``n / k``, giving ``error_bound <= 1 / k``; each
later merge that has to compact level ``h`` adds ``2**h`` per halving. The sketch keeps at most
``k`` values per level, so at most ``k * (1 + log2(n / k))`` values in all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from driftline.exceptions import ValidationError

__all__ = ["QuantileSketch"]


class QuantileSketch:
    """Mergeable quantile summary with a deterministic rank-error bound.

    >>> import numpy as np
    >>> values = np.random.default_rng(0).normal(size=100_000)
    >>> sketch = QuantileSketch.from_values(values, k=1024, max_exact=5_000)
    >>> sketch.is_exact, sketch.n, sketch.size <= 1024 * 8
    (False, 100000, True)
    >>> bool(abs(sketch.cdf(0.0) - np.mean(values <= 0.0)) <= sketch.error_bound)
    True
    """

    __slots__ = ("_cum", "_items", "k", "levels", "max_exact", "n", "rank_error")

    def __init__(
        self,
        levels: list[np.ndarray],
        *,
        rank_error: float = 0.0,
        k: int = 2048,
        max_exact: int = 10_000,
    ) -> None:
        self.levels = levels
        self.rank_error = float(rank_error)
        self.k = int(k)
        self.max_exact = int(max_exact)
        self.n = int(sum(len(level) << h for h, level in enumerate(levels)))
        self._items: np.ndarray | None = None
        self._cum: np.ndarray | None = None

    @classmethod
    def from_values(cls, values: Any, *, k: int = 2048, max_exact: int = 10_000) -> QuantileSketch:
        """Sketch the finite values of ``values`` (NaN and infinities are left out)."""
        array = np.asarray(values, dtype=np.float64).ravel()
        return cls.from_sorted(np.sort(array[np.isfinite(array)]), k=k, max_exact=max_exact)

    @classmethod
    def from_sorted(
        cls, sorted_values: np.ndarray, *, k: int = 2048, max_exact: int = 10_000
    ) -> QuantileSketch:
        """Sketch values that are already sorted and finite (not checked, for speed)."""
        _check_params(k, max_exact)
        if len(sorted_values) <= max_exact:
            return cls([np.array(sorted_values, dtype=np.float64)], k=k, max_exact=max_exact)
        levels, error = _summarise_sorted(sorted_values, 0, k)
        return cls(levels, rank_error=error, k=k, max_exact=max_exact)

    @property
    def is_exact(self) -> bool:
        """True while the sketch is the exact sorted sample."""
        return self.rank_error == 0.0 and len(self.levels) <= 1

    @property
    def error_bound(self) -> float:
        """Upper bound on ``|estimated CDF(x) - true CDF(x)|`` for every x."""
        return self.rank_error / self.n if self.n else 0.0

    @property
    def size(self) -> int:
        """Number of values stored."""
        return sum(len(level) for level in self.levels)

    def weighted_items(self) -> tuple[np.ndarray, np.ndarray]:
        """Stored values sorted, with the cumulative weight up to and including each."""
        if self._items is None or self._cum is None:
            values = np.concatenate([np.empty(0), *self.levels])
            weights = np.concatenate(
                [np.empty(0)]
                + [np.full(len(lv), float(1 << h)) for h, lv in enumerate(self.levels)]
            )
            order = np.argsort(values, kind="stable")
            self._items, self._cum = values[order], np.cumsum(weights[order])
        return self._items, self._cum

    def rank(self, x: Any) -> np.ndarray:
        """Estimated number of values ``<= x`` (within ``rank_error``)."""
        items, cum = self.weighted_items()
        idx = np.searchsorted(items, np.asarray(x, dtype=np.float64), side="right")
        padded = np.concatenate([[0.0], cum])
        return padded[idx]

    def cdf(self, x: Any) -> Any:
        """Estimated share of values ``<= x`` (within ``error_bound``)."""
        if self.n == 0:
            raise ValidationError("the sketch is empty: it has no CDF")
        out = self.rank(x) / self.n
        return float(out) if np.ndim(out) == 0 else out

    def quantile(self, q: Any) -> Any:
        """Smallest stored value whose estimated CDF reaches ``q`` (inverted CDF)."""
        if self.n == 0:
            raise ValidationError("the sketch is empty: it has no quantiles")
        qs = np.asarray(q, dtype=np.float64)
        if np.any((qs < 0) | (qs > 1)):
            raise ValidationError(f"quantile levels must lie in [0, 1], got {q!r}")
        items, cum = self.weighted_items()
        # the relative slack absorbs rounding in q * n (0.3 * 10 = 3.0000000000000004)
        idx = np.searchsorted(cum, qs * self.n * (1 - 1e-12), side="left")
        out = items[np.minimum(idx, len(items) - 1)]
        return float(out) if np.ndim(out) == 0 else out

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        """A sketch of both inputs; error bounds add, compaction may add more."""
        if not isinstance(other, QuantileSketch):
            raise ValidationError(f"can only merge a QuantileSketch, got {type(other).__name__}")
        k, max_exact = min(self.k, other.k), min(self.max_exact, other.max_exact)
        depth = max(len(self.levels), len(other.levels))
        levels = []
        for h in range(depth):
            parts = [lv[h] for lv in (self.levels, other.levels) if h < len(lv)]
            levels.append(np.sort(np.concatenate(parts), kind="stable"))
        error = self.rank_error + other.rank_error
        n = self.n + other.n
        if error == 0.0 and depth <= 1 and n <= max_exact:
            return QuantileSketch(levels, k=k, max_exact=max_exact)
        levels, error = _compress(levels, error, k)
        return QuantileSketch(levels, rank_error=error, k=k, max_exact=max_exact)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "k": self.k,
            "max_exact": self.max_exact,
            "rank_error": self.rank_error,
            "levels": [level.tolist() for level in self.levels],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuantileSketch:
        """Inverse of :meth:`to_dict`."""
        try:
            levels = [np.asarray(level, dtype=np.float64) for level in data["levels"]]
            return cls(
                levels,
                rank_error=float(data["rank_error"]),
                k=int(data["k"]),
                max_exact=int(data["max_exact"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"not a serialised QuantileSketch: {exc}") from exc

    def __repr__(self) -> str:
        state = "exact" if self.is_exact else f"error_bound={self.error_bound:.2e}"
        return f"QuantileSketch(n={self.n}, size={self.size}, {state})"


def _check_params(k: int, max_exact: int) -> None:
    if k < 2:
        raise ValidationError(f"sketch size k must be at least 2, got {k}")
    if max_exact < 0:
        raise ValidationError(f"max_exact must be >= 0, got {max_exact}")


def _summarise_sorted(values: np.ndarray, level: int, k: int) -> tuple[list[np.ndarray], float]:
    """Blocks of ``w`` sorted values -> their middle value with weight ``w`` (see module doc)."""
    n = len(values)
    j = max(0, math.ceil(math.log2(n / k))) if n > k else 0
    w = 1 << j
    n_blocks = n // w
    levels: list[list[np.ndarray]] = [[] for _ in range(level + j + 1)]
    levels[level + j].append(values[w // 2 : n_blocks * w : w])
    start = n_blocks * w
    for b in range(j - 1, -1, -1):  # the tail, in power-of-two blocks from large to small
        size = 1 << b
        if (n - start) >= size:
            levels[level + b].append(values[start + size // 2 : start + size // 2 + 1])
            start += size
    out = [np.concatenate(parts) if parts else np.empty(0) for parts in levels]
    return out, float((w // 2) << level)


def _compress(levels: list[np.ndarray], error: float, k: int) -> tuple[list[np.ndarray], float]:
    """Summarise every level holding more than ``k`` values into the levels above it."""
    levels = list(levels)
    h = 0
    while h < len(levels):
        if len(levels[h]) > k:
            summary, added = _summarise_sorted(levels[h], h, k // 2)
            levels[h] = np.empty(0)
            while len(levels) < len(summary):
                levels.append(np.empty(0))
            for i in range(h, len(summary)):
                if len(summary[i]):
                    levels[i] = np.sort(np.concatenate([levels[i], summary[i]]), kind="stable")
            error += added
        h += 1
    while levels and len(levels[-1]) == 0 and len(levels) > 1:
        levels.pop()
    return levels, error
